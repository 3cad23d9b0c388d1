// Adam with global-norm gradient clipping and a warm-up + constant/cosine schedule. Written out (rather
// than tf.train.adam) so the learning rate can change every step and the moments can be checkpointed.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../shared/spec.js';
import type { Param } from './models/index.js';

type Training = RunSpec['training'];

export function learningRateAt(step: number, t: Training): number {
  if (t.warmupSteps > 0 && step < t.warmupSteps) return (t.learningRate * (step + 1)) / t.warmupSteps;
  if (t.schedule === 'cosine') {
    const progress = (step - t.warmupSteps) / Math.max(1, t.steps - t.warmupSteps);
    return 0.5 * t.learningRate * (1 + Math.cos(Math.PI * Math.min(1, progress)));
  }
  return t.learningRate;
}

export class Adam {
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];
  /** Number of updates applied so far (Adam's t). */
  t = 0;

  constructor(
    private readonly params: readonly Param[],
    private readonly epsilon: number,
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
  ) {
    this.m = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable))));
    this.v = params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p.variable))));
  }

  /** Clips the gradients to `clip` global norm (if set), applies one update, and returns the norm before clipping. */
  async step(grads: tf.Tensor[], learningRate: number, clip: number | null): Promise<number> {
    // Summed pairwise rather than with tf.addN, which returns garbage on WebGPU past 15 inputs.
    const normTensor = tf.tidy(() => tf.sqrt(grads.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b))));
    const norm = (await normTensor.data())[0];
    normTensor.dispose();
    const scale = clip !== null && norm > clip ? clip / norm : 1;
    this.t += 1;
    const correction1 = 1 - this.beta1 ** this.t;
    const correction2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = scale === 1 ? grads[i] : tf.mul(grads[i], scale);
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(tf.mul(m, learningRate / correction1), tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon));
        p.variable.assign(tf.sub(p.variable, update));
      });
    });
    return norm;
  }

  dispose(): void {
    [...this.m, ...this.v].forEach((t) => t.dispose());
  }
}
