// The on-policy loss, written as Stable-Baselines3 computes it so a PyTorch peer can check it term by term:
// PPO's clipped surrogate (Schulman et al. 2017) with advantages normalised per minibatch (mean, and the
// unbiased standard deviation + 1e-8, as torch.std), or the plain policy gradient -A log pi (A2C, REINFORCE);
// the value loss as the mean squared error to the returns (no value clipping); and the entropy bonus:
//   loss = policy_loss - entropy_coef * mean(entropy) + value_coef * value_loss.
// A recurrent (RL²) critic predicts the return per episode left, times the episodes left: its errors are measured
// in that unit too (divided by the episodes left), so a lifetime's early steps, whose returns are a hundred
// times larger on a 100-pull bandit, do not swamp the gradient (whose global norm is clipped) with the critic's.
// Means are over the rows whose mask is 1 (an RL² batch pads trials to the longest).
import * as tf from '@tensorflow/tfjs';
import type { ActionSpace } from '../envs/types.js';
import { logProbAndEntropy } from './distributions.js';

/** What the networks produced for a minibatch: distribution parameters [N, P], log std (box), values [N]. */
export interface NetOutputs {
  dist: tf.Tensor2D;
  logStd: tf.Tensor | null;
  values: tf.Tensor1D;
  /** The unit of each row's value (a recurrent critic's episodes left); null: 1. */
  valueScale: tf.Tensor1D | null;
}

export interface LossBatch {
  /** One-hot [N, n] (discrete) or the actions taken [N, size] (box). */
  actions: tf.Tensor2D;
  /** Log-probabilities of the actions under the policy that collected them [N]. */
  oldLogProbs: tf.Tensor1D;
  advantages: tf.Tensor1D;
  returns: tf.Tensor1D;
  /** 1 for real steps, 0 for padding; null: every row is real. */
  mask: tf.Tensor1D | null;
}

export interface LossSettings {
  action: ActionSpace;
  /** PPO's clip range of the probability ratio; null: the plain policy gradient. */
  clip: number | null;
  normalizeAdvantages: boolean;
  valueCoef: number;
  entropyCoef: number;
}

export interface LossTerms {
  loss: tf.Scalar;
  policyLoss: tf.Scalar;
  valueLoss: tf.Scalar;
  entropy: tf.Scalar;
  /** Mean of (ratio - 1) - log ratio (SB3's estimate of KL(old || new)). */
  approxKl: tf.Scalar;
  /** Fraction of rows whose ratio lies outside [1 - clip, 1 + clip] (0 without a clip). */
  clipFraction: tf.Scalar;
}

export function onPolicyLoss(out: NetOutputs, batch: LossBatch, s: LossSettings): LossTerms {
  return tf.tidy(() => {
    const { mask } = batch;
    const count = mask ? tf.sum(mask) : tf.scalar(batch.advantages.shape[0]);
    const mean = (x: tf.Tensor) => tf.div(tf.sum(mask ? tf.mul(x, mask) : x), count) as tf.Scalar;
    let adv: tf.Tensor = batch.advantages;
    if (s.normalizeAdvantages && batch.advantages.shape[0] > 1) {
      const mu = mean(adv);
      const centred = tf.sub(adv, mu);
      const variance = tf.div(tf.sum(tf.mul(tf.square(centred), mask ?? 1)), tf.maximum(tf.sub(count, 1), 1));
      adv = tf.div(centred, tf.add(tf.sqrt(variance), 1e-8));
    }
    const { logProbs, entropy } = logProbAndEntropy(s.action, out.dist, out.logStd, batch.actions);
    const logRatio = tf.sub(logProbs, batch.oldLogProbs);
    const ratio = tf.exp(logRatio);
    let policyLoss: tf.Scalar;
    let clipFraction: tf.Scalar;
    if (s.clip === null) {
      policyLoss = tf.neg(mean(tf.mul(adv, logProbs)));
      clipFraction = tf.scalar(0);
    } else {
      const clipped = tf.clipByValue(ratio, 1 - s.clip, 1 + s.clip);
      policyLoss = tf.neg(mean(tf.minimum(tf.mul(adv, ratio), tf.mul(adv, clipped))));
      clipFraction = mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), s.clip), 'float32'));
    }
    const valueError = tf.sub(batch.returns, out.values);
    const valueLoss = mean(tf.square(out.valueScale ? tf.div(valueError, out.valueScale) : valueError));
    const meanEntropy = mean(entropy);
    const loss = tf.add(
      tf.sub(policyLoss, tf.mul(meanEntropy, s.entropyCoef)),
      tf.mul(valueLoss, s.valueCoef),
    ) as tf.Scalar;
    const approxKl = mean(tf.sub(tf.sub(ratio, 1), logRatio));
    return { loss, policyLoss, valueLoss, entropy: meanEntropy, approxKl, clipFraction };
  });
}
