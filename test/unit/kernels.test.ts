// The fused kernels (main/engine/models/kernels.ts, WebAssembly SIMD) against the composite tfjs ops they replace
// (what non-wasm backends run): same model outputs, gradients and Adam updates, on cpu and wasm; and the host
// matrix products of the learned objective's dual tape.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, type ModelShape, type ModelSpec } from '../../main/engine/models/index';
import { fastKernels, installKernels, setFastKernels } from '../../main/engine/models/kernels';
import { instantiate } from '../../main/engine/models/simd/kernels';
import { matMulAcc, matMulTransAAcc, matMulTransBAcc, setHostSimd } from '../../main/engine/models/hostProducts';
import { softmaxCrossEntropy } from '../../main/engine/models/ops';
import { Adam } from '../../main/engine/optimizer';
import { Rng } from '../../main/engine/rng';

const cases: [string, ModelSpec, ModelShape][] = [
  [
    'transformer',
    { kind: 'transformer', dModel: 16, layers: 2, heads: 2, mlpRatio: 2 },
    { inputDim: 7, outputDim: 3, seqLen: 6, feedback: 3 },
  ],
  [
    'transformer, head size 20 (16 + 4 columns at a time)',
    { kind: 'transformer', dModel: 40, layers: 1, heads: 2, mlpRatio: 1 },
    { inputDim: 5, outputDim: 2, seqLen: 9, feedback: 2 },
  ],
  [
    'transformer, odd head size (composite attention)',
    { kind: 'transformer', dModel: 6, layers: 1, heads: 2, mlpRatio: 2 },
    { inputDim: 5, outputDim: 2, seqLen: 5, feedback: 2 },
  ],
  ['lstm, two layers', { kind: 'lstm', hidden: 6, layers: 2 }, { inputDim: 5, outputDim: 3, seqLen: 7, feedback: 3 }],
  [
    'lstm, hidden 260 (feature-major)',
    { kind: 'lstm', hidden: 260, layers: 2 },
    { inputDim: 3, outputDim: 2, seqLen: 3, feedback: 2 },
  ],
  [
    'lstm, hidden 5 (scalar tails)',
    { kind: 'lstm', hidden: 5, layers: 1 },
    { inputDim: 3, outputDim: 2, seqLen: 4, feedback: 2 },
  ],
  [
    'vsml with a hidden layer',
    { kind: 'vsml', stateSize: 8, messageSize: 4, hidden: [3], ticks: 2 },
    { inputDim: 6, outputDim: 3, seqLen: 5, feedback: 3 },
  ],
  [
    'vsml regression, state not a multiple of 4 (composite tick)',
    { kind: 'vsml', stateSize: 3, messageSize: 3, hidden: [], ticks: 1 },
    { inputDim: 4, outputDim: 1, seqLen: 4, feedback: 1 },
  ],
];

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Output and every parameter's gradient of sum(w * y^2), with the fused kernels on or off. */
function outputsAndGrads(spec: ModelSpec, shape: ModelShape, fused: boolean): number[][] {
  setFastKernels(fused);
  try {
    const model = createModel(spec, shape, new Rng(5));
    const rng = new Rng(9);
    const random = (dim: number) =>
      tf.tensor3d(rng.fillNormal(new Float32Array(3 * shape.seqLen * dim)), [3, shape.seqLen, dim]);
    const x = random(shape.inputDim);
    const w = random(shape.outputDim);
    const y = tf.tidy(() => model.apply(x));
    const loss = () => tf.sum(tf.mul(w, tf.square(model.apply(x)))) as tf.Scalar;
    const { grads } = tf.variableGrads(
      loss,
      model.params.map((p) => p.variable),
    );
    const out = [Array.from(y.dataSync()), ...model.params.map((p) => Array.from(grads[p.variable.name].dataSync()))];
    tf.dispose([x, w, y, ...Object.values(grads)]);
    for (const p of model.params) p.variable.dispose();
    return out;
  } finally {
    setFastKernels(true);
  }
}

beforeAll(() => installKernels());
afterAll(async () => {
  setFastKernels(true);
  await tf.setBackend('cpu');
});

describe('fused kernels', () => {
  it.each(['cpu', 'wasm'])('are in use on %s', async (backend) => {
    await tf.setBackend(backend);
    expect(fastKernels()).toBe(true);
  });

  describe.each(['cpu', 'wasm'])('on %s', (backend) => {
    it.each(cases)("give the composite ops' outputs and gradients: %s", async (_, spec, shape) => {
      await tf.setBackend(backend);
      const fused = outputsAndGrads(spec, shape, true);
      const plain = outputsAndGrads(spec, shape, false);
      fused.forEach((values, i) => {
        const scale = plain[i].reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        expect(maxDiff(values, plain[i]) / scale, i === 0 ? 'output' : `gradient ${i - 1}`).toBeLessThan(2e-5);
      });
    });
  });

  it.each(['cpu', 'wasm'])('softmax cross-entropy: loss, accuracy and gradient as composed on %s', async (b) => {
    await tf.setBackend(b);
    const rng = new Rng(4);
    const logits = tf.tensor2d(rng.fillNormal(new Float32Array(9 * 5), 2), [9, 5]);
    const labels = tf.tensor1d([0, 4, 2, 2, 1, 3, 0, 4, 1], 'int32');
    const run = (fused: boolean) => {
      setFastKernels(fused);
      let accuracy = 0;
      const f = (z: tf.Tensor) => {
        const out = softmaxCrossEntropy(z as tf.Tensor2D, labels);
        accuracy = out.accuracy.dataSync()[0];
        out.accuracy.dispose();
        return out.loss;
      };
      const { value, grad } = tf.valueAndGrad(f)(logits);
      const result = { loss: value.dataSync()[0], accuracy, grad: Array.from(grad.dataSync()) };
      tf.dispose([value, grad]);
      setFastKernels(true);
      return result;
    };
    const fused = run(true);
    const plain = run(false);
    expect(Math.abs(fused.loss - plain.loss)).toBeLessThan(1e-6);
    expect(fused.accuracy).toBe(plain.accuracy);
    expect(maxDiff(fused.grad, plain.grad)).toBeLessThan(1e-7);
    tf.dispose([logits, labels]);
  });

  it('Adam: the fused update equals the composite one, clipping included', async () => {
    await tf.setBackend('wasm');
    const run = (fused: boolean) => {
      setFastKernels(fused);
      const rng = new Rng(3);
      const p = { name: 'p', variable: tf.variable(tf.tensor1d(rng.fillNormal(new Float32Array(37)))) };
      const adam = new Adam([p], 1e-8);
      const norms: number[] = [];
      return (async () => {
        for (let k = 0; k < 3; k++) {
          const g = tf.tensor1d(rng.fillNormal(new Float32Array(37), 2));
          norms.push(await adam.step([g], 0.01, 1));
          g.dispose();
        }
        const values = Array.from(p.variable.dataSync());
        adam.dispose();
        p.variable.dispose();
        setFastKernels(true);
        return { values, norms };
      })();
    };
    const fused = await run(true);
    const plain = await run(false);
    expect(maxDiff(fused.norms, plain.norms)).toBeLessThan(1e-4);
    expect(maxDiff(fused.values, plain.values)).toBeLessThan(1e-6);
  });

  it('approximate exp, sigmoid and tanh to float precision', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const k = instantiate(memory);
    const n = 401;
    const f = new Float32Array(memory.buffer);
    for (let i = 0; i < n; i++) f[i] = -20 + (40 * i) / (n - 1) + 1e-3;
    const worst = [0, 0, 0];
    for (const mode of [0, 1, 2]) {
      k.activation(0, 4 * 1024, n, mode);
      for (let i = 0; i < n; i++) {
        const x = f[i];
        const got = f[1024 + i];
        if (mode === 0) worst[0] = Math.max(worst[0], Math.abs(got - Math.exp(x)) / Math.exp(x));
        if (mode === 1) worst[1] = Math.max(worst[1], Math.abs(got - 1 / (1 + Math.exp(-x))));
        const tanh = Math.tanh(x);
        if (mode === 2) worst[2] = Math.max(worst[2], Math.abs(got - tanh) / Math.max(Math.abs(tanh), 1e-3));
      }
    }
    expect(worst[0]).toBeLessThan(3e-7);
    expect(worst[1]).toBeLessThan(3e-7);
    expect(worst[2]).toBeLessThan(1e-6);
  });
});

describe('host matrix products (the dual tape)', () => {
  // out += a b, a^T g, g w^T against float64 sums, on shapes with and without 4-float tails and with zero entries
  // (skipped by gemmAcc); the SIMD kernels and the plain loops must both get them right.
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [3, 2, 5],
    [7, 16, 8],
    [33, 24, 64],
    [5, 9, 13],
  ];
  const random = (rng: Rng, n: number) =>
    Float32Array.from({ length: n }, () => (rng.next() < 0.3 ? 0 : rng.next() * 2 - 1));
  it.each([true, false])('SIMD %s: agree with float64 sums, accumulating into out', (simd) => {
    setHostSimd(simd);
    const rng = new Rng(5);
    for (const [m, k, n] of shapes) {
      const a = random(rng, m * k);
      const b = random(rng, k * n);
      const g = random(rng, m * n);
      const start = random(rng, Math.max(m * n, k * n, m * k));
      const ref = (rows: number, cols: number, f: (i: number, j: number) => number) =>
        Float64Array.from({ length: rows * cols }, (_, x) => start[x] + f(Math.floor(x / cols), x % cols));
      const sum = (len: number, f: (p: number) => number) => {
        let s = 0;
        for (let p = 0; p < len; p++) s += f(p);
        return s;
      };
      const ab = start.slice(0, m * n);
      matMulAcc(a, b, ab, m, k, n);
      const atg = start.slice(0, k * n);
      matMulTransAAcc(a, g, atg, m, k, n);
      const gbt = start.slice(0, m * k);
      matMulTransBAcc(g, b, gbt, m, n, k);
      const close = (ours: Float32Array, want: Float64Array) =>
        expect(Math.max(...ours.map((x, i) => Math.abs(x - want[i]) / (1 + Math.abs(want[i]))))).toBeLessThan(1e-5);
      close(
        ab,
        ref(m, n, (i, j) => sum(k, (p) => a[i * k + p] * b[p * n + j])),
      );
      close(
        atg,
        ref(k, n, (p, j) => sum(m, (i) => a[i * k + p] * g[i * n + j])),
      );
      close(
        gbt,
        ref(m, k, (i, p) => sum(n, (j) => g[i * n + j] * b[p * n + j])),
      );
    }
    setHostSimd(true);
  });
});
