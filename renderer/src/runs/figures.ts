// The key figures the runs table shows and sorts by: the phase and the last-position score on unseen tasks
// (accuracy, or MSE for regression), from a finished run's summary or else from its latest evaluation.
import { RUN_STATUSES, type Run } from '../../../shared/api';
import { PHASE_LABELS, PHASE_METRIC, evalMetricKey } from '../../../shared/metrics';
import { compareSweepValues, phaseIndex } from '../../../shared/figures/data';
import { figureOf } from '../../../shared/figures/phases';

export const UNSEEN_ACC = evalMetricKey('unseen', 'last_acc');
export const UNSEEN_MSE = evalMetricKey('unseen', 'last_mse');
export const FIGURE_KEYS = [PHASE_METRIC, UNSEEN_ACC, UNSEEN_MSE];

/** Latest evaluation values per run, by metric key. */
export type Latest = Record<number, Record<string, number | null>>;

export interface Figures {
  phase: string | null;
  unseen: { metric: 'acc' | 'mse'; value: number } | null;
}

export function figuresOf(run: Run, latest: Latest): Figures {
  const summary = run.summary ?? {};
  const live = latest[run.id] ?? {};
  const livePhase = live[PHASE_METRIC];
  const phase = typeof summary.phase === 'string' ? summary.phase : typeof livePhase === 'number' ? (PHASE_LABELS[livePhase] ?? null) : null;
  const number = (key: string) => {
    const v = summary[key] ?? live[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  };
  const acc = number(UNSEEN_ACC);
  const mse = number(UNSEEN_MSE);
  return { phase, unseen: acc !== null ? { metric: 'acc', value: acc } : mse !== null ? { metric: 'mse', value: mse } : null };
}

export type SortKey = 'id' | 'point' | 'status' | 'progress' | 'backend' | 'phase' | 'unseen' | 'loss';

type Value = number | string | (number | string)[] | null;

function sortValue(run: Run, key: SortKey, latest: Latest): Value {
  switch (key) {
    case 'id':
      return run.id;
    case 'point':
      return Object.values(run.sweepPoint);
    case 'status':
      return RUN_STATUSES.indexOf(run.status);
    case 'progress':
      return run.totalSteps ? run.step / run.totalSteps : 0;
    case 'backend':
      return run.backend;
    case 'phase': {
      const phase = figuresOf(run, latest).phase;
      return phase === null ? null : phaseIndex(phase);
    }
    case 'unseen':
      return figuresOf(run, latest).unseen?.value ?? null;
    case 'loss':
      return figureOf(run, 'final_loss');
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
