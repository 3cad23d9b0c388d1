import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { learnerPredictions } from '../../main/engine/baselines/learner';
import { classificationCurves } from '../../main/engine/objectives/classification';
import { Rng } from '../../main/engine/rng';
import type { SequenceBatch, TaskSampler } from '../../main/engine/tasks';
import { dmmsePredictions, ridgePredictions } from '../../main/engine/tasks/linearRegression';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** One regression sequence [x_i, y_{i-1}] from weights w. */
function sequence(rng: Rng, w: number[], seqLen: number, noise: number): SequenceBatch {
  const dim = w.length;
  const inputs = new Float32Array(seqLen * (dim + 1));
  const targets = new Float32Array(seqLen);
  let prev = 0;
  for (let t = 0; t < seqLen; t++) {
    let y = 0;
    for (let d = 0; d < dim; d++) {
      inputs[t * (dim + 1) + d] = rng.normal();
      y += w[d] * inputs[t * (dim + 1) + d];
    }
    y += Math.sqrt(noise) * rng.normal();
    inputs[t * (dim + 1) + dim] = prev;
    targets[t] = prev = y;
  }
  return { batch: 1, inputs, targets };
}

/**
 * Monte-Carlo posterior mean prediction at position t: draw weight vectors from `prior`, weight each by the
 * likelihood of the examples before t, and average their predictions (self-normalised importance sampling).
 */
function monteCarlo(
  seq: SequenceBatch,
  dim: number,
  t: number,
  noise: number,
  prior: () => number[],
  samples: number,
): number {
  let num = 0;
  let den = 0;
  const x = (i: number) => Array.from(seq.inputs.subarray(i * (dim + 1), i * (dim + 1) + dim));
  for (let s = 0; s < samples; s++) {
    const w = prior();
    let logLik = 0;
    for (let i = 0; i < t; i++)
      logLik -= (seq.targets[i] - w.reduce((a, wd, d) => a + wd * x(i)[d], 0)) ** 2 / (2 * noise);
    const weight = Math.exp(logLik);
    num += weight * w.reduce((a, wd, d) => a + wd * x(t)[d], 0);
    den += weight;
  }
  return num / den;
}

describe('closed-form regression baselines', () => {
  const dim = 2;
  const noise = 0.25;
  const seqLen = 4;

  it('ridge (lambda = noise variance) is the posterior mean under a N(0, I) prior', () => {
    const rng = new Rng(11);
    const seq = sequence(rng, [0.7, -1.2], seqLen, noise);
    const ridge = ridgePredictions(seq, dim, seqLen, noise);
    expect(ridge[0]).toBe(0);
    const prior = new Rng(5);
    for (const t of [1, 3]) {
      const mc = monteCarlo(seq, dim, t, noise, () => [prior.normal(), prior.normal()], 200_000);
      expect(ridge[t]).toBeCloseTo(mc, 1);
    }
  });

  it('dMMSE is the posterior mean over the task pool', () => {
    const poolRng = new Rng(3);
    const pool = Array.from({ length: 6 }, () => Float32Array.from([poolRng.normal(), poolRng.normal()]));
    const long = 12;
    const seq = sequence(new Rng(4), Array.from(pool[2]), long, noise);
    const dmmse = dmmsePredictions(seq, pool, dim, long, noise);
    const pick = new Rng(9);
    for (const t of [0, 1, 3]) {
      const mc = monteCarlo(seq, dim, t, noise, () => Array.from(pool[pick.int(pool.length)]), 100_000);
      expect(dmmse[t]).toBeCloseTo(mc, 2);
    }
    // After enough examples dMMSE has identified the task: it predicts with the true weights.
    const x = Array.from(seq.inputs.subarray((long - 1) * (dim + 1), (long - 1) * (dim + 1) + dim));
    expect(dmmse[long - 1]).toBeCloseTo(pool[2][0] * x[0] + pool[2][1] * x[1], 1);
  });
});

describe('conventional learner baseline', () => {
  it('learns a linearly separable task along the sequence, from chance at the first example', async () => {
    const B = 64;
    const L = 24;
    const d = 4;
    const C = 2;
    const rng = new Rng(2);
    const inputs = new Float32Array(B * L * (d + C));
    const targets = new Float32Array(B * L);
    for (let b = 0; b < B; b++) {
      const w = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
      let prev = -1;
      for (let t = 0; t < L; t++) {
        const row = (b * L + t) * (d + C);
        let s = 0;
        for (let k = 0; k < d; k++) {
          inputs[row + k] = rng.normal();
          s += w[k] * inputs[row + k];
        }
        if (prev >= 0) inputs[row + d + prev] = 1;
        targets[b * L + t] = prev = s > 0 ? 1 : 0;
      }
    }
    const task = { inputDim: d + C, outputDim: C, seqLen: L, feedback: C } as TaskSampler;
    const before = tf.memory().numTensors;
    const scores = await learnerPredictions(
      task,
      { batch: B, inputs, targets },
      { optimizer: 'adam', learningRate: 0.1, stepsPerExample: 5, hidden: 0 },
      1,
    );
    expect(tf.memory().numTensors).toBe(before);
    const { acc } = classificationCurves(scores, targets, B, L, C);
    expect(acc[0]).toBeLessThan(0.7);
    const late = acc.slice(-6).reduce((a, b) => a + b, 0) / 6;
    expect(late).toBeGreaterThan(0.8);
  });
});
