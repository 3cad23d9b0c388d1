// Evaluation on held-out sequences: every split's per-position curves and figures, the model's and its
// baselines' on the same sequences, scored by the task's objective, and the phase the evaluation shows with its
// confidence (a bootstrap over the sequences, ./objectives/bootstrap.ts).
import * as tf from '@tensorflow/tfjs';
import type { EvalCurve } from '../../shared/api.js';
import { evalMetricKey } from '../../shared/metrics.js';
import type { Phase } from '../../shared/results.js';
import type { Model } from './models/index.js';
import { phaseWithConfidence, type PerSequence } from './objectives/bootstrap.js';
import { objectiveFor } from './objectives/index.js';
import { Rng, seedFrom } from './rng.js';
import type { BaselinePredictions, SequenceBatch, TaskSampler } from './tasks/index.js';
import type { SequenceRunSpec } from './train.js';

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
  /** The fraction of bootstrap resamples of the sequences whose evidence gives `phase` too. */
  confidence: number;
}

/** The held-out sequences of every split, fixed for the whole run. */
export async function evalSets(task: TaskSampler, spec: SequenceRunSpec): Promise<EvalSet[]> {
  const sets: EvalSet[] = [];
  for (const split of task.evalSplits) {
    const batch = await task.sample(new Rng(seedFrom(spec.seed, 'eval', split)), spec.evaluation.sequences, split);
    sets.push({ split, batch, baselines: null });
  }
  return sets;
}

/** The model's outputs [batch, seqLen, outputDim] on a batch, computed in chunks. */
export async function predict(model: Model, task: TaskSampler, batch: SequenceBatch): Promise<Float32Array> {
  const out = new Float32Array(batch.batch * task.seqLen * task.outputDim);
  const rowIn = task.seqLen * task.inputDim;
  const rowOut = task.seqLen * task.outputDim;
  for (let start = 0; start < batch.batch; start += CHUNK) {
    const n = Math.min(CHUNK, batch.batch - start);
    const y = tf.tidy(() =>
      model.apply(
        tf.tensor3d(batch.inputs.subarray(start * rowIn, (start + n) * rowIn), [n, task.seqLen, task.inputDim]),
      ),
    );
    out.set(await y.data(), start * rowOut);
    y.dispose();
  }
  return out;
}

export async function evaluate(
  model: Model,
  task: TaskSampler,
  sets: EvalSet[],
  spec: SequenceRunSpec,
  step: number,
): Promise<Evaluation> {
  const objective = objectiveFor(task);
  const curves: EvalCurve[] = [];
  const figures: Record<string, number> = {};
  const evidence = new Map<string, PerSequence>();
  for (const set of sets) {
    const { split, batch } = set;
    const firstTime = set.baselines === null;
    if (firstTime)
      set.baselines = [
        ...(task.baselines?.(batch, split) ?? []),
        ...(await objective.extraBaselines(task, batch, spec)),
      ];
    const score = objective.score(await predict(model, task, batch), batch, task, set.baselines!);
    curves.push(...score.curves.map((c) => ({ step, split, ...c })));
    // Baseline curves do not change with training: stored once, at step 0.
    if (firstTime) curves.push(...score.baselineCurves.map((c) => ({ step: 0, split, ...c })));
    for (const [name, value] of Object.entries(score.figures)) figures[evalMetricKey(split, name)] = value;
    evidence.set(split, score.evidence);
  }
  const rule = (e: ReadonlyMap<string, PerSequence>) => objective.phase(e, task);
  return { curves, figures, ...phaseWithConfidence(evidence, rule, seedFrom(spec.seed, 'phase', step)) };
}
