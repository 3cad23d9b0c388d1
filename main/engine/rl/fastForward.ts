// Typed-array forward passes of a policy network's weights, for acting: an environment step runs a few small
// products per instance, where tfjs would spend more time dispatching ops than computing. The weights are read
// from the variables once per rollout; the results equal the tfjs forward to float32 rounding (a test checks it).
import type { Param } from '../models/index.js';

/** A dense layer's weights [fanIn, fanOut] (row-major, as models/layers.ts stores them) and bias [fanOut]. */
export interface DenseWeights {
  w: Float32Array;
  b: Float32Array;
  fanIn: number;
  fanOut: number;
}

/** Dense layers from [w, b] pairs of parameters, their values read by `valuesOf`. */
export function denseLayers(
  params: readonly Param[],
  valuesOf: (v: Param['variable']) => Float32Array,
): DenseWeights[] {
  const layers: DenseWeights[] = [];
  for (let i = 0; i < params.length; i += 2) {
    const [w, b] = [params[i].variable, params[i + 1].variable];
    const [fanIn, fanOut] = w.shape as [number, number];
    layers.push({ w: valuesOf(w), b: valuesOf(b), fanIn, fanOut });
  }
  return layers;
}

/** Rows x [rows, k] (row r at x[r * k]) times rows w0..w0+k of a [., n] matrix w. */
interface Product {
  x: Float32Array;
  rows: number;
  k: number;
  w: Float32Array;
  w0: number;
  n: number;
}

/**
 * out [rows, n] += x W (float64 accumulators). Blocks of 4 rows x 4 columns keep 16 sums in registers, reading
 * each weight once per 4 rows: about 4x the speed of a plain triple loop in V8.
 */
function addProduct({ x, rows, k, w, w0, n }: Product, out: Float64Array): void {
  const rows4 = rows - (rows % 4);
  const n4 = n - (n % 4);
  for (let r = 0; r < rows4; r += 4) {
    const x0 = r * k;
    const x1 = x0 + k;
    const x2 = x1 + k;
    const x3 = x2 + k;
    for (let j = 0; j < n4; j += 4) {
      let a00 = 0,
        a01 = 0,
        a02 = 0,
        a03 = 0,
        a10 = 0,
        a11 = 0,
        a12 = 0,
        a13 = 0;
      let a20 = 0,
        a21 = 0,
        a22 = 0,
        a23 = 0,
        a30 = 0,
        a31 = 0,
        a32 = 0,
        a33 = 0;
      for (let i = 0; i < k; i++) {
        const o = (w0 + i) * n + j;
        const u0 = w[o];
        const u1 = w[o + 1];
        const u2 = w[o + 2];
        const u3 = w[o + 3];
        const v0 = x[x0 + i];
        const v1 = x[x1 + i];
        const v2 = x[x2 + i];
        const v3 = x[x3 + i];
        a00 += v0 * u0;
        a01 += v0 * u1;
        a02 += v0 * u2;
        a03 += v0 * u3;
        a10 += v1 * u0;
        a11 += v1 * u1;
        a12 += v1 * u2;
        a13 += v1 * u3;
        a20 += v2 * u0;
        a21 += v2 * u1;
        a22 += v2 * u2;
        a23 += v2 * u3;
        a30 += v3 * u0;
        a31 += v3 * u1;
        a32 += v3 * u2;
        a33 += v3 * u3;
      }
      const o = r * n + j;
      out[o] += a00;
      out[o + 1] += a01;
      out[o + 2] += a02;
      out[o + 3] += a03;
      out[o + n] += a10;
      out[o + n + 1] += a11;
      out[o + n + 2] += a12;
      out[o + n + 3] += a13;
      const o2 = o + 2 * n;
      out[o2] += a20;
      out[o2 + 1] += a21;
      out[o2 + 2] += a22;
      out[o2 + 3] += a23;
      out[o2 + n] += a30;
      out[o2 + n + 1] += a31;
      out[o2 + n + 2] += a32;
      out[o2 + n + 3] += a33;
    }
  }
  // What the blocks leave: the last rows % 4 rows, and the last n % 4 columns of the others.
  for (let r = 0; r < rows; r++) {
    for (let j = r < rows4 ? n4 : 0; j < n; j++) {
      let sum = 0;
      for (let i = 0; i < k; i++) sum += x[r * k + i] * w[(w0 + i) * n + j];
      out[r * n + j] += sum;
    }
  }
}

/** out [rows, n] = the bias in every row. */
function fillBias(out: Float64Array, b: Float32Array, rows: number): void {
  for (let r = 0; r < rows; r++) out.set(b, r * b.length);
}

/** The nonlinearity between an MLP's layers (the `mlp` model's `activation`). */
export type Activation = 'relu' | 'tanh';

/** The MLP of models/mlp.ts (`activation` between layers, none after the last) on `rows` inputs. */
export function mlpForward(
  layers: readonly DenseWeights[],
  x: Float32Array,
  rows: number,
  activation: Activation = 'relu',
): Float32Array {
  let input = x;
  for (let li = 0; li < layers.length; li++) {
    const { w, b, fanIn, fanOut } = layers[li];
    const z = new Float64Array(rows * fanOut);
    fillBias(z, b, rows);
    addProduct({ x: input, rows, k: fanIn, w, w0: 0, n: fanOut }, z);
    const out = new Float32Array(rows * fanOut);
    if (li === layers.length - 1) out.set(z);
    else if (activation === 'tanh') for (let i = 0; i < z.length; i++) out[i] = Math.tanh(z[i]);
    else for (let i = 0; i < z.length; i++) out[i] = Math.max(0, z[i]);
    input = out;
  }
  return input;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The memory of `rows` lifetimes: hidden and cell state of every layer, [rows * H] each. */
export interface LstmMemory {
  h: Float32Array[];
  c: Float32Array[];
}

export function lstmMemory(layers: readonly DenseWeights[], rows: number): LstmMemory {
  return {
    h: layers.map((l) => new Float32Array(rows * (l.fanOut / 4))),
    c: layers.map((l) => new Float32Array(rows * (l.fanOut / 4))),
  };
}

/**
 * One step of the stacked LSTM of models/lstm.ts (W [fanIn + H, 4H]: rows for the input, then for h; gates
 * i, f, g, o) and its head, on `rows` lifetimes: updates `memory` and returns the head's outputs.
 */
export function lstmStep(
  layers: readonly DenseWeights[],
  head: DenseWeights,
  memory: LstmMemory,
  x: Float32Array,
  rows: number,
): Float32Array {
  let input = x;
  for (let li = 0; li < layers.length; li++) {
    const { w, b, fanIn, fanOut } = layers[li];
    const H = fanOut / 4;
    const k = fanIn - H; // W's rows: the input's features, then h's
    const { h, c } = { h: memory.h[li], c: memory.c[li] };
    const z = new Float64Array(rows * fanOut);
    fillBias(z, b, rows);
    addProduct({ x: input, rows, k, w, w0: 0, n: fanOut }, z);
    addProduct({ x: h, rows, k: H, w, w0: k, n: fanOut }, z);
    for (let r = 0; r < rows; r++) {
      const o = r * fanOut;
      for (let j = 0; j < H; j++) {
        const cj = sigmoid(z[o + H + j]) * c[r * H + j] + sigmoid(z[o + j]) * Math.tanh(z[o + 2 * H + j]);
        c[r * H + j] = cj;
        h[r * H + j] = sigmoid(z[o + 3 * H + j]) * Math.tanh(cj);
      }
    }
    input = h;
  }
  return mlpForward([head], input, rows);
}
