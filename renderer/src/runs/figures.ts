// The key figures the runs table shows and sorts by: the phase and the last-position score on unseen tasks
// (accuracy, or MSE for regression), from a finished run's summary or else from its latest evaluation; and the
// sort by any column, the user's own (./columns.ts) included.
import { RUN_STATUSES, type Run } from '../../../shared/api';
import { compareSweepValues, phaseIndex, phaseText } from '../../../shared/figures/data';
import { runSeconds } from '../../../shared/figures/format';
import { figureOf } from '../../../shared/figures/phases';
import { RUN_FIGURES, TRAINING_METRICS, evalMetricKey } from '../../../shared/metrics';
import { OBJECTIVES, SPLITS, objectiveOf } from '../../../shared/objectives';
import { phaseFromCode, phaseUncertain, type Phase } from '../../../shared/results';
import { columnValue, isColumnId, type ColumnId } from './columns';

/** The key figure on unseen tasks: each objective's score at the last position. */
const unseenKey = (run: Run) => evalMetricKey(SPLITS.unseen, objectiveOf(run.spec.task).figures.last.name);

/** What the table reads of runs still training: the phase and every objective's key figure. */
export const FIGURE_KEYS = [
  TRAINING_METRICS.phase.key,
  TRAINING_METRICS.phaseConfidence.key,
  ...Object.values(OBJECTIVES).map((o) => evalMetricKey(SPLITS.unseen, o.figures.last.name)),
];

/** Latest evaluation values per run, by metric key. */
export type Latest = Record<number, Record<string, number | null>>;

export interface Figures {
  phase: Phase | null;
  /** The phase in words, with its uncertainty where it is within noise (the cell's tooltip). */
  phaseText: string | null;
  /** The phase as its cell shows it: the label, with '?' where it is within noise. */
  phaseCell: string | null;
  /** The key figure's short name (acc, mse) and value. */
  unseen: { metric: string; value: number } | null;
}

export function figuresOf(run: Run, latest: Latest): Figures {
  const live = latest[run.id] ?? {};
  const phase = run.summary ? run.summary.phase : phaseFromCode(live[TRAINING_METRICS.phase.key]);
  const confidence = run.summary ? run.summary.phaseConfidence : live[TRAINING_METRICS.phaseConfidence.key];
  const key = unseenKey(run);
  const value = run.summary ? figureOf(run, key) : (live[key] ?? null);
  const metric = objectiveOf(run.spec.task).curve.name;
  return {
    phase,
    phaseText: phase && phaseText(phase, confidence),
    phaseCell: phase && `${phase}${phaseUncertain(confidence) ? '?' : ''}`,
    unseen: value !== null && Number.isFinite(value) ? { metric, value } : null,
  };
}

/** The built-in columns' sort keys; custom columns sort by their ColumnId. */
export const SORT_KEYS = [
  'id',
  'point',
  'status',
  'progress',
  'started',
  'duration',
  'backend',
  'phase',
  'unseen',
  'loss',
] as const;
export type SortKey = ColumnId | (typeof SORT_KEYS)[number];

type Value = number | string | (number | string)[] | null;

function sortValue(run: Run, key: SortKey, latest: Latest): Value {
  if (isColumnId(key)) {
    const v = columnValue(run, key, latest);
    return typeof v === 'boolean' ? String(v) : v;
  }
  switch (key) {
    case 'id':
      return run.id;
    case 'point':
      return Object.values(run.sweepPoint);
    case 'status':
      return RUN_STATUSES.indexOf(run.status);
    case 'progress':
      return run.totalSteps ? run.step / run.totalSteps : 0;
    case 'started':
      return run.startedAt;
    case 'duration':
      return runSeconds(run, Date.now());
    case 'backend':
      return run.backend;
    case 'phase': {
      const phase = figuresOf(run, latest).phase;
      return phase === null ? null : phaseIndex(phase);
    }
    case 'unseen':
      return figuresOf(run, latest).unseen?.value ?? null;
    case 'loss':
      return figureOf(run, RUN_FIGURES.finalLoss.key);
  }
}

/** Numbers before names (a number of tasks before 'fresh'); lists element by element. */
function compareValues(a: Value, b: Value): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i], b[i]);
      if (c) return c;
    }
    return a.length - b.length;
  }
  // A sort key gives every run a list or every run a plain value, and sortRuns leaves out nulls.
  return compareSweepValues(a as number | string, b as number | string);
}

/** Sorts runs by a column; runs without a value go last in either direction. */
export function sortRuns(runs: Run[], key: SortKey, descending: boolean, latest: Latest): Run[] {
  return [...runs].sort((x, y) => {
    const a = sortValue(x, key, latest);
    const b = sortValue(y, key, latest);
    if (a === null || b === null) return a === b ? x.id - y.id : a === null ? 1 : -1;
    return (descending ? -1 : 1) * compareValues(a, b) || x.id - y.id;
  });
}
