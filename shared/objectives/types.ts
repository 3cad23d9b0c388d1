// What an objective declares about the numbers it records: names, labels, units, directions, descriptions.
// Its computation (loss, evaluation, phase rule) is in main/engine/objectives.
import type { MetricInfo } from '../metrics.js';
import type { TaskSpec } from '../spec.js';

/** A figure recorded per evaluation split, under `eval/<split>/<name>` (or a per-position curve's metric). */
export interface FigureInfo extends Omit<MetricInfo, 'key'> {
  name: string;
}

export interface BaselineInfo {
  name: string;
  label: string;
  description: string;
}

export interface ObjectiveInfo {
  name: string;
  label: string;
  description: string;
  /** Metrics its training loss records at every step, besides the training loop's. */
  stepMetrics: readonly MetricInfo[];
  /** The model's per-position curve at each evaluation (the in-context learning curve). */
  curve: FigureInfo;
  /** What the curve is called in figures, and its x axis for a task (a position, an episode of a lifetime). */
  curveTitle: string;
  positionName(task: TaskSpec): string;
  /**
   * The curve's value for a learner that guesses (a chance line on it), for a task; absent where there is none to
   * draw (regression's baselines are learners; RL records the random policy's own curve).
   */
  chance?(task: TaskSpec): number | null;
  /** Further per-position curves recorded beside it. */
  extraCurves: readonly FigureInfo[];
  /** Figures recorded per split at each evaluation; `last` and `improvement` are the headline ones. */
  figures: { last: FigureInfo; mean: FigureInfo; improvement: FigureInfo; others: readonly FigureInfo[] };
  /** Learners it compares the model with on the same sequences. */
  baselines: readonly BaselineInfo[];
  /** A baseline's per-position curve (stored once, at step 0). */
  baselineCurve(baseline: string): string;
  /**
   * Figures recorded per split for a baseline; `distance` (of the model's predictions to the baseline's) where defined.
   */
  baselineFigures(baseline: string): { last: FigureInfo; improvement?: FigureInfo; distance?: FigureInfo };
}

export const figure = (
  name: string,
  label: string,
  direction: FigureInfo['direction'],
  description: string,
  unit: string | null = null,
): FigureInfo => ({ name, label, unit, direction, description });
