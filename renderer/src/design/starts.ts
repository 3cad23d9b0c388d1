// Specs the designer can start from: the paper presets (presets/*.json) and the small examples (examples/*.json),
// bundled into the page at build time, and an empty spec of each task family (its defaults, nothing of a preset).
import { taskSpec } from '../../../shared/spec';

export interface Start {
  /** The file's base name: what `?preset=` and the "Start from" list use. */
  id: string;
  group: 'Empty' | 'Paper presets' | 'Examples';
  label: string;
  description: string;
  spec: Record<string, unknown>;
}

const presets = import.meta.glob<Record<string, unknown>>('../../../presets/*.json', {
  eager: true,
  import: 'default',
});
const examples = import.meta.glob<Record<string, unknown>>('../../../examples/*.json', {
  eager: true,
  import: 'default',
});

function list(files: Record<string, Record<string, unknown>>, group: Start['group']): Start[] {
  return Object.entries(files)
    .map(([file, spec]) => {
      const id = file
        .split('/')
        .pop()!
        .replace(/\.json$/, '');
      const name = typeof spec.name === 'string' ? spec.name : id;
      return {
        id,
        group,
        label: group === 'Examples' ? id : name,
        description: typeof spec.description === 'string' ? spec.description : name,
        spec,
      };
    })
    .sort((a, b) => a.label.localeCompare(b.label));
}

/** Task families and the model each empty spec starts with (an RL policy is an MLP, a sequence model a Transformer). */
const EMPTY: Start[] = taskSpec.options.map((option) => {
  const family = option.shape.family.value;
  return {
    id: `empty-${family}`,
    group: 'Empty',
    label: `empty ${family} spec`,
    description: `The defaults of a ${family} experiment: no name, description or tags of a preset`,
    spec: { name: 'untitled', task: { family }, model: { kind: family === 'rl' ? 'mlp' : 'transformer' } },
  };
});

export const STARTS: Start[] = [...EMPTY, ...list(presets, 'Paper presets'), ...list(examples, 'Examples')];

/** What a first visit to the designer shows: the flagship experiment, the GPICL phase transition. */
export const DEFAULT_START = 'gpicl-phase-transition';

/** The hand-designed spec a meta-test of a learned objective starts from (its agent settings and budget). */
export const META_TEST_BASE = 'td3-pendulum';
