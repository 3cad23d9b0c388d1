// The objective registry's engine half: how a task's predictions are scored. An objective computes the
// training loss (and the step metrics it declares), scores each evaluation split (per-position curves and
// figures, the model's and its baselines'), and applies its phase rule. Its names, labels and directions
// are declared in shared/objectives, which the views and the CLI read.
import type * as tf from '@tensorflow/tfjs';
import type { ObjectiveName } from '../../../shared/objectives/index.js';
import type { ObjectiveInfo } from '../../../shared/objectives/types.js';
import type { Phase } from '../../../shared/results.js';
import type { RunSpec } from '../../../shared/spec.js';
import type { BaselinePredictions, SequenceBatch, TaskSampler } from '../tasks/index.js';
import { columnMean, type PerSequence } from './bootstrap.js';
import { classificationObjective } from './classification.js';
import { regressionObjective } from './regression.js';

/**
 * One split's scores at one evaluation. `evidence` is what the objective's phase rule reads, per sequence, so that the
 * label's confidence can be measured by resampling the sequences (./bootstrap.ts).
 */
export interface SplitScore<E extends PerSequence> {
  /** Per-position curves by metric name: the model's at this step, the baselines' (stored once, at step 0). */
  curves: { metric: string; values: number[] }[];
  baselineCurves: { metric: string; values: number[] }[];
  /** Figures by name (recorded as eval/<split>/<name>). */
  figures: Record<string, number>;
  evidence: E;
}

export interface Objective<E extends PerSequence = PerSequence> {
  info: ObjectiveInfo;
  /**
   * The mean loss over every position of a batch of model outputs, and the step metrics `info.stepMetrics` names, in
   * order.
   */
  loss(out: tf.Tensor, batch: SequenceBatch, task: TaskSampler): { loss: tf.Scalar; stepMetrics: tf.Scalar[] };
  /**
   * Baselines the objective adds to the task's own on an evaluation batch (e.g. a learner trained on each sequence).
   */
  extraBaselines(task: TaskSampler, batch: SequenceBatch, spec: RunSpec): Promise<BaselinePredictions[]>;
  score(
    predictions: Float32Array,
    batch: SequenceBatch,
    task: TaskSampler,
    baselines: readonly BaselinePredictions[],
  ): SplitScore<E>;
  /**
   * The phase an evaluation shows, from the evidence of each split (no `seen` split where every task is fresh: then
   * `unseen` stands for the training distribution too).
   */
  phase(evidence: ReadonlyMap<string, E>, task: TaskSampler): Phase;
}

/** Objectives of sequence tasks; RL runs are scored by ../rl (evaluate.ts, phase.ts). */
export const ENGINE_OBJECTIVES: { [N in Exclude<ObjectiveName, 'rl'>]: Objective } = {
  classification: classificationObjective,
  regression: regressionObjective,
};

export function objectiveFor(task: Pick<TaskSampler, 'objective'>): Objective {
  if (task.objective === 'rl') throw new Error('RL runs are scored by the RL evaluation (main/engine/rl)');
  return ENGINE_OBJECTIVES[task.objective];
}

export interface Quarters {
  early: number;
  late: number;
}

/** Positions in a quarter of a sequence of `length` (at least one). */
const quarterLength = (length: number) => Math.max(1, Math.floor(length / 4));

/** Mean of the first and the last quarter of a per-position curve (at least one position each). */
export function quarters(curve: readonly number[]): Quarters {
  const n = quarterLength(curve.length);
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { early: mean(curve.slice(0, n)), late: mean(curve.slice(-n)) };
}

/**
 * Per sequence of a batch, the mean of `values` ([batch * seqLen], position by position) over its first and its last
 * quarter: their means over the batch are `quarters` of the batch's mean curve.
 */
export function sequenceQuarters(
  values: ArrayLike<number>,
  batch: number,
  seqLen: number,
): { early: Float64Array; late: Float64Array } {
  const n = quarterLength(seqLen);
  const early = new Float64Array(batch);
  const late = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < n; t++) {
      early[b] += values[b * seqLen + t] / n;
      late[b] += values[(b + 1) * seqLen - n + t] / n;
    }
  }
  return { early, late };
}

/** The quarters of the mean curve, from per-sequence quarters. */
export function meanQuarters(e: { early: Float64Array; late: Float64Array }): Quarters {
  return { early: columnMean(e.early), late: columnMean(e.late) };
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
