// SymLA (Kirsch, Flennerhag, van Hasselt, Friesen, Oh, Chen, AAAI 2022): a policy network whose every connection
// is a tiny LSTM, one set of parameters per layer shared by all of that layer's connections, so that the network
// takes any number of inputs and actions and treats them symmetrically. Where the paper is silent, the choices here
// (documented in the README): per step and slot, with layer sizes n_0 = observation size (+ 1 for the bias input),
// n_1.. = model.hidden, n_L = the number of actions, messages of M channels and cells of state S:
//   fwd_0[i] = (x_i, 0, ..., 0)            the observation (then the constant 1) on channel 0 of the first layer
//   bwd_L-1[j] = (a_j, 0, ..., 0)          the previous action (one-hot, or its values) into the last layer
//   for each tick, for l = 0..L-1, for every connection (i, j) of layer l, an LSTM step on
//     u = [fwd_l[i], bwd_l[j], r, d]       (r the previous reward, d the done flag: 1 at a trial's first step)
//     z = u Wx + h Wh + b,  gates i f g o,  c' = s(f) c + s(i) tanh(g),  h' = s(o) tanh(c')
//   fwd_l+1[j] = mean_i h'_ij F            the forward messages of the next layer (of the last: the outputs)
//   bwd_l-1[i] = mean_j h'_ij B            the backward messages of the layer before (read at its next step)
//   logits (or Gaussian means) = channel 0 of the outputs after the last tick.
// Means over connections make it invariant to permuting inputs and equivariant to permuting actions. It acts with
// typed arrays only (ES needs no gradients); the weights live in tfjs variables so that ES, checkpoints and Adam
// treat it like any other policy.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Param } from '../models/index.js';
import { normal } from '../models/layers.js';
import type { Rng } from '../rng.js';
import { sampleActions } from './distributions.js';
import type { ActInput } from './policy.js';
import type { ActionSpace, BatchShape } from '../envs/types.js';
import type { Policy } from './types.js';

export type SymlaSpec = Extract<RunSpec['model'], { kind: 'symla' }>;

/** A layer's shared cell: input rows [fwd (M), bwd (M), reward, done], recurrent rows, bias, message maps. */
interface CellWeights {
  wx: Float32Array; // [2M + 2, 4S]
  wh: Float32Array; // [S, 4S]
  b: Float32Array; // [4S]
  f: Float32Array; // [S, M]
  bw: Float32Array; // [S, M]
}

const PARTS = ['wx', 'wh', 'b', 'f', 'bw'] as const;

/** The parameters of every layer (model.hidden.length + 1 of them), initialised from `rng`. */
export function createSymlaParams(model: SymlaSpec, rng: Rng): Param[] {
  const S = model.stateSize;
  const M = model.messageSize;
  const shapes: Record<(typeof PARTS)[number], number[]> = {
    wx: [2 * M + 2, 4 * S],
    wh: [S, 4 * S],
    b: [4 * S],
    f: [S, M],
    bw: [S, M],
  };
  // Weights N(0, 1 / fan-in); the bias 0 but the forget gate's 1, so that cells keep their state at first.
  const bias = new Float32Array(4 * S).fill(1, S, 2 * S);
  return Array.from({ length: model.hidden.length + 1 }, (_, l) =>
    PARTS.map((part): Param => {
      const name = `symla/l${l}/${part}`;
      if (part === 'b') return { name, variable: tf.variable(tf.tensor1d(bias)) };
      return normal(name, shapes[part], 1 / Math.sqrt(shapes[part][0]), rng);
    }),
  ).flat();
}

/** One slot's lifetime: the sizes of its layers, every connection's state, the messages between layers. */
interface SlotMemory {
  sizes: number[];
  h: Float64Array[];
  c: Float64Array[];
  /** fwd[l]: [sizes[l] * M], the forward messages into layer l (fwd[L]: the outputs). */
  fwd: Float64Array[];
  /** bwd[l]: [sizes[l + 1] * M], the backward messages into layer l's outputs. */
  bwd: Float64Array[];
  /** Whether it has acted: before, there is no previous action to feed back. */
  acted: boolean;
}

/** Buffers one layer step works in, sized for the widest layer of the batch. */
interface Scratch {
  pf: Float64Array;
  pb: Float64Array;
  q: Float64Array;
  z: Float64Array;
  back: Float64Array;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export class SymlaPolicy implements Policy {
  private cells: CellWeights[] | null = null;
  private slots: SlotMemory[] = [];
  private action: ActionSpace | null = null;
  private scratch: Scratch | null = null;

  constructor(
    readonly model: SymlaSpec,
    readonly params: readonly Param[],
  ) {}

  /** Acts with weights read by `valuesOf` from the variables (ES: perturbed copies of them). */
  load(valuesOf: (v: Param['variable']) => Float32Array): void {
    const byName = new Map(this.params.map((p) => [p.name, valuesOf(p.variable)]));
    this.cells = Array.from({ length: this.model.hidden.length + 1 }, (_, l) => {
      const get = (part: string) => byName.get(`symla/l${l}/${part}`)!;
      return { wx: get('wx'), wh: get('wh'), b: get('b'), f: get('f'), bw: get('bw') };
    });
  }

  async refresh(): Promise<void> {
    const values = await Promise.all(this.params.map((p) => p.variable.data() as Promise<Float32Array>));
    const byVariable = new Map(this.params.map((p, i) => [p.variable, values[i]]));
    this.load((v) => byVariable.get(v)!);
  }

  refreshNow(): void {
    this.load((v) => v.dataSync() as Float32Array);
  }

  /** New lifetimes: each slot's network built for its own observation size and number of actions. */
  begin(n: number, batch?: BatchShape): void {
    if (!batch || batch.slots.length !== n) throw new Error("a SymLA policy needs each slot's sizes to begin");
    const { stateSize: S, messageSize: M, biasInput, hidden } = this.model;
    this.action = batch.action;
    this.slots = batch.slots.map((shape) => {
      const sizes = [shape.observationSize + (biasInput ? 1 : 0), ...hidden, shape.actions];
      const cells = sizes.slice(0, -1).map((n0, l) => n0 * sizes[l + 1]);
      return {
        sizes,
        h: cells.map((k) => new Float64Array(k * S)),
        c: cells.map((k) => new Float64Array(k * S)),
        fwd: sizes.map((k) => new Float64Array(k * M)),
        bwd: sizes.slice(1).map((k) => new Float64Array(k * M)),
        acted: false,
      };
    });
    const widest = Math.max(1, ...this.slots.flatMap((slot) => slot.sizes));
    this.scratch = {
      pf: new Float64Array(widest * 4 * S),
      pb: new Float64Array(widest * 4 * S),
      q: new Float64Array(4 * S),
      z: new Float64Array(4 * S),
      back: new Float64Array(widest * M),
    };
  }

  act(input: ActInput, rng: Rng, mode: 'sample' | 'greedy'): { actions: Float32Array; probs: Float32Array | null } {
    const { cells, action } = this;
    if (!cells) throw new Error('the policy acted before its weights were read (refresh)');
    const n = input.dones.length;
    if (!action || this.slots.length !== n) throw new Error(`the policy acted on ${n} lifetimes before begin`);
    const P = action.kind === 'discrete' ? action.n : action.size;
    // Actions a slot's environment lacks (of several, padded to the largest count) get no probability.
    const dist = new Float32Array(n * P).fill(action.kind === 'discrete' ? -Infinity : 0);
    for (let s = 0; s < n; s++) {
      const out = this.slotStep(cells, this.slots[s], input, s, P);
      const M = this.model.messageSize;
      for (let j = 0; j < out.length / M; j++) dist[s * P + j] = out[j * M];
    }
    return sampleActions(action, dist, null, n, rng, mode);
  }

  /** One environment step of slot s: the outputs' messages (channel 0: its actions' logits or means). */
  private slotStep(cells: CellWeights[], slot: SlotMemory, input: ActInput, s: number, P: number): Float64Array {
    const { messageSize: M, ticks, biasInput } = this.model;
    const { sizes, fwd } = slot;
    const L = sizes.length - 1;
    const O = input.obs.length / input.dones.length;
    // Inputs: the slot's own observation dimensions (padding beyond them is no input), then the bias.
    const observed = sizes[0] - (biasInput ? 1 : 0);
    for (let i = 0; i < sizes[0]; i++) fwd[0][i * M] = i < observed ? input.obs[s * O + i] : 1;
    const last = slot.bwd[L - 1];
    last.fill(0);
    if (slot.acted) {
      if (this.action!.kind === 'discrete') last[input.prevActions[s] * M] = 1;
      else for (let j = 0; j < sizes[L]; j++) last[j * M] = input.prevActions[s * P + j];
    }
    slot.acted = true;
    for (let t = 0; t < ticks; t++)
      for (let l = 0; l < L; l++) this.layerStep(cells[l], slot, l, input.prevRewards[s], input.dones[s]);
    return fwd[L];
  }

  /** Every connection of layer l steps on fwd[l] and bwd[l]: writes fwd[l + 1], and bwd[l - 1] for l > 0. */
  private layerStep(w: CellWeights, slot: SlotMemory, l: number, r: number, d: number): void {
    const { stateSize: S, messageSize: M } = this.model;
    const { pf, pb, q, z, back } = this.scratch!;
    const n0 = slot.sizes[l];
    const n1 = slot.sizes[l + 1];
    const G = 4 * S;
    const [fwd, next, bwd, h, c] = [slot.fwd[l], slot.fwd[l + 1], slot.bwd[l], slot.h[l], slot.c[l]];
    // The input rows' products: per input i (fwd rows of Wx), per output j (bwd rows), and the shared part.
    for (let g = 0; g < G; g++) q[g] = w.b[g] + r * w.wx[2 * M * G + g] + d * w.wx[(2 * M + 1) * G + g];
    messageProducts(fwd, n0, w.wx, 0, M, G, pf);
    messageProducts(bwd, n1, w.wx, M, M, G, pb);
    next.fill(0);
    back.fill(0, 0, n0 * M);
    const { wh, f, bw } = w;
    const [in0, in1] = [1 / n0, 1 / n1];
    for (let i = 0; i < n0; i++)
      for (let j = 0; j < n1; j++) {
        const cell = (i * n1 + j) * S;
        for (let g = 0; g < G; g++) z[g] = q[g] + pf[i * G + g] + pb[j * G + g];
        for (let k = 0; k < S; k++) {
          const hk = h[cell + k];
          const o = k * G;
          for (let g = 0; g < G; g++) z[g] += hk * wh[o + g];
        }
        for (let k = 0; k < S; k++) {
          const ck = sigmoid(z[S + k]) * c[cell + k] + sigmoid(z[k]) * Math.tanh(z[2 * S + k]);
          const hk = sigmoid(z[3 * S + k]) * Math.tanh(ck);
          c[cell + k] = ck;
          h[cell + k] = hk;
          const [hf, hb, o] = [hk * in0, hk * in1, k * M];
          for (let m = 0; m < M; m++) {
            next[j * M + m] += hf * f[o + m];
            back[i * M + m] += hb * bw[o + m];
          }
        }
      }
    if (l > 0) slot.bwd[l - 1].set(back.subarray(0, n0 * M));
  }
}

/** out[i] = msgs[i] (M channels) times rows row0..row0+M of Wx [., G], for i < count. */
function messageProducts(
  msgs: Float64Array,
  count: number,
  wx: Float32Array,
  row0: number,
  M: number,
  G: number,
  out: Float64Array,
): void {
  out.fill(0, 0, count * G);
  for (let i = 0; i < count; i++)
    for (let m = 0; m < M; m++) {
      const x = msgs[i * M + m];
      if (x === 0) continue;
      const o = (row0 + m) * G;
      for (let g = 0; g < G; g++) out[i * G + g] += x * wx[o + g];
    }
}
