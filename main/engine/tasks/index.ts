// Task families: each samples task instances (and sequences of them) deterministically from seeds,
// like learned_optimization's TaskFamily / Task split. Adding one: a file here plus one line below.
// (Reinforcement-learning tasks are environments: ../envs.)
import type { ObjectiveName } from '../../../shared/objectives/index.js';
import type { SequenceTaskSpec as TaskSpec } from '../../../shared/spec.js';
import type { DataContext } from '../data/types.js';
import type { Rng } from '../rng.js';
import { gpiclClassification } from './gpiclClassification.js';
import { linearRegression } from './linearRegression.js';

export type { TaskSpec };

/**
 * `train` draws from the task pool (or fresh tasks); evaluation splits are named by the family (`seen`, `unseen`, ...).
 */
export type SampleSplit = 'train' | string;

/**
 * A batch of sequences, row-major: inputs [batch, seqLen, inputDim], targets [batch, seqLen] (a value or a class
 * index).
 */
export interface SequenceBatch {
  batch: number;
  inputs: Float32Array;
  targets: Float32Array;
}

/** A closed-form or conventional learner's predictions on an evaluation batch, scored like the model's. */
export interface BaselinePredictions {
  name: string;
  /** [batch, seqLen, outputDim]: predicted values (regression) or class scores (classification). */
  predictions: Float32Array;
}

export interface TaskSampler {
  /** How predictions are scored (see ../objectives): the family's entry in TASK_OBJECTIVES. */
  readonly objective: ObjectiveName;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly seqLen: number;
  /** Trailing input features that carry the previous example's target. */
  readonly feedback: number;
  /**
   * Evaluation splits, `seen` (pool tasks; none where every task is fresh) and `unseen` first; then any others the spec
   * asks for.
   */
  readonly evalSplits: readonly string[];
  /** Asynchronous: a family may compute on the backend (GPICL's projections), which reads back asynchronously. */
  sample(rng: Rng, batchSize: number, split: SampleSplit): Promise<SequenceBatch>;
  /** Baselines computed on an evaluation batch of `split` (e.g. ridge and dMMSE for regression). */
  baselines?(batch: SequenceBatch, split: string): BaselinePredictions[];
}

export interface TaskFamily<S extends TaskSpec> {
  create(spec: S, seed: number, data: DataContext): Promise<TaskSampler>;
}

export const TASK_FAMILIES: { [F in TaskSpec['family']]: TaskFamily<Extract<TaskSpec, { family: F }>> } = {
  'linear-regression': linearRegression,
  'gpicl-classification': gpiclClassification,
};

export function createTaskSampler(spec: TaskSpec, seed: number, data: DataContext): Promise<TaskSampler> {
  return (TASK_FAMILIES[spec.family] as TaskFamily<TaskSpec>).create(spec, seed, data);
}
