// In-context learners: each maps a token sequence [batch, seqLen, inputDim] to a prediction at every
// position. Adding one: a file here plus one line below.
import type * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Rng } from '../rng.js';
import { lstm } from './lstm.js';
import { mlp } from './mlp.js';
import { transformer } from './transformer.js';
import { vsml } from './vsml.js';

/** The sequence models (a `symla` model is an RL policy only: ../rl/symla.ts). */
export type ModelSpec = Exclude<RunSpec['model'], { kind: 'symla' }>;

export interface ModelShape {
  /** Features per token: the example's input followed by `feedback` features carrying the previous example's target. */
  inputDim: number;
  /** Predictions per position: class logits, or 1 for regression. */
  outputDim: number;
  seqLen: number;
  /** Trailing token features holding the previous example's target (one-hot label, or y): 0 at position 0. */
  feedback: number;
}

export interface Param {
  name: string;
  variable: tf.Variable;
}

export interface Model {
  readonly params: readonly Param[];
  /** [batch, seqLen, inputDim] -> [batch, seqLen, outputDim]; output i depends on tokens 0..i only. */
  apply(inputs: tf.Tensor3D): tf.Tensor3D;
  readonly paramCount: number;
  /** Memory available to in-context learning, as GPICL counts it (0 for a model without context). */
  readonly stateSize: number;
  /** Fixed tensors the model computes with besides its parameters (not trained; e.g. VSML's initial cell states). */
  readonly constants?: readonly { name: string; shape: number[]; values: Float32Array }[];
}

export interface ModelDef<S extends ModelSpec> {
  create(spec: S, shape: ModelShape, rng: Rng): Model;
}

export const MODELS: { [K in ModelSpec['kind']]: ModelDef<Extract<ModelSpec, { kind: K }>> } = {
  mlp,
  transformer,
  lstm,
  vsml,
};

export function createModel(spec: ModelSpec, shape: ModelShape, rng: Rng): Model {
  return (MODELS[spec.kind] as ModelDef<ModelSpec>).create(spec, shape, rng);
}
