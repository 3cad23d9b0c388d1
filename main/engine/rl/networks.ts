// Policy networks built from the run's model spec with the lab's own models (models/), so their forward and
// backward passes are the fused ones supervised runs use:
// - `mlp`: a feed-forward policy and a separate value network with the same hidden sizes (Stable-Baselines3's
//   default), each reading the observation.
// - `lstm`: one recurrent network (RL², Duan et al. 2016) whose input per step is [observation, previous action
//   (one-hot if discrete), previous reward, done flag, remaining fraction of the lifetime], with a policy head and
//   a value head. The value head's output is multiplied by the episodes left in the lifetime (counting the
//   current one): a critic that knows how much of the lifetime remains (without it RL² learned nothing on bandits
//   in the probes of DESIGN.md section 6); the remaining fraction as an input lets the policy use it too.
// Discrete actions: logits of a categorical distribution; box actions: the means of a Gaussian whose log
// standard deviation is a learned vector of its own (state-independent, initialised to 0 as in SB3).
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { ActionSpace } from '../envs/types.js';
import { createModel, type Model, type Param } from '../models/index.js';
import { zeros } from '../models/layers.js';
import type { Rng } from '../rng.js';
import type { Activation } from './fastForward.js';

/** Model kinds an RL policy can be (SymLA only under a black-box learner: ./symla.ts acts, nothing differentiates). */
export const RL_MODEL_KINDS = ['mlp', 'lstm', 'symla'] as const;

/** Learners that set a policy's weights without gradients (./blackBox.ts): they only run the policy forward. */
export const BLACK_BOX_KINDS: readonly string[] = ['es', 'fme', 'hill-climber', 'random-search'];

/** A SymLA model given to a supervised task. */
export const SYMLA_IS_RL =
  "'symla' is a policy for RL tasks (SymLA); a supervised task's model is mlp, transformer, lstm or vsml";

/** Why an RL run's model (field model.kind) cannot be its policy; empty if it can. The lab's validator reports them. */
export function rlModelIssues(spec: Pick<RunSpec, 'model' | 'task'>): string[] {
  const kind = spec.model.kind;
  if (kind === 'symla') {
    const algorithm = spec.task.family === 'rl' ? spec.task.algorithm.kind : null;
    return algorithm && BLACK_BOX_KINDS.includes(algorithm)
      ? []
      : [
          "a 'symla' policy is meta-trained without gradients (task.algorithm.kind es, fme, hill-climber or " +
            `random-search), not by ${algorithm}`,
        ];
  }
  if ((RL_MODEL_KINDS as readonly string[]).includes(kind)) return [];
  return [
    `an RL policy is 'mlp' (feed-forward, with a separate value network), 'lstm' (recurrent, RL²) or 'symla' ` +
      `(under a black-box learner), not '${kind}'`,
  ];
}

/** Numbers the policy outputs per step for its action distribution: logits, or Gaussian means. */
export function distributionSize(action: ActionSpace): number {
  return action.kind === 'discrete' ? action.n : action.size;
}

/** Numbers per action as the environment takes it and as a recurrent input receives it back. */
export const actionSize = (action: ActionSpace): number => (action.kind === 'discrete' ? 1 : action.size);

/** The initial policy is near uniform: the policy output layer starts at this fraction of its Glorot init. */
const POLICY_OUTPUT_SCALE = 0.01;

export interface NetShape {
  observationSize: number;
  action: ActionSpace;
  /** Episodes per trial (the lifetime a recurrent policy's memory spans). */
  lifetime: number;
}

/** Features of a recurrent policy's input per step; see the file comment for their order. */
export function recurrentInputSize(shape: NetShape): number {
  return shape.observationSize + distributionSize(shape.action) + 3;
}

/**
 * Writes one step's recurrent input at row `row` of `out`: the observation, the previous action (one-hot for a
 * discrete one; zeros at a trial's first step), the previous reward, the done flag and the fraction of the
 * lifetime's episodes left.
 */
export function writeRecurrentInput(
  out: Float32Array,
  row: number,
  shape: NetShape,
  obs: Float32Array,
  prevAction: Float32Array,
  prevReward: number,
  done: number,
  remaining: number,
  first: boolean,
): void {
  const O = shape.observationSize;
  const P = distributionSize(shape.action);
  const base = row * (O + P + 3);
  for (let j = 0; j < O; j++) out[base + j] = obs[row * O + j];
  if (shape.action.kind === 'discrete') {
    for (let j = 0; j < P; j++) out[base + O + j] = 0;
    if (!first) out[base + O + prevAction[row]] = 1; // none before a trial's first step: all zeros
  } else {
    for (let j = 0; j < P; j++) out[base + O + j] = prevAction[row * P + j];
  }
  out[base + O + P] = prevReward;
  out[base + O + P + 1] = done;
  out[base + O + P + 2] = remaining;
}

export interface PolicyNet {
  readonly recurrent: boolean;
  /** Between the layers of a feed-forward policy's networks (the typed-array forward applies it too). */
  readonly activation: Activation;
  readonly shape: NetShape;
  /** Features per step of `apply`'s input. */
  readonly inputSize: number;
  /** Every trained parameter (policy, value, log std), named for checkpoints. */
  readonly params: readonly Param[];
  /** The policy network (feed-forward: the actor alone; recurrent: the whole network). */
  readonly policyModel: Model;
  /** The separate value network of a feed-forward policy. */
  readonly valueModel: Model | null;
  readonly logStd: tf.Variable | null;
  readonly paramCount: number;
  readonly stateSize: number;
  /**
   * Inputs [B, T, inputSize] (feed-forward: T = 1) to the distribution's parameters [B * T, P] and values
   * [B * T], rows (b, t); a recurrent critic's values come with their unit, the episodes left (see ./loss.ts).
   */
  apply(inputs: tf.Tensor3D): { dist: tf.Tensor2D; values: tf.Tensor1D; valueScale: tf.Tensor1D | null };
}

/** Multiplies columns [0, cols) of a [rows, n] weight by `factor`. */
function scaleColumns(p: Param, cols: number, factor: number): void {
  const [rows, n] = p.variable.shape;
  const values = p.variable.dataSync().slice() as Float32Array;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * n + c] *= factor;
  tf.tidy(() => p.variable.assign(tf.tensor2d(values, [rows, n])));
}

const prefixed = (prefix: string, params: readonly Param[]): Param[] =>
  params.map((p) => ({ name: `${prefix}/${p.name}`, variable: p.variable }));

/** The policy network of an RL run from its model spec (`rlModelIssues` must be empty), weights drawn from `rng`. */
export function createPolicyNet(model: RunSpec['model'], shape: NetShape, rng: Rng): PolicyNet {
  const P = distributionSize(shape.action);
  const logStd = shape.action.kind === 'box' ? zeros('log_std', [P]) : null;
  if (model.kind === 'mlp') {
    const modelShape = (outputDim: number) => ({ inputDim: shape.observationSize, outputDim, seqLen: 1, feedback: 0 });
    const actor = createModel(model, modelShape(P), rng);
    const critic = createModel(model, modelShape(1), rng);
    scaleColumns(actor.params[actor.params.length - 2], P, POLICY_OUTPUT_SCALE);
    const params = [
      ...prefixed('policy', actor.params),
      ...prefixed('value', critic.params),
      ...(logStd ? [logStd] : []),
    ];
    return {
      recurrent: false,
      activation: model.activation,
      shape,
      inputSize: shape.observationSize,
      params,
      policyModel: actor,
      valueModel: critic,
      logStd: logStd?.variable ?? null,
      paramCount: params.reduce((n, p) => n + p.variable.size, 0),
      stateSize: 0,
      apply: (inputs) => ({
        ...tf.tidy(() => {
          const rows = inputs.shape[0] * inputs.shape[1];
          return {
            dist: actor.apply(inputs).reshape([rows, P]) as tf.Tensor2D,
            values: critic.apply(inputs).reshape([rows]) as tf.Tensor1D,
          };
        }),
        valueScale: null,
      }),
    };
  }
  if (model.kind !== 'lstm') throw new Error(`model.kind: a policy network is 'mlp' or 'lstm', not '${model.kind}'`);
  const inputSize = recurrentInputSize(shape);
  const net = createModel(model, { inputDim: inputSize, outputDim: P + 1, seqLen: 1, feedback: 0 }, rng);
  scaleColumns(net.params[net.params.length - 2], P, POLICY_OUTPUT_SCALE);
  const params = [...prefixed('policy', net.params), ...(logStd ? [logStd] : [])];
  return {
    recurrent: true,
    // The LSTM's own gates; no MLP between layers.
    activation: 'relu',
    shape,
    inputSize,
    params,
    policyModel: net,
    valueModel: null,
    logStd: logStd?.variable ?? null,
    paramCount: params.reduce((n, p) => n + p.variable.size, 0),
    stateSize: net.stateSize,
    apply: (inputs) =>
      tf.tidy(() => {
        const rows = inputs.shape[0] * inputs.shape[1];
        const out = net.apply(inputs).reshape([rows, P + 1]) as tf.Tensor2D;
        const remaining = tf.slice(inputs.reshape([rows, inputSize]), [0, inputSize - 1], [rows, 1]);
        const episodesLeft = tf.mul(remaining, shape.lifetime).reshape([rows]) as tf.Tensor1D;
        const values = tf.mul(tf.slice(out, [0, P], [rows, 1]).reshape([rows]), episodesLeft) as tf.Tensor1D;
        // Padding rows of a batch of trials have no episodes left: their unit is 1 (they are masked anyway).
        const valueScale = tf.maximum(episodesLeft, 1) as tf.Tensor1D;
        return { dist: tf.slice(out, [0, 0], [rows, P]) as tf.Tensor2D, values, valueScale };
      }),
  };
}
