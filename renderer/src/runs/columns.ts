// Columns the user adds to the runs table: any spec field (a dotted path), summary figure, or where the run trains
// and what SLURM says of it, kept in this browser's storage across reloads.
import type { Run } from '../../../shared/api';
import { flatten, type Leaf } from '../../../shared/figures/data';
import { formatNumber } from '../../../shared/figures/format';
import { isEvalKey } from '../../../shared/metrics';
import { metricInfo } from '../../../shared/objectives';
import { RUN_FIELDS } from '../../../shared/query';
import type { Latest } from './figures';
import { readStored, writeStored } from '../storage';

/** Fields of the run itself a column can show (SLURM's word on a run shows under its status). */
const RUN_COLUMNS = {
  executor: { label: 'Runs on', title: RUN_FIELDS.executor.description, value: (run: Run): Leaf => run.executor },
  job: {
    label: 'SLURM job',
    title: "the run's SLURM job: the array job and the run's task in it (1234_5)",
    value: (run: Run): Leaf => run.slurm?.job ?? null,
  },
};
type RunColumn = keyof typeof RUN_COLUMNS;

/** A spec path (`spec:task.numTasks`), a summary figure (`figure:final_loss`) or a run field (`run:executor`). */
export type ColumnId = `spec:${string}` | `figure:${string}` | `run:${RunColumn}`;

export interface Column {
  id: ColumnId;
  /** The spec path or figure key. */
  key: string;
  label: string;
  title: string;
  numeric: boolean;
}

const SPEC = 'spec:';
const FIGURE = 'figure:';
const RUN = 'run:';

const runColumn = (id: string): RunColumn | null => {
  const key = id.slice(RUN.length);
  return id.startsWith(RUN) && Object.hasOwn(RUN_COLUMNS, key) ? (key as RunColumn) : null;
};

export const isColumnId = (key: string): key is ColumnId =>
  key.startsWith(SPEC) || key.startsWith(FIGURE) || runColumn(key) !== null;

export function column(id: ColumnId): Column {
  const field = runColumn(id);
  if (field) {
    const { label, title } = RUN_COLUMNS[field];
    return { id, key: field, label, title, numeric: false };
  }
  if (id.startsWith(SPEC)) {
    const path = id.slice(SPEC.length);
    return { id, key: path, label: path, title: `spec field ${path}`, numeric: false };
  }
  const key = id.slice(FIGURE.length);
  const info = metricInfo(key);
  const title = info ? `${key}: ${info.description}` : `summary figure ${key}`;
  return { id, key, label: info?.label ?? key, title, numeric: true };
}

const flatSpecs = new WeakMap<Run, Record<string, Leaf>>();

/** A run's spec as dotted paths, flattened once per run object. */
function flatSpec(run: Run): Record<string, Leaf> {
  const cached = flatSpecs.get(run);
  if (cached) return cached;
  const flat = flatten(run.spec);
  flatSpecs.set(run, flat);
  return flat;
}

/** A run's value in a column: a figure from its summary, or (still training) from its latest evaluation. */
export function columnValue(run: Run, id: ColumnId, latest: Latest): Leaf {
  const field = runColumn(id);
  if (field) return RUN_COLUMNS[field].value(run);
  if (id.startsWith(SPEC)) return flatSpec(run)[id.slice(SPEC.length)] ?? null;
  const key = id.slice(FIGURE.length);
  return (run.summary ? run.summary.figures[key] : latest[run.id]?.[key]) ?? null;
}

export function formatColumnValue(v: Leaf): string {
  return typeof v === 'number' ? formatNumber(v, 4) : v === null ? '–' : String(v);
}

/** The columns the runs offer: the run's own fields, their spec paths, then their summary figures, each sorted. */
export function columnChoices(runs: readonly Run[]): { run: Column[]; spec: Column[]; figures: Column[] } {
  const paths = new Set<string>();
  const figures = new Set<string>();
  for (const run of runs) {
    for (const p of Object.keys(flatSpec(run))) paths.add(p);
    for (const k of Object.keys(run.summary?.figures ?? {})) figures.add(k);
  }
  return {
    run: Object.keys(RUN_COLUMNS).map((k) => column(`${RUN}${k as RunColumn}`)),
    spec: [...paths].sort().map((p) => column(`${SPEC}${p}`)),
    figures: [...figures].sort().map((k) => column(`${FIGURE}${k}`)),
  };
}

/** Evaluation figures among the columns: those a run still training has in its latest evaluation. */
export function liveKeys(ids: readonly ColumnId[]): string[] {
  return ids
    .filter((id) => id.startsWith(FIGURE))
    .map((id) => id.slice(FIGURE.length))
    .filter(isEvalKey);
}

const STORAGE_KEY = 'metalab.runsColumns';

/** The columns saved in this browser (none where storage is refused or holds something else). */
export function loadColumns(): ColumnId[] {
  const saved = readStored(STORAGE_KEY);
  return Array.isArray(saved) ? saved.filter((c): c is ColumnId => typeof c === 'string' && isColumnId(c)) : [];
}

export function saveColumns(ids: readonly ColumnId[]): void {
  writeStored(STORAGE_KEY, ids);
}
