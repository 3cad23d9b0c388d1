// A minibatch of the on-policy learners (./onPolicy.ts): its rows gathered from a rollout, its loss terms and
// gradients, and the gradient step on it. bench/rl.ts times this same code against PyTorch.
import * as tf from '@tensorflow/tfjs';
import type { Adam } from '../optimizer.js';
import type { Experience } from './collect.js';
import { type LossBatch, type LossSettings, onPolicyLoss } from './loss.js';
import { actionSize, distributionSize, type PolicyNet } from './networks.js';

/** A minibatch as typed arrays: network inputs [B, T, inputSize] and per-row loss inputs, rows (b, t). */
export interface Minibatch {
  B: number;
  T: number;
  inputs: Float32Array;
  /** One-hot [rows, n] (discrete) or the actions taken [rows, size] (box). */
  actions: Float32Array;
  oldLogProbs: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
  mask: Float32Array | null;
}

/**
 * The rows of `units` (steps of a feed-forward rollout, each its own sequence of 1; or whole trials of a recurrent
 * one, padded to the rollout's length), actions one-hot for discrete spaces.
 */
export function gather(
  net: PolicyNet,
  exp: Experience,
  advantages: Float32Array,
  returns: Float32Array,
  units: readonly number[],
): Minibatch {
  const { action } = net.shape;
  const I = net.inputSize;
  const P = distributionSize(action);
  const A = actionSize(action);
  const T = net.recurrent ? exp.T : 1;
  const B = units.length;
  const rows = B * T;
  const mb: Minibatch = {
    B,
    T,
    inputs: new Float32Array(rows * I),
    actions: new Float32Array(rows * P),
    oldLogProbs: new Float32Array(rows),
    advantages: new Float32Array(rows),
    returns: new Float32Array(rows),
    mask: net.recurrent ? new Float32Array(rows) : null,
  };
  units.forEach((u, b) => {
    for (let t = 0; t < T; t++) {
      const k = net.recurrent ? t * exp.n + u : u; // index into the time-major rollout
      const j = b * T + t;
      mb.inputs.set(exp.inputs.subarray(k * I, (k + 1) * I), j * I);
      if (action.kind === 'discrete') mb.actions[j * P + exp.actions[k]] = 1;
      else mb.actions.set(exp.actions.subarray(k * A, (k + 1) * A), j * P);
      mb.oldLogProbs[j] = exp.logProbs[k];
      mb.advantages[j] = advantages[k];
      mb.returns[j] = returns[k];
      if (mb.mask) mb.mask[j] = exp.mask ? exp.mask[k] : 1;
    }
  });
  return mb;
}

/** The loss of a minibatch and its terms (./loss.ts), read back as numbers. */
export interface MinibatchTerms {
  loss: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
}

/** The loss terms of `mb` under the current weights, and the loss's gradients in `net.params` order (the caller's). */
export async function minibatchGradients(
  net: PolicyNet,
  mb: Minibatch,
  settings: LossSettings,
): Promise<{ terms: MinibatchTerms; grads: tf.Tensor[] }> {
  const P = distributionSize(net.shape.action);
  const rows = mb.B * mb.T;
  const inputs = tf.tensor3d(mb.inputs, [mb.B, mb.T, net.inputSize]);
  const batch: LossBatch = {
    actions: tf.tensor2d(mb.actions, [rows, P]),
    oldLogProbs: tf.tensor1d(mb.oldLogProbs),
    advantages: tf.tensor1d(mb.advantages),
    returns: tf.tensor1d(mb.returns),
    mask: mb.mask ? tf.tensor1d(mb.mask) : null,
  };
  let kept: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(
    () => {
      const terms = onPolicyLoss({ ...net.apply(inputs), logStd: net.logStd }, batch, settings);
      kept = [terms.policyLoss, terms.valueLoss, terms.entropy, terms.approxKl, terms.clipFraction].map((s) =>
        tf.keep(s),
      );
      return terms.loss;
    },
    net.params.map((p) => p.variable),
  );
  const read = tf.tidy(() => tf.stack([value, ...kept]));
  const [loss, policyLoss, valueLoss, entropy, approxKl, clipFraction] = await read.data();
  tf.dispose([read, value, inputs, ...Object.values(batch), ...kept].filter((t) => t !== null));
  return {
    terms: { loss, policyLoss, valueLoss, entropy, approxKl, clipFraction },
    grads: net.params.map((p) => grads[p.variable.name]),
  };
}

/** One Adam step on `mb`'s gradients, skipped (grad norm NaN) where its loss is not finite. */
export async function gradientStep(
  net: PolicyNet,
  adam: Adam,
  mb: Minibatch,
  settings: LossSettings,
  lr: number,
  gradClip: number | null,
): Promise<MinibatchTerms & { gradNorm: number }> {
  const { terms, grads } = await minibatchGradients(net, mb, settings);
  const gradNorm = Number.isFinite(terms.loss) ? await adam.step(grads, lr, gradClip) : NaN;
  tf.dispose(grads);
  return { ...terms, gradNorm };
}
