import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, MODELS, type Model, type ModelShape, type ModelSpec } from '../../main/engine/models/index';
import { installKernels } from '../../main/engine/models/kernels';
import { lstmStateSize } from '../../main/engine/models/lstm';
import { columnSum, linear, matMul2d, scaleShift, transpose2d } from '../../main/engine/models/ops';
import { transformerStateSize } from '../../main/engine/models/transformer';
import { Rng } from '../../main/engine/rng';
import { tensorCountsOverPasses } from '../helpers/models';

const shape: ModelShape = { inputDim: 5, outputDim: 3, seqLen: 5, feedback: 2 };
const tiny: Record<'mlp' | 'transformer' | 'lstm', ModelSpec> = {
  mlp: { kind: 'mlp', hidden: [6, 4], activation: 'relu' },
  transformer: { kind: 'transformer', dModel: 8, layers: 2, heads: 2, mlpRatio: 2 },
  lstm: { kind: 'lstm', hidden: 4, layers: 2 },
};
const kinds = Object.keys(tiny) as (keyof typeof tiny)[];

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  return tf.tensor(new Rng(seed).fillNormal(new Float32Array(shape.reduce((n, d) => n * d, 1)), scale), shape);
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

function dispose(model: Model): void {
  for (const p of model.params) p.variable.dispose();
}

/** Max |a - b| over two equally long lists. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

beforeAll(async () => {
  // The models as the engine runs them: with the fused kernels (initBackend installs them too).
  installKernels();
  await tf.setBackend('cpu');
  await tf.ready();
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('wasm-friendly ops', () => {
  it('transpose2d and columnSum match tf.transpose and tf.sum, on the blocked path too', async () => {
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      for (const [m, n] of [
        [7, 3],
        [512, 40],
        [640, 33],
        [1000, 17],
        [4099, 5],
      ]) {
        tf.tidy(() => {
          const x = randomTensor([m, n], m + n) as tf.Tensor2D;
          expect(values(transpose2d(x)), `${backend} [${m}, ${n}]`).toEqual(values(tf.transpose(x)));
          expect(transpose2d(x).shape).toEqual([n, m]);
          expect(maxDiff(columnSum(x).dataSync(), tf.sum(x, 0).dataSync())).toBeLessThan(1e-4 * Math.sqrt(m));
        });
      }
    }
    await tf.setBackend('cpu');
  });

  it("matMul2d, linear and scaleShift have tf's values and gradients", () => {
    tf.tidy(() => {
      const a = randomTensor([6, 4], 1) as tf.Tensor2D;
      const b = randomTensor([4, 3], 2) as tf.Tensor2D;
      const dy = randomTensor([6, 3], 3);
      const ours = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.mul(matMul2d(x as tf.Tensor2D, y as tf.Tensor2D), dy))([
        a,
        b,
      ]);
      const ref = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D), dy))([
        a,
        b,
      ]);
      expect(maxDiff(matMul2d(a, b).dataSync(), tf.matMul(a, b).dataSync())).toBe(0);
      for (const [i, g] of ours.entries())
        expect(maxDiff(g.dataSync(), ref[i].dataSync()), `grad ${i}`).toBeLessThan(1e-5);
      expect(ours.map((g) => g.shape)).toEqual([
        [6, 4],
        [4, 3],
      ]);

      // Rank 3 input through linear (bias) and scaleShift (gain and bias), against plain broadcasting ops.
      const x = randomTensor([2, 3, 4], 4);
      const w = randomTensor([4, 5], 5);
      const bias = randomTensor([5], 6);
      const g = randomTensor([5], 7);
      const beta = randomTensor([5], 8);
      const dz = randomTensor([2, 3, 5], 9);
      const f =
        (lin: typeof linear, ss: typeof scaleShift) =>
        (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, gg: tf.Tensor, be: tf.Tensor) =>
          tf.mul(ss(tf.tanh(lin(xx, ww, bb)), gg, be), dz);
      const plainLinear = <T extends tf.Tensor>(xx: T, ww: tf.Tensor, bb?: tf.Tensor) =>
        tf.add(tf.matMul(xx.reshape([-1, 4]) as tf.Tensor2D, ww as tf.Tensor2D), bb!).reshape([2, 3, 5]) as T;
      const plainScale = <T extends tf.Tensor>(xx: T, gg: tf.Tensor, be: tf.Tensor) => tf.add(tf.mul(xx, gg), be) as T;
      const got = tf.grads(f(linear, scaleShift))([x, w, bias, g, beta]);
      const want = tf.grads(f(plainLinear, plainScale))([x, w, bias, g, beta]);
      expect(linear(x, w, bias).shape).toEqual([2, 3, 5]);
      expect(linear(x, w).shape).toEqual([2, 3, 5]);
      got.forEach((t, i) => {
        expect(t.shape, `grad ${i}`).toEqual(want[i].shape);
        expect(maxDiff(t.dataSync(), want[i].dataSync()), `grad ${i}`).toBeLessThan(1e-5);
      });
    });
  });
});

describe.each(kinds)('%s model', (kind) => {
  const spec = tiny[kind];

  // Float32 central differences at a generic point (every parameter jittered away from its initial value).
  // ReLU makes the loss piecewise smooth: within eps of a kink (common in the Transformer: measured ~15% of
  // embedding and LayerNorm entries at eps 1e-3) the gradient equals one one-sided difference, so the analytic
  // value must match the central or one of the one-sided differences.
  it('matches finite differences for random entries of every parameter', () => {
    const batch = 2;
    const model = createModel(spec, shape, new Rng(7));
    const rng = new Rng(11);
    for (const p of model.params) {
      const jitter = rng.fillNormal(new Float32Array(p.variable.size), 0.3);
      tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.tensor(jitter, p.variable.shape))));
    }
    const x = randomTensor([batch, shape.seqLen, shape.inputDim], 5) as tf.Tensor3D;
    const w1 = randomTensor([batch, shape.seqLen, shape.outputDim], 6);
    const w2 = randomTensor([batch, shape.seqLen, shape.outputDim], 8);
    const loss = () =>
      tf.tidy(() => {
        const out = model.apply(x);
        return tf.add(tf.sum(tf.mul(out, w1)), tf.sum(tf.mul(tf.square(out), w2))) as tf.Scalar;
      });
    const { value, grads } = tf.variableGrads(
      loss,
      model.params.map((p) => p.variable),
    );
    const l0 = value.dataSync()[0];
    value.dispose();

    const eps = 1e-3;
    let tested = 0;
    let entries = 0;
    for (const p of model.params) {
      const analytic = grads[p.variable.name].dataSync();
      const base = p.variable.dataSync().slice();
      const at = (j: number, delta: number) => {
        const moved = base.slice();
        moved[j] += delta;
        tf.tidy(() => p.variable.assign(tf.tensor(moved, p.variable.shape)));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      for (const j of Array.from({ length: Math.min(4, base.length) }, () => rng.int(base.length))) {
        const [up, down] = [at(j, eps), at(j, -eps)];
        const numeric = (up - down) / (2 * eps);
        const differences = [numeric, (up - l0) / eps, (l0 - down) / eps];
        const error = Math.min(...differences.map((d) => Math.abs(analytic[j] - d)));
        expect(error, `${p.name}[${j}]: analytic ${analytic[j]}, central/right/left ${differences}`).toBeLessThan(
          1e-2 * Math.abs(numeric) + 5e-3,
        );
        entries += 1;
        // Float32 noise in these differences reaches a few 1e-3; where |derivative| > 0.25, a gradient 5% off fails.
        if (Math.abs(numeric) > 0.25) tested += 1;
      }
      p.variable.assign(tf.tensor(base, p.variable.shape));
    }
    expect(tested, 'entries with a derivative large enough to be a real test').toBeGreaterThan(entries / 3);
    tf.dispose([x, w1, w2, ...Object.values(grads)]);
    dispose(model);
  });

  it('is causal: output i depends on tokens 0..i only, and token i reaches output i', () => {
    const model = createModel(spec, shape, new Rng(1));
    const rng = new Rng(2);
    const base = rng.fillNormal(new Float32Array(2 * shape.seqLen * shape.inputDim));
    const run = (v: Float32Array) =>
      tf.tidy(() => model.apply(tf.tensor3d(v, [2, shape.seqLen, shape.inputDim]))).arraySync() as number[][][];
    const out = run(base);
    for (let i = 0; i < shape.seqLen; i++) {
      // Change every token after i, in both sequences.
      const later = base.slice();
      for (let b = 0; b < 2; b++) {
        for (let t = i + 1; t < shape.seqLen; t++) {
          for (let d = 0; d < shape.inputDim; d++)
            later[(b * shape.seqLen + t) * shape.inputDim + d] = rng.normal() * 3;
        }
      }
      const outLater = run(later);
      for (let b = 0; b < 2; b++)
        for (let t = 0; t <= i; t++)
          expect(maxDiff(outLater[b][t], out[b][t]), `b ${b} t ${t} i ${i}`).toBeLessThanOrEqual(1e-6);
      // Change token i only (its feedback features included): output i moves.
      const own = base.slice();
      for (let d = 0; d < shape.inputDim; d++) own[i * shape.inputDim + d] += 1;
      expect(maxDiff(run(own)[0][i], out[0][i]), `token ${i}`).toBeGreaterThan(1e-4);
    }
    dispose(model);
  });

  it('predicts at every position; paramCount is the sum of the variable sizes; parameter names are unique', () => {
    const model = createModel(spec, shape, new Rng(1));
    for (const [batch, T] of [
      [3, shape.seqLen],
      [1, shape.seqLen],
    ]) {
      const y = tf.tidy(() => model.apply(tf.ones([batch, T, shape.inputDim]) as tf.Tensor3D));
      expect(y.shape).toEqual([batch, T, shape.outputDim]);
      expect(values(y).every(Number.isFinite)).toBe(true);
      y.dispose();
    }
    expect(model.paramCount).toBe(model.params.reduce((n, p) => n + p.variable.size, 0));
    expect(new Set(model.params.map((p) => p.name)).size).toBe(model.params.length);
    dispose(model);
  });

  it('is determined by the seed', () => {
    const [a, b, c] = [42, 42, 43].map((seed) => createModel(spec, shape, new Rng(seed)));
    a.params.forEach((p, i) => {
      expect(b.params[i].name).toBe(p.name);
      expect(values(b.params[i].variable)).toEqual(values(p.variable));
    });
    expect(a.params.some((p, i) => maxDiff(p.variable.dataSync(), c.params[i].variable.dataSync()) > 0)).toBe(true);
    [a, b, c].forEach(dispose);
  });

  it('leaks no tensors across repeated forward and gradient passes, on cpu and wasm', async () => {
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = createModel(spec, shape, new Rng(1));
      const x = randomTensor([2, shape.seqLen, shape.inputDim], 1) as tf.Tensor3D;
      expect(new Set(tensorCountsOverPasses(model, x)).size, backend).toBe(1);
      x.dispose();
      dispose(model);
    }
    await tf.setBackend('cpu');
  });
});

describe('sizes', () => {
  it('counts the Transformer parameters and state as documented', () => {
    const spec = { kind: 'transformer', dModel: 16, layers: 3, heads: 4, mlpRatio: 4 } as const;
    const s: ModelShape = { inputDim: 26, outputDim: 10, seqLen: 40, feedback: 10 };
    const model = MODELS.transformer.create(spec, s, new Rng(1));
    const d = 16;
    const block = 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d);
    expect(model.paramCount).toBe(26 * d + d + 40 * d + 3 * block + 2 * d + d * 10 + 10);
    // Keys and values of every layer at every position.
    expect(model.stateSize).toBe(2 * d * 3 * 40);
    expect(transformerStateSize({ dModel: 64, layers: 2 }, 40)).toBe(10240);
    dispose(model);
  });

  it('counts the LSTM parameters and state as documented', () => {
    const spec = { kind: 'lstm', hidden: 32, layers: 2 } as const;
    const s: ModelShape = { inputDim: 26, outputDim: 10, seqLen: 40, feedback: 10 };
    const model = MODELS.lstm.create(spec, s, new Rng(1));
    const h = 32;
    expect(model.paramCount).toBe((26 + h) * 4 * h + 4 * h + (h + h) * 4 * h + 4 * h + h * 10 + 10);
    // Hidden and cell vector of every layer.
    expect(model.stateSize).toBe(2 * 2 * h);
    expect(lstmStateSize({ hidden: 256, layers: 1 })).toBe(512);
    // Forget gates start open.
    expect(
      values(model.params[1].variable)
        .slice(h, 2 * h)
        .every((v) => v === 1),
    ).toBe(true);
    expect(
      values(model.params[1].variable)
        .slice(0, h)
        .every((v) => v === 0),
    ).toBe(true);
    dispose(model);
  });

  it('gives the same outputs and gradients on wasm as on cpu', async () => {
    const spec = tiny.transformer;
    const x = new Rng(3).fillNormal(new Float32Array(2 * shape.seqLen * shape.inputDim));
    const results: number[][] = [];
    for (const backend of ['cpu', 'wasm']) {
      await tf.setBackend(backend);
      const model = createModel(spec, shape, new Rng(1));
      const input = tf.tensor3d(x, [2, shape.seqLen, shape.inputDim]);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(model.apply(input))) as tf.Scalar,
        model.params.map((p) => p.variable),
      );
      results.push([...values(value), ...model.params.flatMap((p) => values(grads[p.variable.name]))]);
      tf.dispose([input, value, ...Object.values(grads)]);
      dispose(model);
    }
    await tf.setBackend('cpu');
    expect(maxDiff(results[0], results[1])).toBeLessThan(1e-4);
  });
});
