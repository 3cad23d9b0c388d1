// Regression: squared error at every position; distances to the closed-form baselines (ridge, dMMSE) the
// task family computes; the phase rule of Raventós et al.'s task-diversity threshold.
import * as tf from '@tensorflow/tfjs';
import { SPLITS } from '../../../shared/objectives/index.js';
import { regression as info } from '../../../shared/objectives/regression.js';
import type { Phase } from '../../../shared/results.js';
import { mean, quarters, type Objective } from './index.js';

/** Thresholds of the regression phase rule. */
export const REGRESSION_RULES = {
  /** A relative fall of the MSE (early to late) of at least this much counts as learning in context. */
  minRelativeMseFall: 0.1,
  /** A late MSE at most this fraction of the zero predictor's counts as fitting the tasks. */
  fitFraction: 0.5,
} as const;

const [ridge, dmmse] = info.baselines;

/** MSE: (early - late) / early. Positive when the error falls along the sequence. */
export function mseImprovement(curve: readonly number[]): number {
  const { early, late } = quarters(curve);
  return early > 0 ? (early - late) / early : 0;
}

/** Per-position mean squared error of predictions against targets. */
export function mseCurve(predictions: Float32Array, targets: Float32Array, batch: number, seqLen: number): number[] {
  const mse = new Array<number>(seqLen).fill(0);
  for (let i = 0; i < batch * seqLen; i++) mse[i % seqLen] += (predictions[i] - targets[i]) ** 2;
  return mse.map((v) => v / batch);
}

function meanSquaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

export interface RegressionEvidence {
  /** Per-position MSE curves of the model. */
  seen: number[];
  unseen: number[];
  /** MSE of always predicting 0 on seen tasks (E[y^2]). */
  zeroMse: number;
  /** Mean squared distance of the model's predictions on unseen tasks to ridge's and dMMSE's (null: no dMMSE). */
  distanceToRidge: number;
  distanceToDmmse: number | null;
}

/**
 * Regression (Raventós et al.: below the task-diversity threshold the model follows dMMSE, above it ridge):
 * 1. the unseen-task MSE falls within the sequence (>= minRelativeMseFall) and the predictions are closer to
 *    ridge's than to dMMSE's -> general learning-to-learn;
 * 2. the seen-task MSE falls within the sequence -> task identification (it identifies the pool's task);
 * 3. the seen-task MSE is low (<= fitFraction of the zero predictor's) without falling -> memorization;
 * 4. otherwise -> not learning yet.
 */
export function classifyRegression(e: RegressionEvidence): Phase {
  const r = REGRESSION_RULES;
  const closerToRidge = e.distanceToDmmse === null || e.distanceToRidge < e.distanceToDmmse;
  if (mseImprovement(e.unseen) >= r.minRelativeMseFall && closerToRidge) return 'general learning-to-learn';
  if (mseImprovement(e.seen) >= r.minRelativeMseFall) return 'task identification';
  if (quarters(e.seen).late <= r.fitFraction * e.zeroMse) return 'memorization';
  return 'not learning yet';
}

/** One split's evidence: the model's MSE curve, E[y^2] of its targets, and the distance to each baseline. */
interface SplitEvidence {
  mse: number[];
  zeroMse: number;
  distances: Map<string, number>;
}

export const regressionObjective: Objective<SplitEvidence> = {
  info,
  loss(out, b, task) {
    const predictions = out.reshape([b.batch, task.seqLen]);
    return {
      loss: tf.mean(tf.square(tf.sub(predictions, tf.tensor2d(b.targets, [b.batch, task.seqLen])))) as tf.Scalar,
      stepMetrics: [],
    };
  },
  extraBaselines: async () => [],
  score(predictions, batch, task, baselines) {
    const mse = mseCurve(predictions, batch.targets, batch.batch, task.seqLen);
    const figures: Record<string, number> = {
      [info.figures.last.name]: mse[mse.length - 1],
      [info.figures.mean.name]: mean(mse),
      [info.figures.improvement.name]: mseImprovement(mse),
    };
    const distances = new Map<string, number>();
    const baselineCurves = baselines.map((baseline) => {
      const b = mseCurve(baseline.predictions, batch.targets, batch.batch, task.seqLen);
      const names = info.baselineFigures(baseline.name);
      figures[names.last.name] = b[b.length - 1];
      const distance = meanSquaredDistance(predictions, baseline.predictions);
      figures[names.distance.name] = distance;
      distances.set(baseline.name, distance);
      return { metric: info.baselineCurve(baseline.name), values: b };
    });
    const zeroMse = batch.targets.reduce((a, y) => a + y * y, 0) / batch.targets.length;
    return {
      curves: [{ metric: info.curve.name, values: mse }],
      baselineCurves,
      figures,
      evidence: { mse, zeroMse, distances },
    };
  },
  phase(evidence) {
    const seen = evidence.get(SPLITS.seen)!;
    const unseen = evidence.get(SPLITS.unseen)!;
    return classifyRegression({
      seen: seen.mse,
      unseen: unseen.mse,
      zeroMse: seen.zeroMse,
      distanceToRidge: unseen.distances.get(ridge.name)!,
      distanceToDmmse: unseen.distances.get(dmmse.name) ?? null,
    });
  },
};
