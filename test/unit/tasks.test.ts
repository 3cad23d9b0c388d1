import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { gpiclClassificationTask, linearRegressionTask } from '../../shared/spec';
import { Rng } from '../../main/engine/rng';
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
    const a = task.sample(new Rng(5), 4, 'train');
    expect(task.sample(new Rng(5), 4, 'train')).toEqual(a);
    expect(task.sample(new Rng(6), 4, 'train')).not.toEqual(a);
    for (let t = 0; t < 6; t++) expect(a.inputs[t * 3 + 2]).toBe(t === 0 ? 0 : a.targets[t - 1]);
  });

  it('draws training and seen tasks from the pool, unseen tasks from outside it, fresh tasks anew', async () => {
    const pool = await make(2);
    const round = (w: number[]) => w.map((v) => v.toFixed(4)).join();
    const poolWeights = new Set<string>();
    const train = pool.sample(new Rng(1), 40, 'train');
    for (let s = 0; s < 40; s++) poolWeights.add(round(weightsOf(pool, train, s)));
    expect(poolWeights.size).toBe(2);
    const seen = pool.sample(new Rng(2), 20, 'seen');
    for (let s = 0; s < 20; s++) expect(poolWeights.has(round(weightsOf(pool, seen, s)))).toBe(true);
    const unseen = pool.sample(new Rng(3), 20, 'unseen');
    for (let s = 0; s < 20; s++) expect(poolWeights.has(round(weightsOf(pool, unseen, s)))).toBe(false);
    const fresh = await make('fresh');
    const f = fresh.sample(new Rng(1), 30, 'train');
    expect(new Set(Array.from({ length: 30 }, (_, s) => round(weightsOf(fresh, f, s)))).size).toBe(30);
    // Fresh tasks: no task of an evaluation was seen in training.
    expect(fresh.evalSplits).toEqual(['unseen']);
    expect(() => fresh.sample(new Rng(1), 2, 'seen')).toThrow(/unknown evaluation split/);
    // Another seed, another pool.
    const other = await make(2, 99);
    const o = other.sample(new Rng(1), 10, 'train');
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
    const b = task.sample(new Rng(7), 6, 'train');
    expect(task.sample(new Rng(7), 6, 'train')).toEqual(b);
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

  it('evaluates other datasets on unseen tasks, and refuses unknown splits', async () => {
    const task = await createTaskSampler(spec({ evalDatasets: ['random'] }), 3, data);
    expect(task.evalSplits).toEqual(['seen', 'unseen', 'unseen-random']);
    expect(task.sample(new Rng(1), 2, 'unseen-random').inputs).toHaveLength(2 * 10 * 13);
    expect(() => task.sample(new Rng(1), 2, 'elsewhere')).toThrow(/unknown evaluation split/);
    const fresh = await createTaskSampler(spec({ evalDatasets: ['random'], numTasks: 'fresh' }), 3, data);
    expect(fresh.evalSplits).toEqual(['unseen', 'unseen-random']);
    expect(() => fresh.sample(new Rng(1), 2, 'seen')).toThrow(/unknown evaluation split/);
  });

  it('draws a biased fraction of each training batch from one fixed task', async () => {
    // With every sequence from one task, equal inputs get equal tokens: the projection is shared.
    const task = await createTaskSampler(
      spec({ biasedFraction: 1, numTasks: 'fresh', inputDim: 4, classes: 2 }),
      3,
      data,
    );
    const b = task.sample(new Rng(1), 200, 'train');
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
