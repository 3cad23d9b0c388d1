// Evaluation on held-out sequences: per-position curves for every split (accuracy and loss, or MSE), the
// within-sequence improvement, baselines on the same sequences, and the phase the evaluation shows.
import * as tf from '@tensorflow/tfjs';
import type { EvalCurve } from '../../shared/api.js';
import { PHASE_LABELS, PHASE_METRIC, evalMetricKey } from '../../shared/metrics.js';
import type { RunSpec } from '../../shared/spec.js';
import { learnerPredictions } from './baselines/learner.js';
import type { Model } from './models/index.js';
import { accuracyImprovement, classifyClassification, classifyRegression, mseImprovement, type Phase } from './phases.js';
import { Rng, seedFrom } from './rng.js';
import type { BaselinePredictions, SequenceBatch, TaskSampler } from './tasks/index.js';

const CHUNK = 256;

export interface EvalSet {
  split: string;
  batch: SequenceBatch;
  /** Computed at the first evaluation: they do not change while the model trains. */
  baselines: BaselinePredictions[] | null;
}

export interface Evaluation {
  curves: EvalCurve[];
  figures: Record<string, number>;
  phase: Phase;
}

/** The held-out sequences of every split, fixed for the whole run. */
export function evalSets(task: TaskSampler, spec: RunSpec): EvalSet[] {
  return task.evalSplits.map((split) => ({
    split,
    batch: task.sample(new Rng(seedFrom(spec.seed, 'eval', split)), spec.evaluation.sequences, split),
    baselines: null,
  }));
}

/** The model's outputs [batch, seqLen, outputDim] on a batch, computed in chunks. */
export async function predict(model: Model, task: TaskSampler, batch: SequenceBatch): Promise<Float32Array> {
  const out = new Float32Array(batch.batch * task.seqLen * task.outputDim);
  const rowIn = task.seqLen * task.inputDim;
  const rowOut = task.seqLen * task.outputDim;
  for (let start = 0; start < batch.batch; start += CHUNK) {
    const n = Math.min(CHUNK, batch.batch - start);
    const y = tf.tidy(() => model.apply(tf.tensor3d(batch.inputs.subarray(start * rowIn, (start + n) * rowIn), [n, task.seqLen, task.inputDim])));
    out.set(await y.data(), start * rowOut);
    y.dispose();
  }
  return out;
}

/** Per-position accuracy and cross-entropy of class scores. */
export function classificationCurves(scores: Float32Array, targets: Float32Array, batch: number, seqLen: number, classes: number): { acc: number[]; loss: number[] } {
  const acc = new Array<number>(seqLen).fill(0);
  const loss = new Array<number>(seqLen).fill(0);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seqLen; t++) {
      const row = scores.subarray((b * seqLen + t) * classes, (b * seqLen + t + 1) * classes);
      let best = 0;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) if (row[c] > max) (max = row[c]), (best = c);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(row[c] - max);
      const target = targets[b * seqLen + t];
      acc[t] += best === target ? 1 : 0;
      loss[t] += Math.log(sum) + max - row[target];
    }
  }
  return { acc: acc.map((a) => a / batch), loss: loss.map((l) => l / batch) };
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

export async function evaluate(model: Model, task: TaskSampler, sets: EvalSet[], spec: RunSpec, step: number): Promise<Evaluation> {
  const curves: EvalCurve[] = [];
  const figures: Record<string, number> = {};
  const modelCurves = new Map<string, number[]>();
  const distances = new Map<string, number>();
  let zeroMse = 0;
  for (const set of sets) {
    const { split, batch } = set;
    const key = (name: string) => evalMetricKey(split, name);
    const firstTime = set.baselines === null;
    if (firstTime) {
      set.baselines = task.baselines?.(batch, split) ?? [];
      const learner = spec.evaluation.learnerBaseline;
      if (learner && task.objective === 'classification') {
        set.baselines.push({ name: 'learner', predictions: await learnerPredictions(task, batch, learner, spec.seed) });
      }
    }
    const predictions = await predict(model, task, batch);
    if (task.objective === 'classification') {
      const { acc, loss } = classificationCurves(predictions, batch.targets, batch.batch, task.seqLen, task.outputDim);
      modelCurves.set(split, acc);
      curves.push({ step, split, metric: 'acc', values: acc }, { step, split, metric: 'loss', values: loss });
      figures[key('last_acc')] = acc[acc.length - 1];
      figures[key('mean_acc')] = acc.reduce((a, b) => a + b, 0) / acc.length;
      figures[key('improvement')] = accuracyImprovement(acc);
      figures[key('loss')] = loss.reduce((a, b) => a + b, 0) / loss.length;
      for (const baseline of set.baselines!) {
        const b = classificationCurves(baseline.predictions, batch.targets, batch.batch, task.seqLen, task.outputDim).acc;
        // Baseline curves do not change with training: stored once, at step 0.
        if (firstTime) curves.push({ step: 0, split, metric: `${baseline.name}_acc`, values: b });
        figures[key(`${baseline.name}_last_acc`)] = b[b.length - 1];
        figures[key(`${baseline.name}_improvement`)] = accuracyImprovement(b);
      }
    } else {
      const mse = mseCurve(predictions, batch.targets, batch.batch, task.seqLen);
      modelCurves.set(split, mse);
      curves.push({ step, split, metric: 'mse', values: mse });
      figures[key('last_mse')] = mse[mse.length - 1];
      figures[key('mean_mse')] = mse.reduce((a, b) => a + b, 0) / mse.length;
      figures[key('improvement')] = mseImprovement(mse);
      if (split === 'seen') zeroMse = batch.targets.reduce((a, y) => a + y * y, 0) / batch.targets.length;
      for (const baseline of set.baselines!) {
        const b = mseCurve(baseline.predictions, batch.targets, batch.batch, task.seqLen);
        if (firstTime) curves.push({ step: 0, split, metric: `${baseline.name}_mse`, values: b });
        figures[key(`${baseline.name}_last_mse`)] = b[b.length - 1];
        const distance = meanSquaredDistance(predictions, baseline.predictions);
        figures[key(`distance_to_${baseline.name}`)] = distance;
        distances.set(`${split}/${baseline.name}`, distance);
      }
    }
  }
  const phase =
    task.objective === 'classification'
      ? classifyClassification({ chance: 1 / task.outputDim, seen: modelCurves.get('seen')!, unseen: modelCurves.get('unseen')! })
      : classifyRegression({
          seen: modelCurves.get('seen')!,
          unseen: modelCurves.get('unseen')!,
          zeroMse,
          distanceToRidge: distances.get('unseen/ridge')!,
          distanceToDmmse: distances.get('unseen/dmmse') ?? null,
        });
  figures[PHASE_METRIC] = PHASE_LABELS.indexOf(phase);
  return { curves, figures, phase };
}
