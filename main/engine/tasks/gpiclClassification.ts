// GPICL classification tasks (Kirsch et al. 2022): a task is a random linear projection A (d x d, entries
// N(0, 1/d)) of a base dataset's inputs and a random permutation of its labels. Tasks come from a pool of
// N, each regenerated from its own seed (so any N costs nothing), or fresh per sequence. A sequence holds
// L examples of one task; token i = [A x_i, onehot(y_{i-1})] (zeros at i = 0) and the target is y_i.
// Training sequences use the training split's examples, evaluations the test split's.
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
    // The fixed task of biased batches: pool task 0, or for fresh tasks one set aside by seed.
    const biasTask = spec.numTasks === 'fresh' ? seedFrom(seed, 'bias-task') : seedFrom(seed, 'pool-task', 0);

    const taskSeed = (split: SampleSplit, rng: Rng): number => {
      if (split === 'train' || split === SPLITS.seen) {
        return spec.numTasks === 'fresh'
          ? seedFrom(seed, 'fresh-task', rng.int(2 ** 31), rng.int(2 ** 31))
          : seedFrom(seed, 'pool-task', rng.int(spec.numTasks));
      }
      // Unseen tasks (on any dataset) come from a stream pool tasks never use.
      return seedFrom(seed, 'unseen-task', rng.int(2 ** 31), rng.int(2 ** 31));
    };

    // Where every task is fresh, no evaluation task was seen in training: no `seen` split.
    const splitExamples = new Map<string, Examples>([
      ['train', base.train],
      ...(spec.numTasks === 'fresh' ? [] : [[SPLITS.seen, base.test] as [string, Examples]]),
      [SPLITS.unseen, base.test],
      ...others.map((o) => [unseenOn(o.name), o.test] as [string, Examples]),
    ]);

    const sampler: TaskSampler = {
      objective: TASK_OBJECTIVES['gpicl-classification'],
      inputDim: tokenDim,
      outputDim: C,
      seqLen: L,
      feedback: C,
      evalSplits: [...splitExamples.keys()].filter((s) => s !== 'train'),
      sample(rng, batch, split): SequenceBatch {
        const examples = splitExamples.get(split);
        if (!examples) throw new Error(`unknown evaluation split '${split}'`);
        const inputs = new Float32Array(batch * L * tokenDim);
        const targets = new Float32Array(batch * L);
        const biased = split === 'train' ? Math.round(spec.biasedFraction * batch) : 0;
        const xs = examples.inputs;
        for (let b = 0; b < batch; b++) {
          const task = makeTask(b < biased ? biasTask : taskSeed(split, rng), d, C);
          const a = task.projection;
          let previous = -1;
          for (let t = 0; t < L; t++) {
            const example = rng.int(examples.count);
            const x0 = example * d;
            const row = (b * L + t) * tokenDim;
            // Indexed directly rather than through subarray views (~26,000 of them per batch were most of the time).
            for (let k = 0; k < d; k++) {
              let v = 0;
              const a0 = k * d;
              for (let j = 0; j < d; j++) v += a[a0 + j] * xs[x0 + j];
              inputs[row + k] = v;
            }
            if (previous >= 0) inputs[row + d + previous] = 1;
            previous = task.permutation[examples.labels[example]];
            targets[b * L + t] = previous;
          }
        }
        return { batch, inputs, targets };
      },
    };
    return sampler;
  },
};
