import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpiclClassificationTask, linearRegressionTask } from '../../shared/spec';
import { loadDataset } from '../../main/engine/data';
import { Rng, seedFrom } from '../../main/engine/rng';
import { createTaskSampler, type SequenceBatch, type TaskSampler } from '../../main/engine/tasks';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

const data = { dataDir: null, seed: 0 };

/** Least-squares weights of a noise-free regression sequence (dim 2: solve from two examples). */
function weightsOf(task: TaskSampler, b: SequenceBatch, seq: number): [number, number] {
  const x = (t: number) => b.inputs.subarray((seq * task.seqLen + t) * 3, (seq * task.seqLen + t) * 3 + 2);
  const y = (t: number) => b.targets[seq * task.seqLen + t];
  const [a, c] = [x(0), x(1)];
  const det = a[0] * c[1] - a[1] * c[0];
  return [(y(0) * c[1] - y(1) * a[1]) / det, (a[0] * y(1) - c[0] * y(0)) / det];
}

describe('linear-regression task family', () => {
  const make = (numTasks: number | 'fresh', seed = 1) =>
    createTaskSampler(
      linearRegressionTask.parse({ family: 'linear-regression', dim: 2, seqLen: 6, noiseVariance: 0, numTasks }),
      seed,
      data,
    );

  it('samples deterministically from its RNG, with tokens [x_i, y_{i-1}]', async () => {
    const task = await make(8);
    const a = await task.sample(new Rng(5), 4, 'train');
    expect(await task.sample(new Rng(5), 4, 'train')).toEqual(a);
    expect(await task.sample(new Rng(6), 4, 'train')).not.toEqual(a);
    for (let t = 0; t < 6; t++) expect(a.inputs[t * 3 + 2]).toBe(t === 0 ? 0 : a.targets[t - 1]);
  });

  it('draws training and seen tasks from the pool, unseen tasks from outside it, fresh tasks anew', async () => {
    const pool = await make(2);
    const round = (w: number[]) => w.map((v) => v.toFixed(4)).join();
    const poolWeights = new Set<string>();
    const train = await pool.sample(new Rng(1), 40, 'train');
    for (let s = 0; s < 40; s++) poolWeights.add(round(weightsOf(pool, train, s)));
    expect(poolWeights.size).toBe(2);
    const seen = await pool.sample(new Rng(2), 20, 'seen');
    for (let s = 0; s < 20; s++) expect(poolWeights.has(round(weightsOf(pool, seen, s)))).toBe(true);
    const unseen = await pool.sample(new Rng(3), 20, 'unseen');
    for (let s = 0; s < 20; s++) expect(poolWeights.has(round(weightsOf(pool, unseen, s)))).toBe(false);
    const fresh = await make('fresh');
    const f = await fresh.sample(new Rng(1), 30, 'train');
    expect(new Set(Array.from({ length: 30 }, (_, s) => round(weightsOf(fresh, f, s)))).size).toBe(30);
    // Fresh tasks: no task of an evaluation was seen in training.
    expect(fresh.evalSplits).toEqual(['unseen']);
    await expect(fresh.sample(new Rng(1), 2, 'seen')).rejects.toThrow(/unknown evaluation split/);
    // Another seed, another pool.
    const other = await make(2, 99);
    const o = await other.sample(new Rng(1), 10, 'train');
    for (let s = 0; s < 10; s++) expect(poolWeights.has(round(weightsOf(other, o, s)))).toBe(false);
  });
});

describe('gpicl-classification task family', () => {
  const spec = (over: Record<string, unknown> = {}) =>
    gpiclClassificationTask.parse({
      family: 'gpicl-classification',
      dataset: 'mnist',
      classes: 5,
      inputDim: 8,
      seqLen: 10,
      numTasks: 4,
      ...over,
    });

  it('builds tokens [A x_i, onehot(y_{i-1})] with permuted labels, deterministically', async () => {
    const task = await createTaskSampler(spec(), 3, data);
    expect([task.inputDim, task.outputDim, task.feedback, task.objective]).toEqual([13, 5, 5, 'classification']);
    expect(task.evalSplits).toEqual(['seen', 'unseen']);
    const b = await task.sample(new Rng(7), 6, 'train');
    expect(await task.sample(new Rng(7), 6, 'train')).toEqual(b);
    for (let s = 0; s < 6; s++) {
      for (let t = 0; t < 10; t++) {
        const label = b.inputs.subarray((s * 10 + t) * 13 + 8, (s * 10 + t + 1) * 13);
        const expected = Array.from({ length: 5 }, (_, c) => (t > 0 && c === b.targets[s * 10 + t - 1] ? 1 : 0));
        expect(Array.from(label)).toEqual(expected);
        expect(b.targets[s * 10 + t]).toBeGreaterThanOrEqual(0);
        expect(b.targets[s * 10 + t]).toBeLessThan(5);
      }
    }
  });

  // Small projections run on the host in double precision (exactly the float32 of the sum), large ones on the backend.
  it.each([
    [8, 0],
    [784, 1e-4],
  ])('projects each example by its task, A x (entries N(0, 1/d)), at d = %i to within %f', async (d, tolerance) => {
    // Redrawn by hand from the recipe: the pool's one task from its seed, then each sequence's pool index and
    // examples in order; A x summed in double precision.
    const s = spec({ inputDim: d, preprocess: d === 784 ? 'none' : 'pca', classes: 10, seqLen: 6, numTasks: 1 });
    const task = await createTaskSampler(s, 3, data);
    const batch = await task.sample(new Rng(7), 3, 'train');
    const options = { inputDim: d, method: s.preprocess, normalization: 'global', classes: 10 } as const;
    const { train } = await loadDataset('mnist', options, data);
    const a = new Rng(seedFrom(3, 'pool-task', 0)).fillNormal(new Float32Array(d * d), 1 / Math.sqrt(d));
    const rng = new Rng(7);
    let worst = 0;
    for (let seq = 0; seq < 3; seq++) {
      expect(rng.int(1)).toBe(0);
      for (let t = 0; t < 6; t++) {
        const x = train.inputs.subarray(rng.int(train.count) * d);
        const row = (seq * 6 + t) * (d + 10);
        for (let k = 0; k < d; k++) {
          let v = 0;
          for (let j = 0; j < d; j++) v += a[k * d + j] * x[j];
          worst = Math.max(worst, Math.abs(batch.inputs[row + k] - Math.fround(v)));
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(tolerance);
    // The pool fits in memory: drawn once, the same on every call.
    expect(await task.sample(new Rng(7), 3, 'train')).toEqual(batch);
  });

  it('evaluates other datasets on unseen tasks, and refuses unknown splits', async () => {
    const task = await createTaskSampler(spec({ evalDatasets: ['random'] }), 3, data);
    expect(task.evalSplits).toEqual(['seen', 'unseen', 'unseen-random']);
    expect((await task.sample(new Rng(1), 2, 'unseen-random')).inputs).toHaveLength(2 * 10 * 13);
    await expect(task.sample(new Rng(1), 2, 'elsewhere')).rejects.toThrow(/unknown evaluation split/);
    const fresh = await createTaskSampler(spec({ evalDatasets: ['random'], numTasks: 'fresh' }), 3, data);
    expect(fresh.evalSplits).toEqual(['unseen', 'unseen-random']);
    await expect(fresh.sample(new Rng(1), 2, 'seen')).rejects.toThrow(/unknown evaluation split/);
  });

  it('draws a biased fraction of each training batch from one fixed task', async () => {
    // With every sequence from one task, equal inputs get equal tokens: the projection is shared.
    const task = await createTaskSampler(
      spec({ biasedFraction: 1, numTasks: 'fresh', inputDim: 4, classes: 2 }),
      3,
      data,
    );
    const b = await task.sample(new Rng(1), 200, 'train');
    const byToken = new Map<string, number>();
    let clashes = 0;
    for (let i = 0; i < 200 * 10; i++) {
      const key = Array.from(b.inputs.subarray(i * 6, i * 6 + 4), (v) => v.toFixed(5)).join();
      const label = b.targets[i];
      if (byToken.has(key) && byToken.get(key) !== label) clashes++;
      byToken.set(key, label);
    }
    // The same image in the same task always carries the same permuted label.
    expect(clashes).toBe(0);
    expect(byToken.size).toBeLessThan(2000);
  });
});
