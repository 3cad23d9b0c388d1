// The policy's action distributions: a categorical over logits (discrete actions) or a diagonal Gaussian with
// a state-independent log standard deviation (box actions). Sampling runs on typed arrays while acting; log
// probabilities and entropies run in tfjs inside the loss.
import * as tf from '@tensorflow/tfjs';
import type { ActionSpace } from '../envs/types.js';
import type { Rng } from '../rng.js';
import { actionSize, distributionSize } from './networks.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

export interface Sampled {
  /** [rows * actionSize]: indices, or the Gaussian's draws (unclipped; the environment clips them). */
  actions: Float32Array;
  /** Log-probability of each row's action. */
  logProbs: Float32Array;
  /** Discrete: [rows * n] action probabilities; null for box actions. */
  probs: Float32Array | null;
}

/**
 * Draws (mode `sample`) or picks the most likely (mode `greedy`: argmax, or the Gaussian's mean) action of each
 * row from the distribution parameters `dist` [rows * P]. One uniform draw per row (discrete), one normal per
 * action dimension (box).
 */
export function sampleActions(
  action: ActionSpace,
  dist: Float32Array,
  logStd: Float32Array | null,
  rows: number,
  rng: Rng,
  mode: 'sample' | 'greedy',
): Sampled {
  const P = distributionSize(action);
  const actions = new Float32Array(rows * actionSize(action));
  const logProbs = new Float32Array(rows);
  if (action.kind === 'discrete') {
    const probs = new Float32Array(rows * P);
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let j = 0; j < P; j++) max = Math.max(max, dist[r * P + j]);
      let sum = 0;
      for (let j = 0; j < P; j++) sum += Math.exp(dist[r * P + j] - max);
      const logSum = max + Math.log(sum);
      let chosen = 0;
      if (mode === 'sample') {
        const u = rng.next();
        let cumulative = 0;
        // If rounding leaves the cumulative sum just below u: the last action with any probability.
        chosen = P - 1;
        while (chosen > 0 && dist[r * P + chosen] === -Infinity) chosen -= 1;
        for (let j = 0; j < P; j++) {
          cumulative += Math.exp(dist[r * P + j] - logSum);
          if (u < cumulative) {
            chosen = j;
            break;
          }
        }
      } else {
        for (let j = 1; j < P; j++) if (dist[r * P + j] > dist[r * P + chosen]) chosen = j;
      }
      for (let j = 0; j < P; j++) probs[r * P + j] = Math.exp(dist[r * P + j] - logSum);
      actions[r] = chosen;
      logProbs[r] = dist[r * P + chosen] - logSum;
    }
    return { actions, logProbs, probs };
  }
  const std = logStd!;
  for (let r = 0; r < rows; r++) {
    let lp = 0;
    for (let j = 0; j < P; j++) {
      const eps = mode === 'sample' ? rng.normal() : 0;
      actions[r * P + j] = dist[r * P + j] + Math.exp(std[j]) * eps;
      lp += -0.5 * eps * eps - std[j] - HALF_LOG_2PI;
    }
    logProbs[r] = lp;
  }
  return { actions, logProbs, probs: null };
}

/**
 * Log-probabilities [N] of `actions` and entropies [N] under the distributions `dist` [N, P]. `actions` is
 * one-hot [N, n] for discrete actions, the values [N, size] for box actions.
 */
export function logProbAndEntropy(
  action: ActionSpace,
  dist: tf.Tensor2D,
  logStd: tf.Tensor | null,
  actions: tf.Tensor2D,
): { logProbs: tf.Tensor1D; entropy: tf.Tensor1D } {
  return tf.tidy(() => {
    if (action.kind === 'discrete') {
      const logp = tf.logSoftmax(dist);
      return {
        logProbs: tf.sum(tf.mul(logp, actions), 1) as tf.Tensor1D,
        entropy: tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), 1)) as tf.Tensor1D,
      };
    }
    const ls = logStd!;
    const z = tf.mul(tf.sub(actions, dist), tf.exp(tf.neg(ls)));
    const perDim = tf.sub(tf.mul(tf.square(z), -0.5), tf.add(ls, HALF_LOG_2PI));
    const rows = dist.shape[0];
    const entropyPerRow = tf.sum(tf.add(ls, 0.5 + HALF_LOG_2PI));
    return {
      logProbs: tf.sum(perDim, 1) as tf.Tensor1D,
      entropy: tf.mul(tf.ones([rows]), entropyPerRow) as tf.Tensor1D,
    };
  });
}
