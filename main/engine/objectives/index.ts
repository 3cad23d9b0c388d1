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
import { classificationObjective } from './classification.js';
import { regressionObjective } from './regression.js';

/** One split's scores at one evaluation. `evidence` is what the objective's phase rule reads. */
export interface SplitScore<E> {
  /** Per-position curves by metric name: the model's at this step, the baselines' (stored once, at step 0). */
  curves: { metric: string; values: number[] }[];
  baselineCurves: { metric: string; values: number[] }[];
  /** Figures by name (recorded as eval/<split>/<name>). */
  figures: Record<string, number>;
  evidence: E;
}

export interface Objective<E = unknown> {
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
  /** The phase an evaluation shows, from the evidence of each split. */
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

/** Mean of the first and the last quarter of a per-position curve (at least one position each). */
export function quarters(curve: readonly number[]): { early: number; late: number } {
  const n = Math.max(1, Math.floor(curve.length / 4));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { early: mean(curve.slice(0, n)), late: mean(curve.slice(-n)) };
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
