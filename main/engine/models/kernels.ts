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
import '@tensorflow/tfjs-backend-wasm';
import { instantiate, simdModule, type SimdExports } from './simd/kernels.js';

type Attrs = Record<string, number>;

interface WasmBackendLike {
  wasm: { asm: { memory: WebAssembly.Memory } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  getMemoryOffset(dataId: object): number;
  disposeData(dataId: object, force?: boolean): boolean;
}
interface CpuBackendLike {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

const BACKENDS = ['wasm', 'cpu'] as const;
let enabled = true;

/** True when the current backend runs this module's kernels. */
export function fastKernels(): boolean {
  return enabled && (BACKENDS as readonly string[]).includes(tf.getBackend()) && simdModule() !== null;
}

/** Turns the fused kernels off (composite tfjs ops everywhere) or back on: for tests and the benchmark. */
export function setFastKernels(on: boolean): void {
  enabled = on;
}

const size = (shape: number[]) => shape.reduce((n, d) => n * d, 1);

// tf.clone runs the Identity kernel, which on wasm copies the whole buffer; the tape clones every tensor it saves
// for the backward pass (customGrad's save included): ~870 copies per VSML step. Tensors are immutable, so share
// the buffer under a reference count instead, as tfjs-wasm's own Reshape does.
if (!(tf.getKernel('Identity', 'wasm') as { metalabShared?: boolean } | undefined)?.metalabShared) {
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = (inputs as { x: tf.TensorInfo }).x;
      (backend as unknown as { incRef(dataId: object): void }).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
    metalabShared: true,
  } as tf.KernelConfig);
}

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

interface KernelDef {
  /** Output shapes from input shapes. */
  outputs(shapes: number[][], attrs: Attrs): number[][];
  /** Floats of scratch memory the kernel needs (freed after the call). */
  scratch?(shapes: number[][], attrs: Attrs): number;
  /** Runs the kernel on byte pointers to the inputs, outputs and scratch. */
  run(k: SimdExports, inputs: number[], outputs: number[], attrs: Attrs, shapes: number[][], scratch: number, memory: WebAssembly.Memory): void;
}

/** Registers kernel `Metalab<name>` on wasm and cpu; returns a function running it on tensors. */
function defineKernel(name: string, def: KernelDef): (inputs: tf.Tensor[], attrs?: Attrs) => tf.Tensor[] {
  const kernelName = `Metalab${name}`;
  for (const backendName of BACKENDS) {
    if (tf.getKernel(kernelName, backendName)) continue;
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: ({ inputs, backend, attrs }) => {
        const ins = Object.values(inputs) as tf.TensorInfo[];
        for (const t of ins) if (t.dtype !== 'float32') throw new Error(`${kernelName}: inputs must be float32, got ${t.dtype}`);
        const shapes = ins.map((t) => t.shape);
        const a = attrs as unknown as Attrs;
        const outShapes = def.outputs(shapes, a);
        const scratchFloats = def.scratch?.(shapes, a) ?? 0;
        if (backendName === 'wasm') {
          const b = backend as unknown as WasmBackendLike;
          const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
          const scratch = scratchFloats > 0 ? b.makeOutput([scratchFloats], 'float32') : null;
          const k = onWasmHeap(b);
          def.run(k, ins.map((t) => b.getMemoryOffset(t.dataId)), outs.map((t) => b.getMemoryOffset(t.dataId)), a, shapes, scratch ? b.getMemoryOffset(scratch.dataId) : 0, b.wasm.asm.memory);
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
        ins.forEach((t, i) => new Float32Array(memory.buffer, inPtr[i], size(shapes[i])).set(b.data.get(t.dataId).values));
        def.run(k, inPtr, outPtr, a, shapes, scratchPtr, memory);
        return outShapes.map((s, i) => b.makeTensorInfo(s, 'float32', new Float32Array(memory.buffer, outPtr[i], size(s)).slice()));
      },
    });
  }
  return (inputs, attrs = {}) => {
    const named: Record<string, tf.Tensor> = {};
    inputs.forEach((t, i) => (named[`x${i}`] = t));
    const out = tf.engine().runKernel(kernelName, named, attrs as unknown as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    return Array.isArray(out) ? out : [out];
  };
}

// ------------------------------------------------------------------------------------------- layout

/** [m, n] -> [n, m]; with attribute `rows`, only the first `rows` rows of x: -> [n, rows]. */
export const transposeKernel = defineKernel('Transpose2D', {
  outputs: ([[m, n]], { rows }) => [[n, rows ?? m]],
  run: (k, [x], [y], { rows }, [[m, n]]) => k.transpose(x, y, rows ?? m, n),
});

// Differentiable when it transposes the whole input: the gradient is dy transposed back.
if (!tf.getGradient('MetalabTranspose2D')) {
  tf.registerGradient({ kernelName: 'MetalabTranspose2D', gradFunc: (dy) => ({ x0: () => transposeKernel([dy as tf.Tensor])[0] }) });
}

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
export const layerNormKernel = defineKernel('LayerNorm', {
  outputs: ([[m, n]]) => [[m, n], [m], [m]],
  run: (k, [x, g, b], [y, mean, rstd], { eps }, [[m, n]]) => k.layernorm(x, g, b, y, mean, rstd, m, n, eps),
});

/** LayerNorm's gradients: from dy, x, g, mean, rstd to dx [m, n], dg [n], db [n]. */
export const layerNormGradKernel = defineKernel('LayerNormGrad', {
  outputs: ([[m, n]]) => [[m, n], [n], [n]],
  run: (k, [dy, x, g, mean, rstd], [dx, dg, db], _, [[m, n]]) => k.layernorm_grad(dy, x, g, mean, rstd, dx, dg, db, m, n),
});

// ------------------------------------------------------------------------------------------- attention

const padded = (T: number) => (T + 3) & ~3;

/**
 * Causal multi-head self-attention from qkv [batch * T, 3d] (columns q | k | v, head h at columns h * hs of
 * each; hs = d / heads a multiple of 4) to y [batch * T, d], heads merged, and the weights P [batch, heads, T, T4]
 * (rows padded to a multiple of 4, 0 above the diagonal) for the gradient.
 */
export const attentionKernel = defineKernel('CausalAttention', {
  outputs: ([[rows]], { batch, seqLen, heads, d }) => [[rows, d], [batch, heads, seqLen, padded(seqLen)]],
  run: (k, [qkv], [y, p], { batch, seqLen, heads, d }) => k.attention(qkv, y, p, batch, seqLen, heads, d, 1 / Math.sqrt(d / heads)),
});

/** The attention's gradient: from dy [batch * T, d], qkv and P to dqkv [batch * T, 3d]. */
export const attentionGradKernel = defineKernel('CausalAttentionGrad', {
  outputs: ([, qkv]) => [qkv],
  scratch: (_, { seqLen }) => padded(seqLen),
  run: (k, [dy, qkv, p], [dqkv], { batch, seqLen, heads, d }, _, tmp) => k.attention_grad(dy, qkv, p, dqkv, tmp, batch, seqLen, heads, d, 1 / Math.sqrt(d / heads)),
});

// ------------------------------------------------------------------------------------------- Adam

/** Sum of squares of every input (the squared global gradient norm) -> [1]. */
export const sumSquaresKernel = defineKernel('SumSquares', {
  outputs: () => [[1]],
  run: (k, inputs, [out], _, shapes, __, memory) => {
    let s = 0;
    inputs.forEach((x, i) => (s += k.sumsq(x, size(shapes[i]))));
    new Float32Array(memory.buffer, out, 1)[0] = s;
  },
});

/**
 * One Adam update of n parameters in one call: inputs p_0..p_{n-1}, m_0.., v_0.., g_0..; outputs p'_0..,
 * m'_0.., v'_0... Per element: g' = scale g; m' = b1 m + (1 - b1) g'; v' = b2 v + (1 - b2) g'^2;
 * p' = p - stepSize m' / (sqrt(v' / correction2) + eps).
 */
export const adamKernel = defineKernel('Adam', {
  outputs: (shapes) => shapes.slice(0, (3 * shapes.length) / 4),
  run: (k, inputs, outputs, { scale, beta1, beta2, stepSize, correction2, eps }, shapes) => {
    const n = inputs.length / 4;
    for (let i = 0; i < n; i++) {
      const [p, m, v, g] = [0, 1, 2, 3].map((j) => inputs[j * n + i]);
      k.adam(p, m, v, g, outputs[i], outputs[n + i], outputs[2 * n + i], size(shapes[i]), scale, beta1, beta2, stepSize, correction2, eps);
    }
  },
});

// ------------------------------------------------------------------------------------------- LSTM

/**
 * One LSTM step, feature-major (columns: the batch's sequences): pre-activations = columns of step t of
 * xw [4H, T B] (input projection, bias included) + hw [4H, B] (W_h^T h_{t-1}); gates i, f, g, o in row blocks
 * of H. From c_{t-1} [H, B]: returns h_t, c_t [H, B] and the activated gates [4H, B].
 */
export const lstmCellKernel = defineKernel('LstmCell', {
  outputs: ([, hw, c]) => [c, c, hw],
  run: (k, [xw, hw, c0], [h, c, gates], { t }, [[, TB], , [H, B]]) => k.lstm_cell(xw, hw, c0, h, c, gates, t, TB / B, B, H),
});

/**
 * One LSTM step backwards, feature-major: dh = columns of step t of dy [H, T B] + dhNext [H, B]; with dcNext,
 * the step's gates [4H, B], c_t and c_{t-1}: returns dc_{t-1} [H, B] and the pre-activations' gradient dz [4H, B].
 */
export const lstmCellGradKernel = defineKernel('LstmCellGrad', {
  outputs: ([, dhNext, , gates]) => [dhNext, gates],
  run: (k, [dy, dhNext, dcNext, gates, c, cPrev], [dcPrev, dz], { t }, [[, TB], [H, B]]) => k.lstm_cell_grad(dy, dhNext, dcNext, gates, c, cPrev, dcPrev, dz, t, TB / B, B, H),
});

// ------------------------------------------------------------------------------------------- VSML

/** z [R, N A B] = zf [R, N A] + zb [R, N B], broadcast over the cells (n, a, b). */
export const combineKernel = defineKernel('VsmlCombine', {
  outputs: ([[R]], { N, A, B }) => [[R, N * A * B]],
  run: (k, [zf, zb], [z], { N, A, B }, [[R]]) => k.combine(zf, zb, z, R, N, A, B),
});

/** combine's gradient: dzf [R, N A] (sum over b) and dzb [R, N B] (sum over a). */
export const combineGradKernel = defineKernel('VsmlCombineGrad', {
  outputs: ([[R]], { N, A, B }) => [[R, N * A], [R, N * B]],
  run: (k, [dz], [dzf, dzb], { N, A, B }, [[R]]) => k.combine_grad(dz, dzf, dzb, R, N, A, B),
});

/** Mean over a (overA 1: [rows, N B]) or over b (overA 0: [rows, N A]) of the first `rows` rows of x [F, N A B]. */
export const cellMeanKernel = defineKernel('VsmlCellMean', {
  outputs: (_, { rows, N, A, B, overA }) => [[rows, N * (overA ? B : A)]],
  run: (k, [x], [y], { rows, N, A, B, overA }) => k.cellmean(x, y, rows, N, A, B, overA),
});

/** cellMean's gradient into [total, N A B] (rows past `rows` are 0). */
export const cellSpreadKernel = defineKernel('VsmlCellSpread', {
  outputs: (_, { total, N, A, B }) => [[total, N * A * B]],
  run: (k, [dy], [dx], { rows, total, N, A, B, overA }) => k.cellspread(dy, dx, rows, total, N, A, B, overA),
});

/** One LSTM tick of every VSML cell (S a multiple of 4): state [2S, C] (h; c), z [4S, C], U [4S, S] -> state' [2S, C], gates [4S, C]. */
export const vsmlTickKernel = defineKernel('VsmlTick', {
  outputs: ([state, z]) => [state, z],
  scratch: ([, , U]) => U[0] * U[1],
  run: (k, [state, z, U], [out, acts], _, [[S2, C]], u4) => k.vsml_tick(state, z, U, out, acts, u4, S2 / 2, C),
});

/** The tick's gradient: from dout, state, gates, out, U to dstate [2S, C] and the pre-activations' gradient [4S, C]. */
export const vsmlTickGradKernel = defineKernel('VsmlTickGrad', {
  outputs: ([dout, , acts]) => [dout, acts],
  run: (k, [dout, state, acts, out, U], [dstate, dpre], _, [[S2, C]]) => k.vsml_tick_grad(dout, state, acts, out, U, dstate, dpre, S2 / 2, C),
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

// ------------------------------------------------------------------------------------------- losses (JS)

/**
 * Mean softmax cross-entropy of logits [m, n] against class indices [m] (as floats): the loss [], the accuracy []
 * (argmax = label) and the loss's gradient with respect to the logits, (softmax - onehot) / m [m, n].
 * Small (n = classes): plain TypeScript.
 */
const SOFTMAX_CE = 'MetalabSoftmaxCrossEntropy';
for (const backendName of BACKENDS) {
  if (tf.getKernel(SOFTMAX_CE, backendName)) continue;
  tf.registerKernel({
    kernelName: SOFTMAX_CE,
    backendName,
    kernelFunc: ({ inputs, backend }) => {
      const [logitsInfo, labelsInfo] = Object.values(inputs) as tf.TensorInfo[];
      const [m, n] = logitsInfo.shape;
      const wasm = backend as unknown as WasmBackendLike & { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
      const cpu = backend as unknown as CpuBackendLike;
      const read = (t: tf.TensorInfo) => (backendName === 'wasm' ? wasm.typedArrayFromHeap(t) : cpu.data.get(t.dataId).values).slice();
      const logits = read(logitsInfo);
      const labels = read(labelsInfo);
      const grad = new Float32Array(m * n);
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
        for (let j = 0; j < n; j++) grad[row + j] = (Math.exp(logits[row + j] - max) / sum - (j === labels[i] ? 1 : 0)) / m;
        total += Math.log(sum) + max - logits[row + labels[i]];
        if (arg === labels[i]) correct += 1;
      }
      const values = [new Float32Array([total / m]), new Float32Array([correct / m]), grad];
      const shapes = [[], [], [m, n]];
      if (backendName === 'wasm') {
        const outs = shapes.map((s) => wasm.makeOutput(s, 'float32'));
        outs.forEach((out, i) => wasm.typedArrayFromHeap(out).set(values[i]));
        return outs;
      }
      return values.map((v, i) => cpu.makeTensorInfo(shapes[i], 'float32', v));
    },
  });
}
export function softmaxCrossEntropyKernel(logits: tf.Tensor2D, labels: tf.Tensor1D): [tf.Scalar, tf.Scalar, tf.Tensor2D] {
  return tf.engine().runKernel(SOFTMAX_CE, { logits, labels }, {}) as unknown as [tf.Scalar, tf.Scalar, tf.Tensor2D];
}
