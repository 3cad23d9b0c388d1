// MetaGenRL's learned objective L_alpha (Kirsch, van Steenkiste & Schmidhuber 2020), as the authors' code builds it:
// - action branch: for every action dimension the pair (action in the buffer, current policy's action) through an
//   MLP of `depth` hidden layers (`units` wide, half ReLU half square, LayerNorm after each), averaged over the
//   dimensions — so one objective fits any number of actions, and permuting them changes nothing;
// - value branch: the chosen inputs of normalised reward, t/T, the critic's normalised value of the next state
//   (0 after a terminal one) and of the current state, through `depth - 1` such layers (no LayerNorm) and a linear
//   layer to `valueFeatures`;
// - an LSTM over both, run backwards in time (from the sub-trajectory's last step), its state kept at 0 on padding;
// - a head of `depth - 1` hidden layers (LayerNorm) and a linear layer to one number a step, soft-clipped as
//   s tanh(x / s).
// It never sees observations. The loss the policy minimises is its mean over the valid steps.
//
// The network runs on typed arrays through ./dualTape.ts, carrying a tangent (forward-mode derivative) along the
// policy's actions: the tangent of the loss along u is u . dL/da. The meta-gradient needs d/d alpha of exactly that
// (./metaGradient.ts); the tape takes it exactly, by reverse mode over the tangent. (tfjs's own second-order
// gradients through sigmoid / tanh are wrong, tfjs issue 3252; and its ~10 us per kernel call made this network
// cost ~100 ms a meta-step in tfjs ops, against a few ms here.) The weights live in tfjs variables, for Adam and
// checkpoints.
//
// Layout: rows are time-major (row t * B + b is step t of sub-trajectory b), so step t is a contiguous block.
import * as tf from '@tensorflow/tfjs';
import type { LearnedObjectiveSpec, ObjectiveInput } from '../../../../shared/spec.js';
import type { Param } from '../../models/index.js';
import { countParams, filled, glorot, zeros } from '../../models/layers.js';
import type { Rng } from '../../rng.js';
import type { SavedVariable } from '../types.js';
import { type Dual, rsqrtPlus, softClip, Tape, UNARY } from './dualTape.js';

/** A minibatch of sub-trajectories on the host, time-major: what the objective's inputs are built from. */
export interface SubTrajectories {
  batch: number;
  length: number;
  obsSize: number;
  actionSize: number;
  /** [T * B * obsSize] */
  obs: Float32Array;
  /** [T * B * A], scaled to [-1, 1] */
  actions: Float32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  /** 1 where the episode terminated at this step (a time-limit truncation is not). */
  dones: Float32Array;
  /** 1 on valid steps: a sub-trajectory's steps after its episode ended are padding (0). */
  mask: Float32Array;
}

/** z-normalised over the valid steps; a constant normalises to 0. */
function normaliser(values: Float32Array[], mask: Float32Array): (x: number) => number {
  let n = 0;
  let sum = 0;
  let sq = 0;
  for (const v of values) {
    for (let i = 0; i < v.length; i++) {
      if (!mask[i]) continue;
      n += 1;
      sum += v[i];
      sq += v[i] * v[i];
    }
  }
  const mean = n ? sum / n : 0;
  const variance = n ? Math.max(0, sq / n - mean * mean) : 0;
  const scale = 1 / Math.sqrt(variance + 1e-8);
  return (x) => (x - mean) * scale;
}

/**
 * The value branch's inputs [T * B, inputs.length] in the order of `inputs`: rewards and values z-normalised over
 * the valid steps (values of the current and next states together), t / T, the next value times (1 - done); 0 on
 * padding. `values` and `nextValues` are the critic's Q1(s, pi(s)) and Q1(s', pi(s')).
 */
export function valueInputs(
  x: Pick<SubTrajectories, 'batch' | 'length' | 'rewards' | 'dones' | 'mask'>,
  values: Float32Array,
  nextValues: Float32Array,
  inputs: readonly ObjectiveInput[],
): Float32Array {
  const { batch: B, length: T, mask } = x;
  const reward = normaliser([x.rewards], mask);
  const value = normaliser([values, nextValues], mask);
  const out = new Float32Array(T * B * inputs.length);
  for (let row = 0; row < T * B; row++) {
    if (!mask[row]) continue;
    inputs.forEach((input, k) => {
      const at = row * inputs.length + k;
      if (input === 'reward') out[at] = reward(x.rewards[row]);
      else if (input === 'time') out[at] = Math.floor(row / B) / T;
      else if (input === 'nextValue') out[at] = value(nextValues[row]) * (1 - x.dones[row]);
      else out[at] = value(values[row]);
    });
  }
  return out;
}

/** What the objective reads of a minibatch of B sub-trajectories of T steps (time-major, on the host). */
export interface ObjectiveBatch {
  batch: number;
  length: number;
  actionSize: number;
  /** [T * B * A] actions taken (scaled to [-1, 1]). */
  bufferActions: Float32Array;
  /** [T * B * n] the value branch's inputs (see valueInputs), null when the objective reads none. */
  valueInputs: Float32Array | null;
  /** [T * B] 1 on valid steps, 0 on padding (after the sub-trajectory's episode ended). */
  mask: Float32Array;
  validSteps: number;
}

/** What the objective reads of `x` (value inputs from the critic's `values` / `nextValues`). */
export function objectiveBatch(
  x: SubTrajectories,
  values: Float32Array,
  nextValues: Float32Array,
  inputs: readonly ObjectiveInput[],
): ObjectiveBatch {
  let validSteps = 0;
  for (const m of x.mask) validSteps += m;
  return {
    batch: x.batch,
    length: x.length,
    actionSize: x.actionSize,
    bufferActions: x.actions,
    valueInputs: inputs.length ? valueInputs(x, values, nextValues, inputs) : null,
    mask: x.mask,
    validSteps: Math.max(1, validSteps),
  };
}

const LN_EPS = 1e-5;
/** TensorFlow's LSTMCell adds 1 to the forget gate's pre-activation (forget_bias), as the reference does. */
const FORGET_BIAS = 1;

interface Layer {
  w: Param;
  b: Param;
  /** LayerNorm gain and shift, where the layer has one. */
  ln: { g: Param; b: Param } | null;
}

function dense(name: string, fanIn: number, fanOut: number, layerNorm: boolean, rng: Rng): Layer {
  return {
    w: glorot(`${name}.w`, fanIn, fanOut, rng),
    b: zeros(`${name}.b`, [fanOut]),
    ln: layerNorm ? { g: filled(`${name}.ln.g`, [fanOut], 1), b: zeros(`${name}.ln.b`, [fanOut]) } : null,
  };
}

const layerParams = (l: Layer): Param[] => [l.w, l.b, ...(l.ln ? [l.ln.g, l.ln.b] : [])];

/** The weights' values and gradient accumulators for one pass, by parameter name. */
class Weights {
  readonly values = new Map<string, Float32Array>();
  readonly grads = new Map<string, Float32Array>();
  constructor(params: readonly Param[]) {
    for (const p of params) {
      this.values.set(p.name, p.variable.dataSync() as Float32Array);
      this.grads.set(p.name, new Float32Array(p.variable.size));
    }
  }
  of(p: Param): [Float32Array, Float32Array] {
    return [this.values.get(p.name)!, this.grads.get(p.name)!];
  }
}

/** The per-step output of one pass, and the tape to take gradients through it. */
interface Pass {
  tape: Tape;
  out: Dual;
  weights: Weights;
}

export class LearnedObjective {
  private readonly actionLayers: Layer[];
  private readonly valueLayers: Layer[];
  private readonly lstm: { w: Param; b: Param };
  private readonly headLayers: Layer[];
  readonly params: Param[];

  constructor(
    readonly architecture: LearnedObjectiveSpec,
    rng: Rng,
  ) {
    const { units, depth, valueFeatures, lstm, inputs } = architecture;
    const name = (part: string, i: number) => `objective.${part}.layer${i}`;
    this.actionLayers = Array.from({ length: depth }, (_, i) =>
      dense(name('action', i), i ? units : 2, units, true, rng),
    );
    const valueWidths = [inputs.length, ...Array(depth - 1).fill(units), valueFeatures];
    this.valueLayers = inputs.length
      ? valueWidths.slice(1).map((out, i) => dense(name('value', i), valueWidths[i], out, false, rng))
      : [];
    const lstmIn = units + (inputs.length ? valueFeatures : 0);
    this.lstm = {
      w: glorot('objective.lstm.w', lstmIn + lstm, 4 * lstm, rng),
      b: zeros('objective.lstm.b', [4 * lstm]),
    };
    const headWidths = [lstm, ...Array(depth - 1).fill(units), 1];
    this.headLayers = headWidths
      .slice(1)
      .map((out, i) => dense(name('head', i), headWidths[i], out, i < depth - 1, rng));
    this.params = [
      ...this.actionLayers.flatMap(layerParams),
      ...this.valueLayers.flatMap(layerParams),
      this.lstm.w,
      this.lstm.b,
      ...this.headLayers.flatMap(layerParams),
    ];
  }

  get paramCount(): number {
    return countParams(this.params);
  }

  /** The objective at every step [T * B] (time-major) for the policy's actions [T * B * A]. */
  perStep(x: ObjectiveBatch, policyActions: Float32Array): Float32Array {
    return this.pass(x, policyActions, null, false).out.v;
  }

  /** The loss the policy minimises (mean over valid steps) and its gradient with respect to the policy's actions. */
  lossAndActionGrad(x: ObjectiveBatch, policyActions: Float32Array): { loss: number; actionGrad: Float32Array } {
    const { tape, out } = this.pass(x, policyActions, null, false);
    const seed = out.adjV();
    let loss = 0;
    for (let i = 0; i < seed.length; i++) {
      seed[i] = x.mask[i] / x.validSteps;
      loss += out.v[i] * seed[i];
    }
    tape.backward();
    return { loss, actionGrad: this.policyInput!.gv ?? new Float32Array(policyActions.length) };
  }

  /**
   * The loss's tangent along `u` (same layout as the actions): u . dL/da, and `scale` times its gradient with respect
   * to the objective's parameters (in `params` order).
   */
  tangentGrads(x: ObjectiveBatch, policyActions: Float32Array, u: Float32Array, scale: number) {
    const { tape, out, weights } = this.pass(x, policyActions, u, true);
    const seed = out.adjD();
    let tangent = 0;
    for (let i = 0; i < seed.length; i++) {
      seed[i] = (scale * x.mask[i]) / x.validSteps;
      tangent += (out.d![i] * x.mask[i]) / x.validSteps;
    }
    tape.backward();
    return { tangent, grads: this.params.map((p) => weights.grads.get(p.name)!) };
  }

  /** The policy-action input of the latest pass (its adjoint is dL/da after a backward pass). */
  private policyInput: Dual | null = null;

  /** One pass through the network; `paramGrads`: its backward pass is for the weights (else for the actions). */
  private pass(
    x: ObjectiveBatch,
    policyActions: Float32Array,
    tangent: Float32Array | null,
    paramGrads: boolean,
  ): Pass {
    const { batch: B, length: T, actionSize: A } = x;
    const rows = T * B;
    const tape = new Tape(paramGrads);
    const weights = new Weights(this.params);
    // One row per (step, action dimension): the pair (buffer action, policy action).
    const buffer = tape.input(rows * A, 1, x.bufferActions);
    const policy = tape.input(rows * A, 1, policyActions, tangent, !paramGrads);
    this.policyInput = policy;
    const perDim = this.hidden(tape, tape.concatCols([buffer, policy]), this.actionLayers, weights);
    let features = tape.groupMean(perDim, A);
    if (x.valueInputs) {
      const n = this.architecture.inputs.length;
      const h = this.hidden(tape, tape.input(rows, n, x.valueInputs), this.valueLayers.slice(0, -1), weights);
      const last = this.valueLayers[this.valueLayers.length - 1];
      features = tape.concatCols([features, this.affine(tape, h, last, weights)]);
    }
    const hs = this.backwardLstm(tape, features, x, weights);
    const head = this.hidden(tape, hs, this.headLayers.slice(0, -1), weights);
    const raw = this.affine(tape, head, this.headLayers[this.headLayers.length - 1], weights);
    return { tape, out: tape.unary(raw, softClip(this.architecture.errorScale)), weights };
  }

  private affine(tape: Tape, x: Dual, l: Layer, weights: Weights): Dual {
    const [w, gw] = weights.of(l.w);
    const [b, gb] = weights.of(l.b);
    return tape.affine(x, w, gw, l.w.variable.shape[1] as number, b, gb);
  }

  /** Hidden layers: affine, the reference's mixed activation (ReLU on half, square on the rest), LayerNorm. */
  private hidden(tape: Tape, x: Dual, layers: readonly Layer[], weights: Weights): Dual {
    return layers.reduce((h, l) => {
      const z = this.affine(tape, h, l, weights);
      const a = tape.unary(z, UNARY.relu, UNARY.square, Math.floor(z.cols / 2));
      if (!l.ln) return a;
      // LayerNorm over the row, population variance.
      const centred = tape.add(a, tape.rowMean(a), -1);
      const r = tape.unary(tape.rowMean(tape.unary(centred, UNARY.square)), rsqrtPlus(LN_EPS));
      const [g, gg] = weights.of(l.ln.g);
      const [b, gb] = weights.of(l.ln.b);
      return tape.scaleShift(tape.mul(centred, r), g, gg, b, gb);
    }, x);
  }

  /**
   * The LSTM from step T-1 down to 0 over [T * B, F] features; hidden states [T * B, H] in the same row order. Padding
   * (after an episode ended) holds the state at 0, so the valid steps start from a fresh state.
   */
  private backwardLstm(tape: Tape, x: Dual, batch: ObjectiveBatch, weights: Weights): Dual {
    const { batch: B, length: T } = batch;
    const H = this.architecture.lstm;
    const F = x.cols;
    const [w, gw] = weights.of(this.lstm.w);
    const [b, gb] = weights.of(this.lstm.b);
    const bias = b.slice();
    for (let j = H; j < 2 * H; j++) bias[j] += FORGET_BIAS;
    // The input part of the product for every step at once; the recurrent part per step.
    const inputs = tape.affine(x, w.subarray(0, F * 4 * H), gw.subarray(0, F * 4 * H), 4 * H, bias, gb);
    const wh = w.subarray(F * 4 * H);
    const gwh = gw.subarray(F * 4 * H);
    let h: Dual | null = null;
    let c: Dual | null = null;
    const outs: Dual[] = new Array(T);
    for (let t = T - 1; t >= 0; t--) {
      let z = tape.rowSlice(inputs, t * B, B);
      if (h) z = tape.add(z, tape.affine(h, wh, gwh, 4 * H, null, null));
      const mask = batch.mask.subarray(t * B, (t + 1) * B);
      ({ h, c } = tape.lstmCell(z, c, mask.includes(0) ? mask : null));
      outs[t] = h;
    }
    return tape.stackRows(outs);
  }

  async save(): Promise<SavedVariable[]> {
    return Promise.all(
      this.params.map(async (p) => ({
        name: p.name,
        shape: [...p.variable.shape],
        values: (await p.variable.data()) as Float32Array,
      })),
    );
  }

  restore(tensors: readonly { name: string; shape: number[]; values: Float32Array }[]): void {
    const byName = new Map(tensors.map((t) => [t.name, t]));
    for (const p of this.params) {
      const saved = byName.get(p.name);
      if (!saved || saved.values.length !== p.variable.size) {
        throw new Error(`the objective's weights lack ${p.name} (shape ${p.variable.shape})`);
      }
      tf.tidy(() => p.variable.assign(tf.tensor(saved.values, p.variable.shape)));
    }
  }

  dispose(): void {
    for (const p of this.params) p.variable.dispose();
  }
}
