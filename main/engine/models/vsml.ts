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
// Tensors are feature-major ([features, cells], cells ordered (n, a, b)), so every matMul is 2-D and untransposed,
// the only kind wasm runs fast. A layer's cell state is one tensor [2S, cells] (h; c). On wasm and cpu a tick of
// all cells (the recurrent product U h for the four gates, the gates, c and h) is one fused kernel forward and one
// backward (./kernels.ts); elsewhere it is composite tfjs ops.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Rng } from '../rng.js';
import type { Model, ModelDef, Param } from './index.js';
import { countParams, glorot, zeros } from './layers.js';
import {
  cellMeanKernel,
  cellSpreadKernel,
  combineGradKernel,
  combineKernel,
  fastKernels,
  transposeKernel,
  vsmlTickGradKernel,
  vsmlTickKernel,
} from './kernels.js';
import { matMul2d, softmaxRows } from './ops.js';

type Spec = Extract<RunSpec['model'], { kind: 'vsml' }>;

/**
 * Initial gate biases (order i, f, g, o). The paper's code uses i -5, f +5 (slow writes, for ES over 500-step
 * episodes); meta-trained by backprop on 16-40-step sequences that learned nothing in 300 steps on linear
 * regression, while an open input gate and a forget gate of ~0.9 learned within 300.
 */
const GATE_BIAS = [0, 2, 0, 0];
/** Share of each cell's c channels that start random (the rest start at 0): breaks the symmetry between cells. */
const RANDOM_STATE_SHARE = 0.5;

/** tanh without wasm's tanh kernel (~10x slower than its sigmoid): 2 sigmoid(2x) - 1. */
const tanh = (x: tf.Tensor) => tf.sub(tf.mul(tf.sigmoid(tf.mul(x, 2)), 2), 1);

/** The cells (n, a, b) of a layer with A inputs and B outputs, for a batch of N sequences. */
interface Grid {
  N: number;
  A: number;
  B: number;
}

/** cells[r, (n, a, b)] = fromInputs[r, (n, a)] + fromOutputs[r, (n, b)]. */
function combine(fromInputs: tf.Tensor2D, fromOutputs: tf.Tensor2D, g: Grid): tf.Tensor2D {
  const R = fromInputs.shape[0];
  if (!fastKernels())
    return tf
      .add(fromInputs.reshape([R, g.N, g.A, 1]), fromOutputs.reshape([R, g.N, 1, g.B]))
      .reshape([R, -1]) as tf.Tensor2D;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y] = args as tf.Tensor2D[];
    return {
      value: combineKernel([x, y], { ...g })[0] as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor) => combineGradKernel([dy], { ...g }),
    };
  }) as (x: tf.Tensor2D, y: tf.Tensor2D) => tf.Tensor2D;
  return op(fromInputs, fromOutputs);
}

/** Mean of h (the first S rows of a state [2S, cells]) over a ([S, N B]) or over b ([S, N A]). */
function meanOfH(state: tf.Tensor2D, S: number, g: Grid, over: 'a' | 'b'): tf.Tensor2D {
  if (!fastKernels()) {
    return tf
      .mean(tf.slice(state, [0, 0], [S, -1]).reshape([S, g.N, g.A, g.B]), over === 'a' ? 2 : 3)
      .reshape([S, -1]) as tf.Tensor2D;
  }
  const attrs = { rows: S, ...g, overA: over === 'a' ? 1 : 0 };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x] = args as tf.Tensor2D[];
    return {
      value: cellMeanKernel([x], attrs)[0] as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor) => cellSpreadKernel([dy], { ...attrs, total: x.shape[0] })[0],
    };
  }) as (x: tf.Tensor2D) => tf.Tensor2D;
  return op(state);
}

/**
 * One LSTM tick of every cell: pre = z + U h (U [4S, S]; gates i, f, g, o in row blocks of S); c' = f c + i g
 * with g = 2 sigmoid - 1 (= tanh(pre / 2)); h' = o tanh(c'). state [2S, cells] -> state'.
 */
function tick(state: tf.Tensor2D, z: tf.Tensor2D, u: tf.Tensor2D, S: number): tf.Tensor2D {
  if (!fastKernels() || S % 4 !== 0) {
    return tf.tidy(() => {
      const [h, c] = tf.split(state, 2, 0);
      const [pi, pf, pg, po] = tf.split(tf.add(tf.matMul(u, h), z), 4, 0);
      const cNew = tf.add(tf.mul(tf.sigmoid(pf), c), tf.mul(tf.sigmoid(pi), tf.sub(tf.mul(tf.sigmoid(pg), 2), 1)));
      return tf.concat([tf.mul(tf.sigmoid(po), tanh(cNew)), cNew], 0) as tf.Tensor2D;
    });
  }
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, zz, uu, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    const [out, acts] = vsmlTickKernel([x, zz, uu]);
    save([x, acts, out, uu]);
    return {
      value: out as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [dstate, dpre] = vsmlTickGradKernel([dy, ...saved]) as tf.Tensor2D[];
        // U's gradient: dpre h^T, one XNNPACK product per tick (h^T is the transposed first S rows of the state).
        const hT = transposeKernel([saved[0]], { rows: S })[0] as tf.Tensor2D;
        return [dstate, dpre, tf.matMul(dpre, hT)];
      },
    };
  }) as (x: tf.Tensor2D, z: tf.Tensor2D, u: tf.Tensor2D) => tf.Tensor2D;
  return op(state, z, u);
}

interface Layer {
  inputs: number;
  outputs: number;
  /** Initial c of one sequence, [stateSize, inputs * outputs]; h starts at 0. Fixed by the init seed, not trained. */
  initialCell: Float32Array;
}

function gateBias(name: string, stateSize: number): Param {
  const values = new Float32Array(4 * stateSize);
  for (const [gate, v] of GATE_BIAS.entries()) values.fill(v, gate * stateSize, (gate + 1) * stateSize);
  return { name, variable: tf.tidy(() => tf.variable(tf.tensor1d(values))) };
}

/**
 * Truncated normal (2 std) with std 1 / sqrt(inputs) on the first RANDOM_STATE_SHARE of the channels, as in the paper's
 * code.
 */
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
      throw new Error(
        'vsml feeds the previous target back per output unit: ' +
          `feedback (${feedback}) must equal outputDim (${outputDim}) or be 0`,
      );
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
      initialCell: randomCell(widths[l], outputs, S, rng),
    }));
    const last = layers.length - 1;

    return {
      params,
      paramCount: countParams(params),
      stateSize: layers.reduce((n, l) => n + l.inputs * l.outputs * S * 2, 0),
      constants: layers.map((l, k) => ({
        name: `layer${k}.initialCell`,
        shape: [S, l.inputs * l.outputs],
        values: l.initialCell,
      })),
      apply(input) {
        return tf.tidy(() => {
          const [N, T] = input.shape;
          // lstm.w's column blocks: weights on the forward message, on the backward message, and U on h (rows: gates).
          const w = lstmW.variable as tf.Tensor2D;
          const wf = w.slice([0, 0], [4 * S, M]);
          const wb = w.slice([0, M], [4 * S, M]);
          const u = w.slice([0, 2 * M], [4 * S, S]);
          const bias = lstmB.variable.reshape([4 * S, 1]);
          const project = (wp: Param, bp: Param, hMean: tf.Tensor2D) =>
            tf.add(matMul2d(wp.variable as tf.Tensor2D, hMean), bp.variable.reshape([M, 1])) as tf.Tensor2D;
          const grids: Grid[] = layers.map((l) => ({ N, A: l.inputs, B: l.outputs }));
          // Tokens by position; gathered one at a time (wasm's slice and unstack copy the whole input each time).
          const byPosition = tf.transpose(input, [1, 0, 2]);

          // Per layer: the cell state [2S, N*A*B] (h = 0; c from the initial cells); the backward message it sent
          // at the previous example [M, N*A] (layers > 0).
          let state = layers.map((l) => {
            const cells = l.inputs * l.outputs;
            const c = tf.add(tf.tensor3d(l.initialCell, [S, 1, cells]), tf.zeros([S, N, 1])).reshape([S, N * cells]);
            return tf.concat([tf.zeros([S, N * cells]), c], 0) as tf.Tensor2D;
          });
          let sent: (tf.Tensor2D | null)[] = layers.map((l, k) => (k > 0 ? tf.zeros([M, N * l.inputs]) : null));
          let prediction: tf.Tensor2D | null = null;
          const predictions: tf.Tensor2D[] = [];

          for (let i = 0; i < T; i++) {
            const step = tf.tidy(() => {
              const token = tf.gather(byPosition, i) as tf.Tensor as tf.Tensor2D; // [N, inputDim]
              const target = feedback > 0 ? token.slice([0, inputs0], [N, feedback]) : null; // [N, B]
              const nextState: tf.Tensor2D[] = [];
              const nextSent: tf.Tensor2D[] = [];
              let forward = tf.pad(token.slice([0, 0], [N, inputs0]).reshape([1, -1]), [
                [0, M - 1],
                [0, 0],
              ]) as tf.Tensor2D; // [M, N*A], (n, a)
              let output: tf.Tensor2D | null = null;
              for (let l = 0; l < layers.length; l++) {
                const B = layers[l].outputs;
                let backward: tf.Tensor2D; // [M, N*B]
                if (l < last) backward = sent[l + 1]!;
                else if (prediction === null || target === null) backward = tf.zeros([M, N * B]);
                else {
                  const error = tf.sub(classification ? softmaxRows(prediction) : prediction, target);
                  backward = tf.pad(tf.concat([error.reshape([1, -1]), target.reshape([1, -1])], 0), [
                    [0, M - 2],
                    [0, 0],
                  ]) as tf.Tensor2D;
                }
                // The message part of the gate inputs is the same on every tick: computed once, broadcast over (a, b).
                const z = combine(matMul2d(wf, forward), tf.add(matMul2d(wb, backward), bias) as tf.Tensor2D, grids[l]);
                let sl = state[l];
                for (let t = 0; t < ticks; t++) sl = tick(sl, z, u, S);
                nextState.push(sl);
                // Projecting then averaging equals averaging then projecting: average h first (smaller matMuls).
                forward = project(fwdW, fwdB, meanOfH(sl, S, grids[l], 'a')); // [M, N*B]
                if (l > 0) nextSent.push(project(bwd!.w, bwd!.b, meanOfH(sl, S, grids[l], 'b'))); // [M, N*A]
                if (l === last) output = forward.slice([1, 0], [1, -1]).reshape([N, B]) as tf.Tensor2D;
              }
              return { state: nextState, sent: nextSent, output: output! };
            });
            // Free the superseded state now rather than at the end (the gradient tape keeps what it needs).
            tf.dispose([...state, ...sent.filter((m) => m !== null)]);
            state = step.state;
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
