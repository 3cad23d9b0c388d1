// VSML (Kirsch & Schmidhuber 2021, "Meta Learning Backpropagation And Improving It"): a dense network in which
// every weight is a tiny LSTM. All LSTMs share one set of parameters (the only meta-parameters); each keeps its
// own state (h, c), which plays the part of the weight and of whatever the learned learning rule remembers.
// A layer with A inputs and B outputs holds A * B cells. Per example and layer, cell (a, b) reads [forward
// message of input unit a, backward message of output unit b] (messageSize channels each) for `ticks` LSTM
// steps; then one projection of h, averaged over a, is the forward message of output unit b, and another,
// averaged over b, the backward message of input unit a.
//   forward into layer 0:     channel 0 = x_a, other channels 0; between layers the full message is passed on.
//   backward into last layer: channel 0 = error of the previous example (softmax(logits_{i-1}) - onehot(y_{i-1}),
//                             or prediction_{i-1} - y_{i-1} for regression), channel 1 = its target (taken from
//                             the token's feedback features), other channels 0; all 0 at position 0.
//   backward into a hidden layer: the next layer's backward message from the previous example.
// Prediction i = channel 1 of the last layer's forward message after example i (so it sees tokens <= i only); the
// error it feeds back is differentiable, so meta-training backpropagates through the learned learning too.
// Each sequence starts with h = 0 and half of c's channels random (fixed by the seed): like a network's random
// initial weights, this makes the cells differ. Meta-parameters: the LSTM's gate weights and biases, the forward
// projection and, with hidden layers, the backward projection; their count does not depend on A or B.
// stateSize (reported) = every LSTM state entry of one sequence: sum over layers of A * B * stateSize * 2 (h, c).
// Tensors are feature-major ([features, cells], cells ordered (n, a, b)), so every matMul is 2-D and untransposed
// ([S, S] x [S, cells]), the only kind wasm runs fast, and gates are separate tensors, never slices of one.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Rng } from '../rng.js';
import type { Model, ModelDef, Param } from './index.js';
import { countParams, glorot, zeros } from './layers.js';
import { matMul2d } from './ops.js';

type Spec = Extract<RunSpec['model'], { kind: 'vsml' }>;

/**
 * Initial gate biases (order i, f, g, o). The paper's code uses i -5, f +5 (slow writes, for ES over 500-step
 * episodes); meta-trained by backprop on 16-40-step sequences that learned nothing in 300 steps on linear
 * regression, while an open input gate and a forget gate of ~0.9 learned within 300.
 */
const GATE_BIAS = [0, 2, 0, 0];
/** Share of each cell's c channels that start random (the rest start at 0): breaks the symmetry between cells. */
const RANDOM_STATE_SHARE = 0.5;

/** 2 sigmoid(2x) - 1: tanh without wasm's tanh kernel, which is ~10x slower than its sigmoid. */
const tanh = (x: tf.Tensor) => tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);

// One LSTM tick of all cells of a layer, feature-major ([S, cells]), as two fused ops with written-out gradients:
// the tape would store ~30 copies of [S, cells] per tick instead of 8 (wasm copies every saved tensor), and
// tensors are never sliced (wasm's slice copies its whole input). Gates: i, f, g, o; z_k are the gate inputs from
// the messages (bias included), u_k [S, S] the recurrent weights. The candidate is 2 sigmoid(z) - 1 (= tanh(z / 2)).

/** c' = f * c + i * g, from (h, c, z_i, z_f, z_g, u_i, u_f, u_g). */
const cellUpdate = tf.customGrad((...args) => {
  const save = args.pop() as tf.GradSaveFunc;
  const [h, c, zi, zf, zg, ui, uf, ug] = args as tf.Tensor2D[];
  const i = tf.sigmoid(tf.add(matMul2d(ui, h), zi));
  const f = tf.sigmoid(tf.add(matMul2d(uf, h), zf));
  const g01 = tf.sigmoid(tf.add(matMul2d(ug, h), zg));
  save([h, c, i, f, g01, ui, uf, ug]);
  return {
    value: tf.add(tf.mul(f, c), tf.mul(i, tf.sub(tf.mul(g01, 2), 1))) as tf.Tensor2D,
    gradFunc: (dc, saved) => tf.tidy(() => {
      const [h, c, i, f, g01, ui, uf, ug] = saved as tf.Tensor2D[];
      const through = (dAct: tf.Tensor, act: tf.Tensor) => tf.mul(dAct, tf.mul(act, tf.sub(1, act))) as tf.Tensor2D;
      const dzi = through(tf.mul(dc, tf.sub(tf.mul(g01, 2), 1)), i);
      const dzf = through(tf.mul(dc, c), f);
      const dzg = through(tf.mul(tf.mul(dc, i), 2), g01);
      const dh = tf.add(tf.add(matMul2d(tf.transpose(ui), dzi), matMul2d(tf.transpose(uf), dzf)), matMul2d(tf.transpose(ug), dzg));
      const hT = tf.transpose(h);
      return [dh, tf.mul(dc, f), dzi, dzf, dzg, matMul2d(dzi, hT), matMul2d(dzf, hT), matMul2d(dzg, hT)];
    }),
  };
}) as (h: tf.Tensor2D, c: tf.Tensor2D, zi: tf.Tensor2D, zf: tf.Tensor2D, zg: tf.Tensor2D, ui: tf.Tensor2D, uf: tf.Tensor2D, ug: tf.Tensor2D) => tf.Tensor2D;

/** h' = o * tanh(c'), from (h, c', z_o, u_o). */
const hiddenUpdate = tf.customGrad((hIn, cIn, zIn, uIn, save) => {
  const [h, c, z, u] = [hIn, cIn, zIn, uIn] as tf.Tensor2D[];
  const o = tf.sigmoid(tf.add(matMul2d(u, h), z));
  const tanhC = tanh(c);
  (save as tf.GradSaveFunc)([h, o, tanhC, u]);
  return {
    value: tf.mul(o, tanhC) as tf.Tensor2D,
    gradFunc: (dy, saved) => tf.tidy(() => {
      const [h, o, tanhC, u] = saved as tf.Tensor2D[];
      const dz = tf.mul(tf.mul(dy, tanhC), tf.mul(o, tf.sub(1, o))) as tf.Tensor2D;
      const dc = tf.mul(tf.mul(dy, o), tf.sub(1, tf.square(tanhC)));
      return [matMul2d(tf.transpose(u), dz), dc, dz, matMul2d(dz, tf.transpose(h))];
    }),
  };
}) as (h: tf.Tensor2D, c: tf.Tensor2D, z: tf.Tensor2D, u: tf.Tensor2D) => tf.Tensor2D;

/**
 * Moves between per-unit and per-cell tensors of a layer with A inputs and B outputs (feature-major, units ordered
 * (n, a) or (n, b), cells (n, a, b)), with gradients that keep no copy of the cells (the tape's reshape and mean
 * would each keep one).
 */
function cellOps(A: number, B: number) {
  const grid = (t: tf.Tensor) => t.reshape([t.shape[0], -1, A, B]);
  const flat = (t: tf.Tensor) => t.reshape([t.shape[0], -1]) as tf.Tensor2D;
  /** Mean's gradient: [F, N*B] (over a) or [F, N*A] (over b) spread evenly over the cells (wasm's tile is slow: a broadcast mul). */
  const spread = (dy: tf.Tensor, over: 'a' | 'b') => {
    const [F, units] = dy.shape;
    const N = units / (over === 'a' ? B : A);
    return tf.mul(dy.reshape(over === 'a' ? [F, N, 1, B] : [F, N, A, 1]), tf.fill([F, N, A, B], 1 / (over === 'a' ? A : B)));
  };
  return {
    /** cells[(n, a, b)] = fromInputs[(n, a)] + fromOutputs[(n, b)]. */
    combine: tf.customGrad((x, y) => {
      const [fromInputs, fromOutputs] = [x, y] as tf.Tensor2D[];
      return {
        value: flat(tf.add(fromInputs.reshape([fromInputs.shape[0], -1, A, 1]), fromOutputs.reshape([fromOutputs.shape[0], -1, 1, B]))),
        gradFunc: (dy) => tf.tidy(() => [flat(tf.sum(grid(dy), 3)), flat(tf.sum(grid(dy), 2))]),
      };
    }) as (fromInputs: tf.Tensor2D, fromOutputs: tf.Tensor2D) => tf.Tensor2D,
    /** Mean over a: [F, N*B]. */
    meanOverInputs: tf.customGrad((x) => ({
      value: flat(tf.mean(grid(x as tf.Tensor), 2)),
      gradFunc: (dy) => tf.tidy(() => flat(spread(dy, 'a'))),
    })) as (cells: tf.Tensor2D) => tf.Tensor2D,
    /** Mean over b: [F, N*A]. */
    meanOverOutputs: tf.customGrad((x) => ({
      value: flat(tf.mean(grid(x as tf.Tensor), 3)),
      gradFunc: (dy) => tf.tidy(() => flat(spread(dy, 'b'))),
    })) as (cells: tf.Tensor2D) => tf.Tensor2D,
  };
}

interface Layer {
  inputs: number;
  outputs: number;
  ops: ReturnType<typeof cellOps>;
  /** Initial c of one sequence, [stateSize, inputs * outputs]; h starts at 0. Fixed by the init seed, not trained. */
  initialCell: Float32Array;
}

function gateBias(name: string, stateSize: number): Param {
  const values = new Float32Array(4 * stateSize);
  GATE_BIAS.forEach((v, gate) => values.fill(v, gate * stateSize, (gate + 1) * stateSize));
  return { name, variable: tf.tidy(() => tf.variable(tf.tensor1d(values))) };
}

/** Truncated normal (2 std) with std 1 / sqrt(inputs) on the first RANDOM_STATE_SHARE of the channels, as in the paper's code. */
function randomCell(inputs: number, outputs: number, stateSize: number, rng: Rng): Float32Array {
  const cells = inputs * outputs;
  const values = new Float32Array(stateSize * cells);
  const std = 1 / Math.sqrt(inputs);
  for (let k = 0; k < Math.floor(stateSize * RANDOM_STATE_SHARE); k++) {
    for (let cell = 0; cell < cells; cell++) {
      let z = rng.normal();
      while (Math.abs(z) > 2) z = rng.normal();
      values[k * cells + cell] = z * std;
    }
  }
  return values;
}

export const vsml: ModelDef<Spec> = {
  create(spec, shape, rng): Model {
    const { stateSize: S, messageSize: M, ticks } = spec;
    const { outputDim, feedback } = shape;
    const inputs0 = shape.inputDim - feedback;
    if (inputs0 < 1) throw new Error('vsml needs at least one input feature besides the feedback');
    if (feedback !== 0 && feedback !== outputDim) {
      throw new Error(`vsml feeds the previous target back per output unit: feedback (${feedback}) must equal outputDim (${outputDim}) or be 0`);
    }
    const classification = outputDim > 1;

    const widths = [inputs0, ...spec.hidden, outputDim];
    // Feature-major weights: lstm.w [4S gates, M forward + M backward + S recurrent], projections [M, S].
    // Without a hidden layer no backward message is sent anywhere: no backward projection (it would get no gradient).
    const lstmW = glorot('lstm.w', 4 * S, 2 * M + S, rng);
    const lstmB = gateBias('lstm.b', S);
    const fwdW = glorot('fwd.w', M, S, rng);
    const fwdB = zeros('fwd.b', [M]);
    const bwd = widths.length > 2 ? { w: glorot('bwd.w', M, S, rng), b: zeros('bwd.b', [M]) } : null;
    const params = [lstmW, lstmB, fwdW, fwdB, ...(bwd ? [bwd.w, bwd.b] : [])];

    const layers: Layer[] = widths.slice(1).map((outputs, l) => ({
      inputs: widths[l],
      outputs,
      ops: cellOps(widths[l], outputs),
      initialCell: randomCell(widths[l], outputs, S, rng),
    }));
    const last = layers.length - 1;

    return {
      params,
      paramCount: countParams(params),
      stateSize: layers.reduce((n, l) => n + l.inputs * l.outputs * S * 2, 0),
      apply(input) {
        return tf.tidy(() => {
          const [N, T] = input.shape;
          // Per gate k (i, f, g, o): weights on the forward message, the backward message and h, and the bias.
          const w = lstmW.variable as tf.Tensor2D;
          const gates = [0, 1, 2, 3].map((k) => ({
            fwd: w.slice([k * S, 0], [S, M]),
            bwd: w.slice([k * S, M], [S, M]),
            u: w.slice([k * S, 2 * M], [S, S]),
            bias: lstmB.variable.slice([k * S], [S]).reshape([S, 1]),
          }));
          const [gi, gf, gg, go] = gates;
          const project = (wp: Param, bp: Param, hMean: tf.Tensor2D) => tf.add(matMul2d(wp.variable as tf.Tensor2D, hMean), bp.variable.reshape([M, 1])) as tf.Tensor2D;
          // Tokens by position; gathered one at a time (wasm's slice and unstack copy the whole input each time).
          const byPosition = tf.transpose(input, [1, 0, 2]);

          // Per layer: h and c [S, N*A*B]; the backward message it sent at the previous example [M, N*A] (layers > 0).
          let h = layers.map((l) => tf.zeros([S, N * l.inputs * l.outputs]) as tf.Tensor2D);
          let c = layers.map((l) => tf.add(tf.tensor3d(l.initialCell, [S, 1, l.inputs * l.outputs]), tf.zeros([S, N, 1])).reshape([S, -1]) as tf.Tensor2D);
          let sent: (tf.Tensor2D | null)[] = layers.map((l, k) => (k > 0 ? tf.zeros([M, N * l.inputs]) : null));
          let prediction: tf.Tensor2D | null = null;
          const predictions: tf.Tensor2D[] = [];

          for (let i = 0; i < T; i++) {
            const step = tf.tidy(() => {
              const token = tf.gather(byPosition, i) as tf.Tensor as tf.Tensor2D; // [N, inputDim]
              const target = feedback > 0 ? token.slice([0, inputs0], [N, feedback]) : null; // [N, B]
              const nextH: tf.Tensor2D[] = [];
              const nextC: tf.Tensor2D[] = [];
              const nextSent: tf.Tensor2D[] = [];
              let forward = tf.pad(token.slice([0, 0], [N, inputs0]).reshape([1, -1]), [[0, M - 1], [0, 0]]) as tf.Tensor2D; // [M, N*A], (n, a)
              let output: tf.Tensor2D | null = null;
              for (let l = 0; l < layers.length; l++) {
                const { outputs: B, ops } = layers[l];
                let backward: tf.Tensor2D; // [M, N*B]
                if (l < last) backward = sent[l + 1]!;
                else if (prediction === null || target === null) backward = tf.zeros([M, N * B]);
                else {
                  const error = tf.sub(classification ? tf.softmax(prediction) : prediction, target);
                  backward = tf.pad(tf.concat([error.reshape([1, -1]), target.reshape([1, -1])], 0), [[0, M - 2], [0, 0]]) as tf.Tensor2D;
                }
                // The message part of the gate inputs is the same on every tick: computed once, broadcast over (a, b).
                const [zi, zf, zg, zo] = gates.map((g) => ops.combine(matMul2d(g.fwd, forward), tf.add(matMul2d(g.bwd, backward), g.bias) as tf.Tensor2D));
                let hl = h[l];
                let cl = c[l];
                for (let t = 0; t < ticks; t++) {
                  cl = cellUpdate(hl, cl, zi, zf, zg, gi.u, gf.u, gg.u);
                  hl = hiddenUpdate(hl, cl, zo, go.u);
                }
                nextH.push(hl);
                nextC.push(cl);
                // Projecting then averaging equals averaging then projecting: average h first (smaller matMuls).
                forward = project(fwdW, fwdB, ops.meanOverInputs(hl)); // [M, N*B]
                if (l > 0) nextSent.push(project(bwd!.w, bwd!.b, ops.meanOverOutputs(hl))); // [M, N*A]
                if (l === last) output = forward.slice([1, 0], [1, -1]).reshape([N, B]) as tf.Tensor2D;
              }
              return { h: nextH, c: nextC, sent: nextSent, output: output! };
            });
            // Free the superseded state now rather than at the end (the gradient tape keeps what it needs).
            tf.dispose([...h, ...c, ...sent.filter((m) => m !== null)]);
            h = step.h;
            c = step.c;
            sent = [null, ...step.sent];
            prediction = step.output;
            predictions.push(step.output);
          }
          return tf.stack(predictions, 1) as tf.Tensor3D;
        });
      },
    };
  },
};
