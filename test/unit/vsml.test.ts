import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { installKernels } from '../../main/engine/models/kernels';
import { vsml } from '../../main/engine/models/vsml';
import type { Model, ModelShape } from '../../main/engine/models/index';
import { Rng } from '../../main/engine/rng';
import { tensorCountsOverPasses } from '../helpers/models';

type VsmlSpec = Parameters<typeof vsml.create>[0];

const tiny: VsmlSpec = { kind: 'vsml', stateSize: 4, messageSize: 4, hidden: [], ticks: 2 };
/** 3 input features and 2 classes: tokens are [x (3), onehot(previous label) (2)]. */
const shape: ModelShape = { inputDim: 5, outputDim: 2, seqLen: 4, feedback: 2 };

function tokens(batch: number, s: ModelShape, seed: number): Float32Array {
  const rng = new Rng(seed);
  const values = new Float32Array(batch * s.seqLen * s.inputDim);
  const x = s.inputDim - s.feedback;
  for (let b = 0; b < batch; b++) {
    let previous = -1;
    for (let t = 0; t < s.seqLen; t++) {
      const row = (b * s.seqLen + t) * s.inputDim;
      for (let d = 0; d < x; d++) values[row + d] = rng.normal();
      if (s.feedback === 1) values[row + x] = previous < 0 ? 0 : rng.normal();
      else if (previous >= 0) values[row + x + previous] = 1;
      previous = rng.int(Math.max(s.feedback, 1));
    }
  }
  return values;
}

/** Index blocks of a parameter for the gradient check: lstm.w [4S, 2M + S] per gate and input part, lstm.b per gate. */
function blocks(name: string, size: number): number[][] {
  const S = tiny.stateSize,
    M = tiny.messageSize;
  const all = Array.from({ length: size }, (_, j) => j);
  const cols = 2 * M + S;
  if (name === 'lstm.b') return [0, 1, 2, 3].map((gate) => all.filter((j) => Math.floor(j / S) === gate));
  if (name !== 'lstm.w') return [all];
  return [0, 1, 2, 3].flatMap((gate) =>
    [
      [0, M],
      [M, 2 * M],
      [2 * M, cols],
    ].map(([from, to]) => all.filter((j) => Math.floor(j / cols / S) === gate && j % cols >= from && j % cols < to)),
  );
}

function run(model: Model, values: Float32Array, batch: number, s: ModelShape): Float32Array {
  return tf.tidy(() => model.apply(tf.tensor3d(values, [batch, s.seqLen, s.inputDim]))).dataSync() as Float32Array;
}

function dispose(model: Model): void {
  for (const p of model.params) p.variable.dispose();
}

beforeAll(async () => {
  // The models as the engine runs them: with the fused kernels (initBackend installs them too).
  installKernels();
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('vsml model', () => {
  // Float32 central differences at a generic point (random parameters, not the saturated initial gate biases).
  it.each([
    ['one layer, classification', [], shape],
    ['a hidden layer, classification', [3], shape],
    ['a hidden layer, regression', [3], { inputDim: 4, outputDim: 1, seqLen: 4, feedback: 1 }],
  ] as const)('matches finite differences (%s)', (_, hidden, s) => {
    const batch = 2;
    const model = vsml.create({ ...tiny, hidden: [...hidden] }, s, new Rng(7));
    const rng = new Rng(11);
    for (const p of model.params)
      p.variable.assign(tf.tensor(rng.fillNormal(new Float32Array(p.variable.size)), p.variable.shape));
    const x = tf.tensor3d(tokens(batch, s, 5), [batch, s.seqLen, s.inputDim]);
    const weights = tf.tensor3d(rng.fillNormal(new Float32Array(batch * s.seqLen * s.outputDim)), [
      batch,
      s.seqLen,
      s.outputDim,
    ]);
    const loss = () => tf.sum(tf.mul(model.apply(x), weights)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(
      loss,
      model.params.map((p) => p.variable),
    );
    value.dispose();

    // Directional derivatives along random directions within each block (every gate's weights on the forward
    // message, the backward message and h; each gate's bias; each other parameter whole), then single entries.
    const eps = 1e-2;
    for (const p of model.params) {
      const analytic = grads[p.variable.name].dataSync();
      const base = p.variable.dataSync().slice();
      const along = (direction: Float32Array) => {
        const at = (scale: number) => {
          p.variable.assign(
            tf.tensor(
              base.map((v, j) => v + scale * direction[j]),
              p.variable.shape,
            ),
          );
          return tf.tidy(() => loss().dataSync()[0]);
        };
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        return { numeric, analytic: direction.reduce((sum, d, j) => sum + d * analytic[j], 0) };
      };
      let small = 0;
      const parts = blocks(p.name, base.length);
      for (const block of parts) {
        const direction = new Float32Array(base.length);
        for (const j of block) direction[j] = rng.normal();
        const { numeric, analytic: a } = along(direction);
        const name = `${p.name} [${block[0]}..${block[block.length - 1]}]`;
        expect(Math.abs(a - numeric), name).toBeLessThan(1e-2 * Math.abs(numeric) + 2e-5);
        // Float32 differences resolve ~1e-5: where the derivative is well above that, a gradient 10% off fails.
        if (Math.abs(numeric) > 1e-3)
          expect(Math.abs(1.1 * a - numeric), name).toBeGreaterThan(5e-2 * Math.abs(numeric) + 2e-5);
        else small += 1;
      }
      expect(small, `${p.name}: blocks with a derivative too small to test`).toBeLessThanOrEqual(parts.length / 4);
      const entries = Array.from({ length: 4 }, () => rng.int(base.length));
      const probes = entries.map((j) => along(Float32Array.from(base, (_, k) => (k === j ? 1 : 0))));
      const error =
        Math.hypot(...probes.map((q) => q.analytic - q.numeric)) /
        Math.max(Math.hypot(...probes.map((q) => q.numeric)), 1e-3);
      expect(error, `${p.name} entries ${entries}`).toBeLessThan(1e-2);
      p.variable.assign(tf.tensor(base, p.variable.shape));
    }
    tf.dispose([x, weights, ...Object.values(grads)]);
    dispose(model);
  });

  it('is causal: output i depends on tokens 0..i only, and the feedback of token i+1 reaches output i+1', () => {
    const s: ModelShape = { inputDim: 5, outputDim: 2, seqLen: 6, feedback: 2 };
    const model = vsml.create({ ...tiny, hidden: [3] }, s, new Rng(1));
    const base = tokens(2, s, 3);
    const out = run(model, base, 2, s);
    const at = (o: Float32Array, b: number, t: number) =>
      Array.from(o.subarray((b * s.seqLen + t) * 2, (b * s.seqLen + t + 1) * 2));
    for (let i = 0; i < s.seqLen - 1; i++) {
      // Change every token after i (inputs and feedback) in sequence 1 only.
      const changed = base.slice();
      for (let t = i + 1; t < s.seqLen; t++)
        for (let d = 0; d < s.inputDim; d++) changed[(s.seqLen + t) * s.inputDim + d] += 1 + d;
      const out2 = run(model, changed, 2, s);
      for (let t = 0; t < s.seqLen; t++) {
        expect(at(out2, 0, t)).toEqual(at(out, 0, t));
        if (t <= i) expect(at(out2, 1, t)).toEqual(at(out, 1, t));
      }
      expect(at(out2, 1, i + 1)).not.toEqual(at(out, 1, i + 1));

      // Only the feedback (previous label) of token i+1.
      const label = base.slice();
      const row = (s.seqLen + i + 1) * s.inputDim + 3;
      [label[row], label[row + 1]] = [1 - label[row], label[row]];
      const out3 = run(model, label, 2, s);
      for (let t = 0; t <= i; t++) expect(at(out3, 1, t)).toEqual(at(out, 1, t));
      expect(at(out3, 1, i + 1)).not.toEqual(at(out, 1, i + 1));
    }
    dispose(model);
  });

  it('has one prediction per position and class, and a parameter count independent of the layer sizes', () => {
    const model = vsml.create(tiny, shape, new Rng(1));
    const y = tf.tidy(() => model.apply(tf.zeros([3, shape.seqLen, shape.inputDim])));
    expect(y.shape).toEqual([3, 4, 2]);
    y.dispose();
    const S = 4,
      M = 4;
    // Shared LSTM (gates x [forward msg, backward msg, h] + bias) and the forward projection.
    expect(model.paramCount).toBe(4 * S * (2 * M + S) + 4 * S + (M * S + M));
    expect(model.stateSize).toBe(3 * 2 * S * 2);
    const wide = vsml.create(tiny, { inputDim: 26, outputDim: 10, seqLen: 4, feedback: 10 }, new Rng(1));
    expect(wide.paramCount).toBe(model.paramCount);
    expect(wide.stateSize).toBe(16 * 10 * S * 2);
    // A hidden layer adds the backward projection (hidden units need backward messages), not per-connection weights.
    const deep = vsml.create({ ...tiny, hidden: [7, 5] }, shape, new Rng(1));
    expect(deep.paramCount).toBe(model.paramCount + M * S + M);
    expect(deep.stateSize).toBe((3 * 7 + 7 * 5 + 5 * 2) * S * 2);
    const regression = vsml.create(tiny, { inputDim: 4, outputDim: 1, seqLen: 4, feedback: 1 }, new Rng(1));
    const r = tf.tidy(() => regression.apply(tf.ones([2, 4, 4])));
    expect(r.shape).toEqual([2, 4, 1]);
    expect(Array.from(r.dataSync()).every(Number.isFinite)).toBe(true);
    r.dispose();
    expect(() => vsml.create(tiny, { inputDim: 5, outputDim: 3, seqLen: 4, feedback: 2 }, new Rng(1))).toThrow(
      /feedback/,
    );
    [model, wide, deep, regression].forEach(dispose);
  });

  it('leaks no tensors across repeated forward and gradient passes', async () => {
    for (const backend of ['cpu', 'wasm']) {
      await import('@tensorflow/tfjs-backend-wasm');
      await tf.setBackend(backend);
      const model = vsml.create({ ...tiny, hidden: [3] }, shape, new Rng(1));
      const x = tf.tensor3d(tokens(2, shape, 1), [2, shape.seqLen, shape.inputDim]);
      expect(new Set(tensorCountsOverPasses(model, x)).size, backend).toBe(1);
      x.dispose();
      dispose(model);
    }
    await tf.setBackend('cpu');
  });

  it('is determined by the seed', () => {
    const values = tokens(2, shape, 9);
    const a = vsml.create({ ...tiny, hidden: [3] }, shape, new Rng(42));
    const b = vsml.create({ ...tiny, hidden: [3] }, shape, new Rng(42));
    const c = vsml.create({ ...tiny, hidden: [3] }, shape, new Rng(43));
    for (const [i, p] of a.params.entries())
      expect(Array.from(p.variable.dataSync())).toEqual(Array.from(b.params[i].variable.dataSync()));
    expect(Array.from(run(a, values, 2, shape))).toEqual(Array.from(run(b, values, 2, shape)));
    expect(Array.from(run(a, values, 2, shape))).not.toEqual(Array.from(run(c, values, 2, shape)));
    [a, b, c].forEach(dispose);
  });
});
