// Fused kernels for the wasm and cpu backends: one kernel call where tfjs would run 5-30 small ops, each with its
// own dispatch, allocation and pass over memory. Matrix products stay on XNNPACK (tf.matMul / tf.fused.matMul);
// these kernels do what surrounds them: attention over short sequences, LayerNorm, ReLU and bias gradients,
// transposes, the LSTM cell, softmax cross-entropy, Adam. Before/after profiles: docs/performance.md.
//
// The kernels are WebAssembly SIMD (./simd/kernels.ts). On the wasm backend they run in place on tfjs-wasm's
// heap (their module imports that memory). On the cpu backend the same code runs on a private memory, inputs
// copied in and outputs out, so the unit tests (on cpu, with finite-difference gradient checks) test the code
// that wasm runs. Elsewhere (webgpu, tfjs-node) `fastKernels()` is false and callers use composite tfjs ops.
import * as tf from '@tensorflow/tfjs';
import { instantiate, simdModule, type SimdExports } from './simd/kernels.js';

// The private members of tfjs's backends used here and in installKernels. test/unit/tfjs-internals.test.ts checks
// each one on the installed tfjs (the packages are pinned to exact versions in package.json for this reason).
interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  getMemoryOffset(dataId: object): number;
  disposeData(dataId: object, force?: boolean): boolean;
  incRef(dataId: object): void;
}
interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

const BACKENDS = ['wasm', 'cpu'] as const;
let enabled = true;
let installed = false;

/** True when the current backend runs this module's kernels (installed by installKernels). */
export function fastKernels(): boolean {
  return enabled && installed && (BACKENDS as readonly string[]).includes(tf.getBackend()) && simdModule() !== null;
}

/** Turns the fused kernels off (composite tfjs ops everywhere) or back on: for tests and the benchmark. */
export function setFastKernels(on: boolean): void {
  enabled = on;
}

const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);

let wasmInstance: { memory: WebAssembly.Memory; k: SimdExports } | null = null;
function onWasmHeap(backend: WasmBackendLike): SimdExports {
  const memory = backend.wasm.asm.memory;
  if (wasmInstance?.memory !== memory) wasmInstance = { memory, k: instantiate(memory) };
  return wasmInstance.k;
}

const privateMemory = { memory: null as WebAssembly.Memory | null, k: null as SimdExports | null };
/** The private memory for the cpu backend, at least `bytes` long. */
function privateHeap(bytes: number): { memory: WebAssembly.Memory; k: SimdExports } {
  if (!privateMemory.memory) {
    privateMemory.memory = new WebAssembly.Memory({ initial: 16 });
    privateMemory.k = instantiate(privateMemory.memory);
  }
  const have = privateMemory.memory.buffer.byteLength;
  if (bytes > have) privateMemory.memory.grow(Math.ceil((bytes - have) / 65536));
  return privateMemory as { memory: WebAssembly.Memory; k: SimdExports };
}

/** A kernel's attributes: named numbers (tfjs passes them as the kernel's NamedAttrMap). */
type Attrs = Record<string, number>;
/** No attributes. */
type None = Record<string, never>;

interface KernelDef<A extends Attrs> {
  /** Output shapes from input shapes. */
  outputs(shapes: number[][], attrs: A): number[][];
  /** Floats of scratch memory the kernel needs (freed after the call). */
  scratch?(shapes: number[][], attrs: A): number;
  /** Runs the kernel on byte pointers into `memory` to the inputs, outputs and scratch. */
  run(
    k: SimdExports,
    inputs: number[],
    outputs: number[],
    attrs: A,
    shapes: number[][],
    scratch: number,
    memory: WebAssembly.Memory,
  ): void;
}

/** Runs a kernel on tensors; `attrs` may be left out when the kernel takes none or all are optional. */
type KernelRunner<A extends Attrs> =
  Record<never, never> extends A
    ? (inputs: tf.Tensor[], attrs?: A) => tf.Tensor[]
    : (inputs: tf.Tensor[], attrs: A) => tf.Tensor[];

/** Every kernel of this module, tfjs-registered by installKernels. */
const KERNELS: tf.KernelConfig[] = [];
const GRADIENTS: tf.GradConfig[] = [];

/**
 * Declares kernel `Metalab<name>` for wasm and cpu (registered by installKernels) and returns a function running
 * it on tensors, inputs named x0, x1, ...; `grad`, if given, makes it differentiable as a tfjs op.
 */
function defineKernel<A extends Attrs = None>(
  name: string,
  def: KernelDef<A>,
  grad?: (dy: tf.Tensor) => tf.Tensor[],
): KernelRunner<A> {
  const kernelName = `Metalab${name}`;
  for (const backendName of BACKENDS) {
    KERNELS.push({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const ins = Object.values(inputs) as tf.TensorInfo[];
        for (const t of ins) {
          if (t.dtype !== 'float32') throw new Error(`${kernelName}: inputs must be float32, got ${t.dtype}`);
        }
        const shapes = ins.map((t) => t.shape);
        const a = attrs as unknown as A;
        const outShapes = def.outputs(shapes, a);
        const scratchFloats = def.scratch?.(shapes, a) ?? 0;
        if (backendName === 'wasm') {
          const b = backend as unknown as WasmBackendLike;
          const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
          const scratch = scratchFloats > 0 ? b.makeOutput([scratchFloats], 'float32') : null;
          const at = (t: tf.TensorInfo) => b.getMemoryOffset(t.dataId);
          def.run(onWasmHeap(b), ins.map(at), outs.map(at), a, shapes, scratch ? at(scratch) : 0, b.wasm.asm.memory);
          if (scratch) b.disposeData(scratch.dataId, true);
          return outs;
        }
        // cpu: lay inputs, outputs and scratch out in the private memory, 16-byte aligned.
        const b = backend as unknown as CpuBackendLike;
        let end = 0;
        const place = (floats: number) => {
          const at = end;
          end += Math.ceil((floats * 4) / 16) * 16;
          return at;
        };
        const inPtr = shapes.map((s) => place(size(s)));
        const outPtr = outShapes.map((s) => place(size(s)));
        const scratchPtr = place(scratchFloats);
        const { memory, k } = privateHeap(end + 16);
        ins.forEach((t, i) => {
          new Float32Array(memory.buffer, inPtr[i], size(shapes[i])).set(b.data.get(t.dataId).values);
        });
        def.run(k, inPtr, outPtr, a, shapes, scratchPtr, memory);
        const values = (s: number[], i: number) => new Float32Array(memory.buffer, outPtr[i], size(s)).slice();
        return outShapes.map((s, i) => b.makeTensorInfo(s, 'float32', values(s, i)));
      },
    });
  }
  if (grad) {
    const gradFunc = (dy: tf.Tensor | tf.Tensor[]) =>
      Object.fromEntries(grad(dy as tf.Tensor).map((g, i) => [`x${i}`, () => g]));
    GRADIENTS.push({ kernelName, gradFunc });
  }
  return ((inputs: tf.Tensor[], attrs: A | undefined) => {
    const named: Record<string, tf.Tensor> = {};
    for (const [i, t] of inputs.entries()) named[`x${i}`] = t;
    const out = tf.engine().runKernel(kernelName, named, (attrs ?? {}) as unknown as tf.NamedAttrMap);
    return Array.isArray(out) ? out : [out as tf.Tensor];
  }) as KernelRunner<A>;
}

/** Marks the Identity kernel installKernels puts on wasm. */
const SHARED_IDENTITY = 'metalabShared';

/**
 * Installs this module into tfjs: registers every fused kernel (and gradient) on wasm and cpu, and replaces
 * tfjs-wasm's Identity kernel by one that shares the buffer. tf.clone runs Identity, which on wasm copies the
 * whole buffer, and the tape clones every tensor it saves for the backward pass (customGrad's save included):
 * ~870 copies per VSML step. Tensors are immutable, so sharing under the reference count (as tfjs-wasm's own
 * Reshape does) is safe. Called by initBackend (and by tests that set a backend up themselves); idempotent.
 */
export function installKernels(): void {
  for (const config of KERNELS) {
    if (!tf.getKernel(config.kernelName, config.backendName)) tf.registerKernel(config);
  }
  for (const config of GRADIENTS) {
    if (!tf.getGradient(config.kernelName)) tf.registerGradient(config);
  }
  const identity = tf.getKernel('Identity', 'wasm') as (tf.KernelConfig & { [SHARED_IDENTITY]?: boolean }) | undefined;
  if (identity && !identity[SHARED_IDENTITY]) {
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel({
      kernelName: 'Identity',
      backendName: 'wasm',
      kernelFunc: ({ inputs, backend }) => {
        const x = (inputs as { x: tf.TensorInfo }).x;
        (backend as unknown as WasmBackendLike).incRef(x.dataId);
        return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
      },
      [SHARED_IDENTITY]: true,
    } as tf.KernelConfig);
  }
  installed = true;
}

// ------------------------------------------------------------------------------------------- layout

/**
 * [m, n] -> [n, m]; with attribute `rows`, only the first `rows` rows of x: -> [n, rows]. Differentiable when it
 * transposes the whole input: the gradient is dy transposed back.
 */
export const transposeKernel: KernelRunner<{ rows?: number }> = defineKernel<{ rows?: number }>(
  'Transpose2D',
  {
    outputs: ([[m, n]], { rows }) => [[n, rows ?? m]],
    run: (k, [x], [y], { rows }, [[m, n]]) => k.transpose(x, y, rows ?? m, n),
  },
  (dy) => transposeKernel([dy]),
);

/** Column sums of [m, n] -> [n]. */
export const columnSumKernel = defineKernel('ColumnSum', {
  outputs: ([[, n]]) => [[n]],
  run: (k, [x], [y], _, [[m, n]]) => k.colsum(x, y, m, n),
});

/** Through a ReLU with output y [m, n]: dz = dy where y > 0 (else 0) and the bias gradient, dz's column sums [n]. */
export const reluGradKernel = defineKernel('ReluBiasGrad', {
  outputs: ([s]) => [s, [s[1]]],
  run: (k, [dy, y], [dz, db], _, [[m, n]]) => k.relugrad(dy, y, dz, db, m, n),
});

// ------------------------------------------------------------------------------------------- LayerNorm

/** y = (x - mean) / sqrt(var + eps) * g + b over the last axis of x [m, n]; also mean [m] and rstd [m]. */
export const layerNormKernel = defineKernel<{ eps: number }>('LayerNorm', {
  outputs: ([[m, n]]) => [[m, n], [m], [m]],
  run: (k, [x, g, b], [y, mean, rstd], { eps }, [[m, n]]) => k.layernorm(x, g, b, y, mean, rstd, m, n, eps),
});

/** LayerNorm's gradients: from dy, x, g, mean, rstd to dx [m, n], dg [n], db [n]. */
export const layerNormGradKernel = defineKernel('LayerNormGrad', {
  outputs: ([[m, n]]) => [[m, n], [n], [n]],
  run: (k, [dy, x, g, mean, rstd], [dx, dg, db], _, [[m, n]]) =>
    k.layernorm_grad(dy, x, g, mean, rstd, dx, dg, db, m, n),
});

// ------------------------------------------------------------------------------------------- attention

const padded = (T: number) => (T + 3) & ~3;

/** Attention over `batch` sequences of `seqLen` rows, `heads` heads of d / heads columns. */
type AttentionAttrs = { batch: number; seqLen: number; heads: number; d: number };

/**
 * Causal multi-head self-attention from qkv [batch * T, 3d] (columns q | k | v, head h at columns h * hs of
 * each; hs = d / heads a multiple of 4) to y [batch * T, d], heads merged, and the weights P [batch, heads, T, T4]
 * (rows padded to a multiple of 4, 0 above the diagonal) for the gradient.
 */
export const attentionKernel = defineKernel<AttentionAttrs>('CausalAttention', {
  outputs: ([[rows]], { batch, seqLen, heads, d }) => [
    [rows, d],
    [batch, heads, seqLen, padded(seqLen)],
  ],
  run: (k, [qkv], [y, p], { batch, seqLen, heads, d }) =>
    k.attention(qkv, y, p, batch, seqLen, heads, d, 1 / Math.sqrt(d / heads)),
});

/** The attention's gradient: from dy [batch * T, d], qkv and P to dqkv [batch * T, 3d]. */
export const attentionGradKernel = defineKernel<AttentionAttrs>('CausalAttentionGrad', {
  outputs: ([, qkv]) => [qkv],
  scratch: (_, { seqLen }) => padded(seqLen),
  run: (k, [dy, qkv, p], [dqkv], { batch, seqLen, heads, d }, _, tmp) =>
    k.attention_grad(dy, qkv, p, dqkv, tmp, batch, seqLen, heads, d, 1 / Math.sqrt(d / heads)),
});

// ------------------------------------------------------------------------------------------- Adam

/** Sum of squares of every input (the squared global gradient norm) -> [1]. */
export const sumSquaresKernel = defineKernel('SumSquares', {
  outputs: () => [[1]],
  run: (k, inputs, [out], _, shapes, __, memory) => {
    let s = 0;
    for (const [i, x] of inputs.entries()) s += k.sumsq(x, size(shapes[i]));
    new Float32Array(memory.buffer, out, 1)[0] = s;
  },
});

/** Adam's hyper-parameters of one step (see adamKernel). */
type AdamAttrs = { scale: number; beta1: number; beta2: number; stepSize: number; correction2: number; eps: number };

/**
 * One Adam update of n parameters in one call: inputs p_0..p_{n-1}, m_0.., v_0.., g_0..; outputs p'_0..,
 * m'_0.., v'_0... Per element: g' = scale g; m' = b1 m + (1 - b1) g'; v' = b2 v + (1 - b2) g'^2;
 * p' = p - stepSize m' / (sqrt(v' / correction2) + eps).
 */
export const adamKernel = defineKernel<AdamAttrs>('Adam', {
  outputs: (shapes) => shapes.slice(0, (3 * shapes.length) / 4),
  run: (k, inputs, outputs, { scale, beta1, beta2, stepSize, correction2, eps }, shapes) => {
    const n = inputs.length / 4;
    for (let i = 0; i < n; i++) {
      const [p, m, v, g] = [0, 1, 2, 3].map((j) => inputs[j * n + i]);
      const [p1, m1, v1] = [0, 1, 2].map((j) => outputs[j * n + i]);
      k.adam(p, m, v, g, p1, m1, v1, size(shapes[i]), scale, beta1, beta2, stepSize, correction2, eps);
    }
  },
});

// ------------------------------------------------------------------------------------------- LSTM

/** An LSTM step's attributes: the step t, and the layout (batchMajor 1: [rows (t, n), features]; 0: transposed). */
type LstmAttrs = { t: number; batchMajor: number };

/**
 * The cell kernels' loop sizes and strides (see simd/kernels.ts) for step t of T, batch B, hidden H: per array,
 * the stride between gates (g), between outer indices (o: units when feature-major, sequences when batch-major)
 * and the step's first element in the whole-sequence arrays (xw, dy).
 */
function cellStrides({ t, batchMajor }: LstmAttrs, T: number, B: number, H: number) {
  return batchMajor
    ? { O: B, I: H, xb: t * B * 4 * H, xg: H, xs: 4 * H, gg: H, gs: 4 * H, hs: H, yb: t * B * H, ys: H }
    : { O: H, I: B, xb: t * B, xg: H * T * B, xs: T * B, gg: H * B, gs: B, hs: B, yb: t * B, ys: T * B };
}
/** B and H from the shape of an [H, B] (feature-major) or [B, H] (batch-major) state. */
const batchHidden = ([r, c]: number[], batchMajor: number) => (batchMajor ? [r, c] : [c, r]);

/**
 * One LSTM step: pre-activations = step t's part of xw [4H, T B] (feature-major; columns (t, n)) or [T B, 4H]
 * (batch-major; rows (t, n)), the input projection with the bias, + hw [4H, B] or [B, 4H] (W_h applied to
 * h_{t-1}); gates i, f, g, o in blocks of H. From c_{t-1} [H, B] or [B, H]: h_t, c_t and the activated gates.
 */
export const lstmCellKernel = defineKernel<LstmAttrs>('LstmCell', {
  outputs: ([, hw, c]) => [c, c, hw],
  run: (k, [xw, hw, c0], [h, c, gates], attrs, [xwShape, , cShape]) => {
    const [B, H] = batchHidden(cShape, attrs.batchMajor);
    const s = cellStrides(attrs, (xwShape[0] * xwShape[1]) / (4 * H * B), B, H);
    k.lstm_cell(xw, hw, c0, h, c, gates, s.O, s.I, s.xb, s.xg, s.xs, s.gg, s.gs, s.hs);
  },
});

/**
 * One LSTM step backwards, in either layout: dh = step t's part of dy (the output's gradient, shaped as the
 * output) + dhNext; with dcNext, the step's gates, c_t and c_{t-1}: returns dc_{t-1} and the pre-activations'
 * gradient dz (shaped as the gates).
 */
export const lstmCellGradKernel = defineKernel<LstmAttrs>('LstmCellGrad', {
  outputs: ([, dhNext, , gates]) => [dhNext, gates],
  run: (k, [dy, dhNext, dcNext, gates, c, cPrev], [dcPrev, dz], attrs, [dyShape, hShape]) => {
    const [B, H] = batchHidden(hShape, attrs.batchMajor);
    const s = cellStrides(attrs, (dyShape[0] * dyShape[1]) / (H * B), B, H);
    k.lstm_cell_grad(dy, dhNext, dcNext, gates, c, cPrev, dcPrev, dz, s.O, s.I, s.yb, s.ys, s.gg, s.gs, s.hs);
  },
});

// ------------------------------------------------------------------------------------------- VSML

/** A VSML layer's grid of cells: N sequences x A inputs x B outputs. */
type Grid = { N: number; A: number; B: number };
/** Mean over a (overA 1) or b (overA 0) of the first `rows` rows. */
type CellMeanAttrs = Grid & { rows: number; overA: number };

/** z [R, N A B] = zf [R, N A] + zb [R, N B], broadcast over the cells (n, a, b). */
export const combineKernel = defineKernel<Grid>('VsmlCombine', {
  outputs: ([[R]], { N, A, B }) => [[R, N * A * B]],
  run: (k, [zf, zb], [z], { N, A, B }, [[R]]) => k.combine(zf, zb, z, R, N, A, B),
});

/** combine's gradient: dzf [R, N A] (sum over b) and dzb [R, N B] (sum over a). */
export const combineGradKernel = defineKernel<Grid>('VsmlCombineGrad', {
  outputs: ([[R]], { N, A, B }) => [
    [R, N * A],
    [R, N * B],
  ],
  run: (k, [dz], [dzf, dzb], { N, A, B }, [[R]]) => k.combine_grad(dz, dzf, dzb, R, N, A, B),
});

/** Mean over a (overA 1: [rows, N B]) or over b (overA 0: [rows, N A]) of the first `rows` rows of x [F, N A B]. */
export const cellMeanKernel = defineKernel<CellMeanAttrs>('VsmlCellMean', {
  outputs: (_, { rows, N, A, B, overA }) => [[rows, N * (overA ? B : A)]],
  run: (k, [x], [y], { rows, N, A, B, overA }) => k.cellmean(x, y, rows, N, A, B, overA),
});

/** cellMean's gradient into [total, N A B] (rows past `rows` are 0). */
export const cellSpreadKernel = defineKernel<CellMeanAttrs & { total: number }>('VsmlCellSpread', {
  outputs: (_, { total, N, A, B }) => [[total, N * A * B]],
  run: (k, [dy], [dx], { rows, total, N, A, B, overA }) => k.cellspread(dy, dx, rows, total, N, A, B, overA),
});

/**
 * One LSTM tick of every VSML cell (S a multiple of 4): state [2S, C] (h; c), z [4S, C], U [4S, S] -> state'
 * [2S, C], gates [4S, C].
 */
export const vsmlTickKernel = defineKernel('VsmlTick', {
  outputs: ([state, z]) => [state, z],
  scratch: ([, , U]) => U[0] * U[1],
  run: (k, [state, z, U], [out, acts], _, [[S2, C]], u4) => k.vsml_tick(state, z, U, out, acts, u4, S2 / 2, C),
});

/** The tick's gradient: from dout, state, gates, out, U to dstate [2S, C] and the pre-activations' gradient [4S, C]. */
export const vsmlTickGradKernel = defineKernel('VsmlTickGrad', {
  outputs: ([dout, , acts]) => [dout, acts],
  run: (k, [dout, state, acts, out, U], [dstate, dpre], _, [[S2, C]]) =>
    k.vsml_tick_grad(dout, state, acts, out, U, dstate, dpre, S2 / 2, C),
});

// ------------------------------------------------------------------------------------------- softmax

/** Softmax over the rows of x [m, n] (tfjs-wasm's Softmax kernel costs ~0.2 ms even for [32, 5]). */
export const softmaxKernel = defineKernel('Softmax', {
  outputs: ([x]) => [x],
  run: (k, [x], [y], _, [[m, n]]) => k.softmax(x, y, m, n),
});

/** Softmax's gradient from dy and the softmax y, both [m, n]. */
export const softmaxGradKernel = defineKernel('SoftmaxGrad', {
  outputs: ([dy]) => [dy],
  run: (k, [dy, y], [dx], _, [[m, n]]) => k.softmax_grad(dy, y, dx, m, n),
});

// ------------------------------------------------------------------------------------------- losses

/**
 * Mean softmax cross-entropy of logits [m, n] against class indices [m] (as floats): the loss [], the accuracy []
 * (argmax = label) and the loss's gradient with respect to the logits, (softmax - onehot) / m [m, n].
 * Small (n = classes): plain TypeScript on the kernel's memory.
 */
export const softmaxCrossEntropyKernel = defineKernel('SoftmaxCrossEntropy', {
  outputs: ([[m, n]]) => [[], [], [m, n]],
  run: (_, [logitsAt, labelsAt], [lossAt, accuracyAt, gradAt], __, [[m, n]], ___, memory) => {
    const logits = new Float32Array(memory.buffer, logitsAt, m * n);
    const labels = new Float32Array(memory.buffer, labelsAt, m);
    const grad = new Float32Array(memory.buffer, gradAt, m * n);
    let total = 0;
    let correct = 0;
    for (let i = 0; i < m; i++) {
      const row = i * n;
      let max = -Infinity;
      let arg = 0;
      for (let j = 0; j < n; j++) {
        if (logits[row + j] > max) {
          max = logits[row + j];
          arg = j;
        }
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(logits[row + j] - max);
      for (let j = 0; j < n; j++) {
        grad[row + j] = (Math.exp(logits[row + j] - max) / sum - (j === labels[i] ? 1 : 0)) / m;
      }
      total += Math.log(sum) + max - logits[row + labels[i]];
      if (arg === labels[i]) correct += 1;
    }
    new Float32Array(memory.buffer, lossAt, 1)[0] = total / m;
    new Float32Array(memory.buffer, accuracyAt, 1)[0] = correct / m;
  },
});
