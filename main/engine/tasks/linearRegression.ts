// Linear regression task family (Raventós et al. 2023): x ~ N(0, I_D), y = w.x + noise, K examples per
// sequence, tasks w ~ N(0, I_D) from a pool of M (each w regenerated from its own seed, so any M is free)
// or fresh per sequence. Token i = [x_i, y_{i-1}] (the first token carries 0), target i = y_i.
// Baselines, per position from the examples before it: ridge (lambda = noise variance; the Bayes
// estimator for fresh tasks) and dMMSE (the posterior mean over the pool's M weight vectors).
import { OBJECTIVES, SPLITS, TASK_OBJECTIVES } from '../../../shared/objectives/index.js';
import type { RunSpec } from '../../../shared/spec.js';
import { Rng, seedFrom } from '../rng.js';
import type { BaselinePredictions, SampleSplit, SequenceBatch, TaskFamily, TaskSampler } from './index.js';

type Spec = Extract<RunSpec['task'], { family: 'linear-regression' }>;

/** Largest pool for which dMMSE is computed (its cost grows with M); beyond it dMMSE ~ ridge anyway. */
export const DMMSE_MAX_POOL = 2 ** 14;

function poolWeights(seed: number, m: number, dim: number): Float32Array {
  return new Rng(seedFrom(seed, 'pool-task', m)).fillNormal(new Float32Array(dim));
}

/** Solves (A) x = b in place for a symmetric positive-definite A (n x n, row-major) by Cholesky. */
function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = i === j ? Math.sqrt(Math.max(s, 1e-300)) : s / l[j * n + j];
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/** Ridge predictions at every position from the examples before it. */
export function ridgePredictions(batch: SequenceBatch, dim: number, seqLen: number, lambda: number): Float32Array {
  const out = new Float32Array(batch.batch * seqLen);
  const tokenDim = dim + 1;
  for (let b = 0; b < batch.batch; b++) {
    const xtx = new Float64Array(dim * dim);
    const xty = new Float64Array(dim);
    for (let t = 0; t < seqLen; t++) {
      const x = batch.inputs.subarray((b * seqLen + t) * tokenDim, (b * seqLen + t) * tokenDim + dim);
      if (t > 0) {
        const a = Float64Array.from(xtx);
        for (let i = 0; i < dim; i++) a[i * dim + i] += lambda;
        const w = solveSpd(a, xty, dim);
        let p = 0;
        for (let i = 0; i < dim; i++) p += w[i] * x[i];
        out[b * seqLen + t] = p;
      }
      const y = batch.targets[b * seqLen + t];
      for (let i = 0; i < dim; i++) {
        xty[i] += x[i] * y;
        for (let j = 0; j < dim; j++) xtx[i * dim + j] += x[i] * x[j];
      }
    }
  }
  return out;
}

/** dMMSE predictions: the posterior-weighted mean of the pool's predictions, from the examples before each position. */
export function dmmsePredictions(
  batch: SequenceBatch,
  pool: Float32Array[],
  dim: number,
  seqLen: number,
  noiseVariance: number,
): Float32Array {
  const out = new Float32Array(batch.batch * seqLen);
  const tokenDim = dim + 1;
  const scale = 1 / (2 * Math.max(noiseVariance, 1e-8));
  const logLik = new Float64Array(pool.length);
  const predicted = new Float64Array(pool.length);
  for (let b = 0; b < batch.batch; b++) {
    logLik.fill(0);
    for (let t = 0; t < seqLen; t++) {
      const x = batch.inputs.subarray((b * seqLen + t) * tokenDim, (b * seqLen + t) * tokenDim + dim);
      let maxLog = -Infinity;
      for (let m = 0; m < pool.length; m++) {
        let p = 0;
        const w = pool[m];
        for (let i = 0; i < dim; i++) p += w[i] * x[i];
        predicted[m] = p;
        if (logLik[m] > maxLog) maxLog = logLik[m];
      }
      let num = 0;
      let den = 0;
      for (let m = 0; m < pool.length; m++) {
        const weight = Math.exp(logLik[m] - maxLog);
        num += weight * predicted[m];
        den += weight;
      }
      out[b * seqLen + t] = num / den;
      const y = batch.targets[b * seqLen + t];
      for (let m = 0; m < pool.length; m++) logLik[m] -= (y - predicted[m]) ** 2 * scale;
    }
  }
  return out;
}

const [ridge, dmmse] = OBJECTIVES.regression.baselines;

export const linearRegression: TaskFamily<Spec> = {
  async create(spec: Spec, seed: number): Promise<TaskSampler> {
    const { dim, seqLen, noiseVariance, numTasks } = spec;
    const noise = Math.sqrt(noiseVariance);
    const w = new Float32Array(dim);
    let pool: Float32Array[] | null = null;

    const taskWeights = (split: SampleSplit, rng: Rng): Float32Array => {
      if (split === SPLITS.unseen || numTasks === 'fresh') {
        // Unseen tasks come from a stream that pool tasks never use.
        const stream = split === SPLITS.unseen ? 'unseen-task' : 'fresh-task';
        return new Rng(seedFrom(seed, stream, rng.int(2 ** 31))).fillNormal(w);
      }
      return new Rng(seedFrom(seed, 'pool-task', rng.int(numTasks))).fillNormal(w);
    };

    return {
      objective: TASK_OBJECTIVES['linear-regression'],
      inputDim: dim + 1,
      outputDim: 1,
      seqLen,
      feedback: 1,
      // Where every task is fresh, no evaluation task was seen in training: no `seen` split.
      evalSplits: numTasks === 'fresh' ? [SPLITS.unseen] : [SPLITS.seen, SPLITS.unseen],
      async sample(rng: Rng, batch: number, split: SampleSplit): Promise<SequenceBatch> {
        if (split !== 'train' && split !== SPLITS.unseen && (split !== SPLITS.seen || numTasks === 'fresh')) {
          throw new Error(`unknown evaluation split '${split}'`);
        }
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
      baselines(batch: SequenceBatch): BaselinePredictions[] {
        const ridgeLambda = Math.max(noiseVariance, 1e-8);
        const out: BaselinePredictions[] = [
          { name: ridge.name, predictions: ridgePredictions(batch, dim, seqLen, ridgeLambda) },
        ];
        if (numTasks !== 'fresh' && numTasks <= DMMSE_MAX_POOL) {
          pool ??= Array.from({ length: numTasks }, (_, m) => poolWeights(seed, m, dim));
          out.push({ name: dmmse.name, predictions: dmmsePredictions(batch, pool, dim, seqLen, noiseVariance) });
        }
        return out;
      },
    };
  },
};
