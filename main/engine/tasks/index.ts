// Task families: each samples task instances (and sequences of them) deterministically from seeds,
// like learned_optimization's TaskFamily / Task split. Adding one: a file here plus one line below.
import type { EvalSplit } from '../../../shared/metrics.js';
import type { RunSpec } from '../../../shared/spec.js';
import type { Rng } from '../rng.js';
import { linearRegression } from './linearRegression.js';

export type TaskSpec = RunSpec['task'];
export type SampleSplit = 'train' | EvalSplit;

/** A batch of sequences, row-major: inputs [batch, seqLen, inputDim], targets [batch, seqLen, targetDim]. */
export interface SequenceBatch {
  batch: number;
  inputs: Float32Array;
  targets: Float32Array;
}

export interface TaskSampler {
  /** How predictions are scored: squared error for regression. */
  readonly objective: 'regression';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly seqLen: number;
  /** Trailing input features that carry the previous example's target. */
  readonly feedback: number;
  /** Training sequences come from the task pool (or fresh tasks); `unseen` never uses a pool task. */
  sample(rng: Rng, batchSize: number, split: SampleSplit): SequenceBatch;
}

export interface TaskFamily<S extends TaskSpec> {
  create(spec: S, seed: number): TaskSampler;
}

export const TASK_FAMILIES: { [F in TaskSpec['family']]: TaskFamily<Extract<TaskSpec, { family: F }>> } = {
  'linear-regression': linearRegression,
};

export function createTaskSampler(spec: TaskSpec, seed: number): TaskSampler {
  return (TASK_FAMILIES[spec.family] as TaskFamily<TaskSpec>).create(spec, seed);
}
