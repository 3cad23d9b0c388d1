// Regression: squared error at every position; distances to the closed-form baselines (ridge, dMMSE) the
// task family computes; the phase rule of Raventós et al.'s task-diversity threshold.
import * as tf from '@tensorflow/tfjs';
import { SPLITS } from '../../../shared/objectives/index.js';
import { regression as info } from '../../../shared/objectives/regression.js';
import type { Phase } from '../../../shared/results.js';
import { columnMean, type PerSequence } from './bootstrap.js';
import { mean, meanQuarters, quarters, sequenceQuarters, type Objective, type Quarters } from './index.js';

/** Thresholds of the regression phase rule. */
export const REGRESSION_RULES = {
  /** A relative fall of the MSE (early to late) of at least this much counts as learning in context. */
  minRelativeMseFall: 0.1,
  /** A late MSE at most this fraction of the zero predictor's counts as fitting the tasks. */
  fitFraction: 0.5,
} as const;

const [ridge, dmmse] = info.baselines;

/** The relative fall of the MSE, (early - late) / early: positive when the error falls along the sequence. */
const relativeFall = ({ early, late }: Quarters) => (early > 0 ? (early - late) / early : 0);

/** MSE: (early - late) / early. Positive when the error falls along the sequence. */
export function mseImprovement(curve: readonly number[]): number {
  return relativeFall(quarters(curve));
}

/** Squared differences, position by position. */
function squaredErrors(a: Float32Array, b: Float32Array): Float64Array {
  return Float64Array.from(a, (v, i) => (v - b[i]) ** 2);
}

/** Per-position mean squared error of predictions against targets. */
export function mseCurve(predictions: Float32Array, targets: Float32Array, batch: number, seqLen: number): number[] {
  const mse = new Array<number>(seqLen).fill(0);
  for (let i = 0; i < batch * seqLen; i++) mse[i % seqLen] += (predictions[i] - targets[i]) ** 2;
  return mse.map((v) => v / batch);
}

/** Per sequence, the mean of `values` ([batch * seqLen]) over its positions. */
function sequenceMeans(values: ArrayLike<number>, batch: number, seqLen: number): Float64Array {
  const out = new Float64Array(batch);
  for (let i = 0; i < batch * seqLen; i++) out[Math.floor(i / seqLen)] += values[i] / seqLen;
  return out;
}

/** What the rule compares. */
export interface RegressionEvidence {
  /** The model's MSE over the first and the last quarter of positions. */
  seen: Quarters;
  unseen: Quarters;
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
  if (relativeFall(e.unseen) >= r.minRelativeMseFall && closerToRidge) return 'general learning-to-learn';
  if (relativeFall(e.seen) >= r.minRelativeMseFall) return 'task identification';
  if (e.seen.late <= r.fitFraction * e.zeroMse) return 'memorization';
  return 'not learning yet';
}

/**
 * One split's evidence, per sequence: the model's MSE over the first and the last quarter of positions, the mean of
 * y^2 over its targets, and the mean squared distance of its predictions to ridge's and to dMMSE's (null: no dMMSE).
 */
interface SplitEvidence extends PerSequence {
  early: Float64Array;
  late: Float64Array;
  zero: Float64Array;
  toRidge: Float64Array;
  toDmmse: Float64Array | null;
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
    const { seqLen } = task;
    const mse = mseCurve(predictions, batch.targets, batch.batch, seqLen);
    const figures: Record<string, number> = {
      [info.figures.last.name]: mse[mse.length - 1],
      [info.figures.mean.name]: mean(mse),
      [info.figures.improvement.name]: mseImprovement(mse),
    };
    const distances = new Map<string, Float64Array>();
    const baselineCurves = baselines.map((baseline) => {
      const b = mseCurve(baseline.predictions, batch.targets, batch.batch, seqLen);
      const names = info.baselineFigures(baseline.name);
      figures[names.last.name] = b[b.length - 1];
      const distance = sequenceMeans(squaredErrors(predictions, baseline.predictions), batch.batch, seqLen);
      figures[names.distance.name] = columnMean(distance);
      distances.set(baseline.name, distance);
      return { metric: info.baselineCurve(baseline.name), values: b };
    });
    return {
      curves: [{ metric: info.curve.name, values: mse }],
      baselineCurves,
      figures,
      evidence: {
        ...sequenceQuarters(squaredErrors(predictions, batch.targets), batch.batch, seqLen),
        zero: sequenceMeans(
          Float64Array.from(batch.targets, (y) => y * y),
          batch.batch,
          seqLen,
        ),
        toRidge: distances.get(ridge.name)!,
        toDmmse: distances.get(dmmse.name) ?? null,
      },
    };
  },
  phase(evidence) {
    const unseen = evidence.get(SPLITS.unseen)!;
    const seen = evidence.get(SPLITS.seen) ?? unseen;
    return classifyRegression({
      seen: meanQuarters(seen),
      unseen: meanQuarters(unseen),
      zeroMse: columnMean(seen.zero),
      distanceToRidge: columnMean(unseen.toRidge),
      distanceToDmmse: unseen.toDmmse && columnMean(unseen.toDmmse),
    });
  },
};
