// Linear regression task family (Raventós et al. 2023): x ~ N(0, I_D), y = w.x + noise, K examples per
// sequence, tasks w ~ N(0, I_D) from a pool of M (each w regenerated from its own seed, so any M is free)
// or fresh per sequence. Token i = [x_i, y_{i-1}] (the first token carries 0), target i = y_i.
import { seedFrom, Rng } from '../rng.js';
import type { SampleSplit, SequenceBatch, TaskFamily, TaskSampler } from './index.js';
import type { RunSpec } from '../../../shared/spec.js';

type Spec = Extract<RunSpec['task'], { family: 'linear-regression' }>;

export const linearRegression: TaskFamily<Spec> = {
  create(spec: Spec, seed: number): TaskSampler {
    const { dim, seqLen, noiseVariance, numTasks } = spec;
    const noise = Math.sqrt(noiseVariance);
    const w = new Float32Array(dim);

    const taskWeights = (split: SampleSplit, rng: Rng): Float32Array => {
      if (split === 'unseen' || numTasks === 'fresh') {
        // Unseen tasks come from a stream that pool tasks never use.
        return new Rng(seedFrom(seed, split === 'unseen' ? 'unseen-task' : 'fresh-task', rng.int(2 ** 31))).fillNormal(w);
      }
      return new Rng(seedFrom(seed, 'pool-task', rng.int(numTasks))).fillNormal(w);
    };

    return {
      objective: 'regression',
      inputDim: dim + 1,
      outputDim: 1,
      seqLen,
      feedback: 1,
      sample(rng: Rng, batch: number, split: SampleSplit): SequenceBatch {
        const inputs = new Float32Array(batch * seqLen * (dim + 1));
        const targets = new Float32Array(batch * seqLen);
        for (let b = 0; b < batch; b++) {
          const task = taskWeights(split, rng);
          let previousY = 0;
          for (let t = 0; t < seqLen; t++) {
            const row = (b * seqLen + t) * (dim + 1);
            let y = 0;
            for (let d = 0; d < dim; d++) {
              const x = rng.normal();
              inputs[row + d] = x;
              y += task[d] * x;
            }
            y += noise * rng.normal();
            inputs[row + dim] = previousY;
            targets[b * seqLen + t] = y;
            previousY = y;
          }
        }
        return { batch, inputs, targets };
      },
    };
  },
};
