// The cluster profile's form, generated from its schema (shared/cluster.ts): each field's kind, default, range and
// description, the text its input shows, and the value that text gives back; and the profile in one line.
import { z } from 'zod';
import { clusterProfile, type ClusterProfile } from '../../../shared/cluster';
import { parseNumber } from '../design/inputs';
import { rangeOf, titleOf, type JsonSchema } from '../design/schema';

export type ProfileKey = keyof ClusterProfile;

export interface ProfileField {
  key: ProfileKey;
  label: string;
  kind: 'text' | 'number' | 'boolean' | 'lines';
  description: string;
  /** What an empty input means: the default of a number, what the description says empty text stands for. */
  placeholder: string;
  range: string;
}

const schema = z.toJSONSchema(clusterProfile, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

/** Labels where the field's name reads badly as words; the others are its name as words. */
const LABELS: Partial<Record<ProfileKey, string>> = {
  qos: 'QOS',
  cpus: 'CPUs',
  gpus: 'GPUs (gres)',
  resubmitOnTimeout: 'Resubmit on timeout',
  extraSbatch: 'More #SBATCH',
  setup: 'Setup lines',
  node: 'Node program',
};

const kindOf = (s: JsonSchema): ProfileField['kind'] =>
  s.type === 'boolean' ? 'boolean' : s.type === 'array' ? 'lines' : s.type === 'integer' ? 'number' : 'text';

/** An empty number takes its default; empty text is sent as it is, and means what its description says. */
function placeholderOf(s: JsonSchema): string {
  const kind = kindOf(s);
  if (kind === 'lines') return 'one per line';
  if (kind === 'number') return String(s.default ?? '');
  return /\(empty: ([^)]*)\)/.exec(s.description ?? '')?.[1] ?? '';
}

export const PROFILE_FIELDS: ProfileField[] = Object.entries(schema.properties ?? {}).map(([key, s]) => ({
  key: key as ProfileKey,
  label: LABELS[key as ProfileKey] ?? titleOf(key, s),
  kind: kindOf(s),
  description: s.description ?? '',
  placeholder: placeholderOf(s),
  range: rangeOf(s),
}));

/** The form's sections; a field the schema gains later shows in the last. */
const SECTIONS: { title: string; keys: ProfileKey[] }[] = [
  { title: 'Each run asks for', keys: ['partition', 'account', 'qos', 'timeLimit', 'cpus', 'memory', 'gpus'] },
  { title: 'Scheduling', keys: ['throttle', 'resubmitOnTimeout'] },
  { title: 'Job script', keys: ['extraSbatch', 'setup', 'node'] },
];

export const PROFILE_SECTIONS = SECTIONS.map((section, i) => ({
  title: section.title,
  fields: PROFILE_FIELDS.filter((f) =>
    i === SECTIONS.length - 1
      ? !SECTIONS.slice(0, -1).some((s) => s.keys.includes(f.key))
      : section.keys.includes(f.key),
  ),
}));

/** What the form's inputs hold: text (lists one entry a line), or a checkbox's state. */
export type ProfileDraft = Record<string, string | boolean>;

export function draftOf(profile: ClusterProfile): ProfileDraft {
  return Object.fromEntries(
    PROFILE_FIELDS.map(({ key, kind }) => {
      const v = profile[key];
      return [key, kind === 'boolean' ? v === true : Array.isArray(v) ? v.join('\n') : String(v ?? '')];
    }),
  );
}

/**
 * The profile the draft describes. Text that is not a number where one belongs goes as it is, so that the lab's
 * refusal names the field; empty lines of a list are dropped.
 */
export function profileOf(draft: ProfileDraft): ClusterProfile {
  return Object.fromEntries(
    PROFILE_FIELDS.map(({ key, kind }) => {
      const v = draft[key];
      if (kind === 'boolean' || typeof v === 'boolean') return [key, v];
      if (kind === 'number') return [key, parseNumber(v)];
      if (kind === 'lines') return [key, v.split(/\r?\n/).flatMap((line) => (line.trim() ? [line.trim()] : []))];
      return [key, v];
    }),
  ) as ClusterProfile;
}

/** A lab's refusal of a profile (`setClusterProfile: argument 1 (profile) field throttle: …`) at its field. */
export function fieldError(message: string): { key: ProfileKey; text: string } | null {
  const m = /\bfield ((\w+)\S*): (.*)$/s.exec(message);
  const field = m && PROFILE_FIELDS.find((f) => f.key === m[2]);
  return field ? { key: field.key, text: `${m[1]}: ${m[3]}` } : null;
}

/** A SLURM time as read: minutes alone get their unit. */
const timeText = (t: string) => (/^\d+$/.test(t) ? `${t} min` : t);

/** `partition main · 2 at a time · 1 CPU · memory 4G · no GPU · 4:00:00 per run`. */
export function profileSummary(p: ClusterProfile): string {
  return [
    p.partition ? `partition ${p.partition}` : 'default partition',
    p.throttle ? `${p.throttle} at a time` : 'all at once',
    `${p.cpus} CPU${p.cpus === 1 ? '' : 's'}`,
    p.memory ? `memory ${p.memory}` : "the partition's memory",
    p.gpus ? `gres ${p.gpus}` : 'no GPU',
    `${timeText(p.timeLimit)} per run`,
  ].join(' · ');
}
