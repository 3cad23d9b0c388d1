// Classification: softmax cross-entropy and accuracy at every position; the learner baseline; the phase rule
// over the accuracy curves of seen and unseen tasks.
import * as tf from '@tensorflow/tfjs';
import { SPLITS } from '../../../shared/objectives/index.js';
import { classification as info } from '../../../shared/objectives/classification.js';
import type { Phase } from '../../../shared/results.js';
import { learnerPredictions } from '../baselines/learner.js';
import { softmaxCrossEntropy } from '../models/ops.js';
import type { PerSequence } from './bootstrap.js';
import { mean, meanQuarters, quarters, sequenceQuarters, type Objective, type Quarters } from './index.js';

/** Thresholds of the classification phase rule. */
export const CLASSIFICATION_RULES = {
  /** An improvement of at least this much accuracy (late minus early) counts as learning in context. */
  minAccuracyGain: 0.05,
  /** Accuracy at least this far above chance counts as better than guessing. */
  aboveChance: 0.05,
} as const;

/** Accuracy: late minus early. Positive when the model gets better along the sequence. */
export function accuracyImprovement(curve: readonly number[]): number {
  const { early, late } = quarters(curve);
  return late - early;
}

/** What the rule compares: accuracy over the first and the last quarter of positions, on seen and unseen tasks. */
export interface ClassificationEvidence {
  chance: number;
  seen: Quarters;
  unseen: Quarters;
}

/**
 * Classification (accuracy of seen and unseen tasks early and late in the sequence), in order:
 * 1. unseen tasks improve within the sequence (>= minAccuracyGain) and end above chance -> general learning-to-learn;
 * 2. seen tasks improve within the sequence -> task identification (it learned the pool's tasks, not learning);
 * 3. seen tasks are solved above chance from the start, without improvement -> memorization;
 * 4. otherwise -> not learning yet.
 */
export function classifyClassification(e: ClassificationEvidence): Phase {
  const r = CLASSIFICATION_RULES;
  const { seen, unseen } = e;
  if (unseen.late - unseen.early >= r.minAccuracyGain && unseen.late >= e.chance + r.aboveChance) {
    return 'general learning-to-learn';
  }
  if (seen.late - seen.early >= r.minAccuracyGain) return 'task identification';
  if (seen.late >= e.chance + r.aboveChance) return 'memorization';
  return 'not learning yet';
}

/** One split's evidence: each sequence's accuracy over its first and its last quarter of positions. */
interface SplitEvidence extends PerSequence {
  early: Float64Array;
  late: Float64Array;
}

/** Per-position accuracy and cross-entropy of class scores, and whether each position's prediction was right. */
export function classificationCurves(
  scores: Float32Array,
  targets: Float32Array,
  batch: number,
  seqLen: number,
  classes: number,
): { acc: number[]; loss: number[]; correct: Uint8Array } {
  const acc = new Array<number>(seqLen).fill(0);
  const loss = new Array<number>(seqLen).fill(0);
  const correct = new Uint8Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seqLen; t++) {
      const row = scores.subarray((b * seqLen + t) * classes, (b * seqLen + t + 1) * classes);
      let best = 0;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) {
        if (row[c] > max) {
          max = row[c];
          best = c;
        }
      }
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(row[c] - max);
      const target = targets[b * seqLen + t];
      correct[b * seqLen + t] = best === target ? 1 : 0;
      acc[t] += correct[b * seqLen + t];
      loss[t] += Math.log(sum) + max - row[target];
    }
  }
  return { acc: acc.map((a) => a / batch), loss: loss.map((l) => l / batch), correct };
}

export const classificationObjective: Objective<SplitEvidence> = {
  info,
  loss(out, b, task) {
    const labels = tf.tensor1d(b.targets, 'int32');
    const { loss, accuracy } = softmaxCrossEntropy(out.reshape([b.batch * task.seqLen, task.outputDim]), labels);
    return { loss, stepMetrics: [accuracy] };
  },
  async extraBaselines(task, batch, spec) {
    const learner = spec.evaluation.learnerBaseline;
    const [baseline] = info.baselines;
    return learner
      ? [{ name: baseline.name, predictions: await learnerPredictions(task, batch, learner, spec.seed) }]
      : [];
  },
  score(predictions, batch, task, baselines) {
    const { acc, loss, correct } = classificationCurves(
      predictions,
      batch.targets,
      batch.batch,
      task.seqLen,
      task.outputDim,
    );
    const figures: Record<string, number> = {
      [info.figures.last.name]: acc[acc.length - 1],
      [info.figures.mean.name]: mean(acc),
      [info.figures.improvement.name]: accuracyImprovement(acc),
      [info.extraCurves[0].name]: mean(loss),
    };
    const baselineCurves = baselines.map((baseline) => {
      const b = classificationCurves(baseline.predictions, batch.targets, batch.batch, task.seqLen, task.outputDim).acc;
      const names = info.baselineFigures(baseline.name);
      figures[names.last.name] = b[b.length - 1];
      figures[names.improvement.name] = accuracyImprovement(b);
      return { metric: info.baselineCurve(baseline.name), values: b };
    });
    const curves = [
      { metric: info.curve.name, values: acc },
      { metric: info.extraCurves[0].name, values: loss },
    ];
    return { curves, baselineCurves, figures, evidence: sequenceQuarters(correct, batch.batch, task.seqLen) };
  },
  phase(evidence, task) {
    const unseen = evidence.get(SPLITS.unseen)!;
    return classifyClassification({
      chance: 1 / task.outputDim,
      seen: meanQuarters(evidence.get(SPLITS.seen) ?? unseen),
      unseen: meanQuarters(unseen),
    });
  },
};
