// GPICL classification tasks (Kirsch et al. 2022): a task is a random linear projection A (d x d, entries
// N(0, 1/d)) of a base dataset's inputs and a random permutation of its labels. Tasks come from a pool of
// N, each regenerated from its own seed (so any N costs no memory; a small pool is kept), or fresh per sequence.
// A sequence holds L examples of one task; token i = [A x_i, onehot(y_{i-1})] (zeros at i = 0), its target y_i.
// Training sequences use the training split's examples, evaluations the test split's.
// The host draws each sequence's task and examples; large projections run on the backend (at MNIST's 784 pixels a
// batch of 128 sequences is 8 GFLOP: ~14 s in plain JavaScript, ~0.8 s through XNNPACK on wasm, less on a GPU).
import * as tf from '@tensorflow/tfjs';
import { SPLITS, TASK_OBJECTIVES, unseenOn } from '../../../shared/objectives/index.js';
import type { RunSpec } from '../../../shared/spec.js';
import { loadDataset } from '../data/index.js';
import type { Examples } from '../data/types.js';
import { Rng, seedFrom } from '../rng.js';
import type { SampleSplit, SequenceBatch, TaskFamily, TaskSampler } from './index.js';

type Spec = Extract<RunSpec['task'], { family: 'gpicl-classification' }>;

interface Task {
  projection: Float32Array; // [d, d] row-major: input j contributes projection[k * d + j] to output k
  permutation: Int32Array;
}

/** A pool is kept if its projections fit in these floats (256 MB): up to 109 tasks of 784 x 784 pixels. */
const TASK_CACHE_FLOATS = 64 * 2 ** 20;
/** Projection floats handed to the backend at a time (64 MB). */
const PROJECT_CHUNK_FLOATS = 16 * 2 ** 20;

/**
 * Multiply-adds per sequence from which the backend projects: below, the host's loop (~0.6 GFLOP/s) is quicker
 * than a backend call's overhead (~0.1 ms on wasm), and the lab-scale tasks (d <= 16) stay as they were drawn.
 */
const BACKEND_PROJECTION_MACS = 2 ** 16;

/** Where projected rows go: row r of the chunk is token row `first + r` of `inputs`, at its start. */
interface ProjectedRows {
  inputs: Float32Array;
  first: number;
  tokenDim: number;
}

/** A x for each of the sequences' L examples ([n, L, d]), by its task's projection, in double precision. */
function projectOnHost(tasks: Task[], sequences: Float32Array, L: number, d: number, to: ProjectedRows): void {
  tasks.forEach(({ projection: a }, i) => {
    for (let r = i * L; r < (i + 1) * L; r++) {
      const row = (to.first + r) * to.tokenDim;
      for (let k = 0; k < d; k++) {
        let v = 0;
        for (let j = 0; j < d; j++) v += a[k * d + j] * sequences[r * d + j];
        to.inputs[row + k] = v;
      }
    }
  });
}

/**
 * The same on the backend, in float32: per sequence A Xᵀ, transposed back (XNNPACK's fast path on wasm; a batched
 * matMul or a transposed operand is ~10x slower there).
 */
async function projectOnBackend(
  tasks: Task[],
  sequences: Float32Array,
  L: number,
  d: number,
  to: ProjectedRows,
): Promise<void> {
  const projected = tf.tidy(() =>
    tf.concat(
      tasks.map(({ projection }, i) => {
        const x = tf.tensor2d(sequences.subarray(i * L * d, (i + 1) * L * d), [L, d]);
        return tf.matMul(tf.tensor2d(projection, [d, d]), x.transpose()).transpose();
      }),
    ),
  );
  const values = await projected.data();
  projected.dispose();
  for (let r = 0; r < tasks.length * L; r++)
    to.inputs.set(values.subarray(r * d, (r + 1) * d), (to.first + r) * to.tokenDim);
}

function makeTask(seed: number, d: number, classes: number): Task {
  const rng = new Rng(seed);
  const projection = rng.fillNormal(new Float32Array(d * d), 1 / Math.sqrt(d));
  const permutation = Int32Array.from({ length: classes }, (_, i) => i);
  for (let i = classes - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [permutation[i], permutation[j]] = [permutation[j], permutation[i]];
  }
  return { projection, permutation };
}

export const gpiclClassification: TaskFamily<Spec> = {
  async create(spec, seed, data) {
    const options = {
      inputDim: spec.inputDim,
      method: spec.preprocess,
      normalization: spec.normalization,
      classes: spec.classes,
    };
    const base = await loadDataset(spec.dataset, options, data);
    const others = await Promise.all(spec.evalDatasets.map((name) => loadDataset(name, options, data)));
    const d = spec.inputDim;
    const C = spec.classes;
    const L = spec.seqLen;
    const tokenDim = d + C;
    // A pool that fits in TASK_CACHE_FLOATS is drawn once; other tasks are drawn again from their seeds each time.
    const pool = new Map<number, Task>();
    const poolFits = spec.numTasks !== 'fresh' && spec.numTasks * d * d <= TASK_CACHE_FLOATS;
    const poolTask = (index: number): Task => {
      const taskSeed = seedFrom(seed, 'pool-task', index);
      if (!poolFits) return makeTask(taskSeed, d, C);
      const kept = pool.get(index);
      if (kept) return kept;
      const task = makeTask(taskSeed, d, C);
      pool.set(index, task);
      return task;
    };
    // The fixed task of biased batches: pool task 0, or for fresh tasks one set aside by seed.
    const biasTask = spec.numTasks === 'fresh' ? makeTask(seedFrom(seed, 'bias-task'), d, C) : poolTask(0);

    const drawTask = (split: SampleSplit, rng: Rng): Task => {
      if (split === 'train' || split === SPLITS.seen) {
        return spec.numTasks === 'fresh'
          ? makeTask(seedFrom(seed, 'fresh-task', rng.int(2 ** 31), rng.int(2 ** 31)), d, C)
          : poolTask(rng.int(spec.numTasks));
      }
      // Unseen tasks (on any dataset) come from a stream pool tasks never use.
      return makeTask(seedFrom(seed, 'unseen-task', rng.int(2 ** 31), rng.int(2 ** 31)), d, C);
    };

    // Where every task is fresh, no evaluation task was seen in training: no `seen` split.
    const splitExamples = new Map<string, Examples>([
      ['train', base.train],
      ...(spec.numTasks === 'fresh' ? [] : [[SPLITS.seen, base.test] as [string, Examples]]),
      [SPLITS.unseen, base.test],
      ...others.map((o) => [unseenOn(o.name), o.test] as [string, Examples]),
    ]);

    const chunk = Math.max(1, Math.floor(PROJECT_CHUNK_FLOATS / (d * d)));

    const sampler: TaskSampler = {
      objective: TASK_OBJECTIVES['gpicl-classification'],
      inputDim: tokenDim,
      outputDim: C,
      seqLen: L,
      feedback: C,
      evalSplits: [...splitExamples.keys()].filter((s) => s !== 'train'),
      async sample(rng, batch, split): Promise<SequenceBatch> {
        const examples = splitExamples.get(split);
        if (!examples) throw new Error(`unknown evaluation split '${split}'`);
        const inputs = new Float32Array(batch * L * tokenDim);
        const targets = new Float32Array(batch * L);
        const biased = split === 'train' ? Math.round(spec.biasedFraction * batch) : 0;
        const xs = examples.inputs;
        const sequences = new Float32Array(Math.min(chunk, batch) * L * d);
        for (let start = 0; start < batch; start += chunk) {
          const n = Math.min(chunk, batch - start);
          // Each sequence's task and examples, drawn in order: the labels, the previous label's one-hot, the inputs.
          const tasks: Task[] = [];
          for (let b = start; b < start + n; b++) {
            const task = b < biased ? biasTask : drawTask(split, rng);
            tasks.push(task);
            let previous = -1;
            for (let t = 0; t < L; t++) {
              const example = rng.int(examples.count);
              // Copied directly: a subarray view per example costs more than the copy at small d.
              const to = ((b - start) * L + t) * d;
              for (let j = 0, from = example * d; j < d; j++) sequences[to + j] = xs[from + j];
              if (previous >= 0) inputs[(b * L + t) * tokenDim + d + previous] = 1;
              previous = task.permutation[examples.labels[example]];
              targets[b * L + t] = previous;
            }
          }
          const rows = { inputs, first: start * L, tokenDim };
          if (d * d * L < BACKEND_PROJECTION_MACS) projectOnHost(tasks, sequences, L, d, rows);
          else await projectOnBackend(tasks, sequences, L, d, rows);
        }
        return { batch, inputs, targets };
      },
    };
    return sampler;
  },
};
