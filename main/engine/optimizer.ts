// Adam with global-norm gradient clipping and a warm-up + constant/cosine schedule. Written out (rather
// than tf.train.adam) so the learning rate can change every step and the moments can be checkpointed.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../shared/spec.js';
import type { Param } from './models/index.js';
import { adamKernel, fastKernels, sumSquaresKernel } from './models/kernels.js';

type Training = RunSpec['training'];

/**
 * The learning rate at `step` (0-based). `constant` and `cosine` (to 0 at the last step) start after a linear
 * warm-up of `warmupSteps`. `one-cycle` (Smith 2018) rises from lr/25 to lr over the warm-up (30% of the steps
 * if none is set), then anneals by a cosine to lr/1e4.
 */
export function learningRateAt(step: number, t: Training): number {
  const cosine = (from: number, to: number, progress: number) =>
    to + 0.5 * (from - to) * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, progress))));
  if (t.schedule === 'one-cycle') {
    const rise = t.warmupSteps > 0 ? t.warmupSteps : Math.max(1, Math.round(0.3 * t.steps));
    if (step < rise) return cosine(t.learningRate, t.learningRate / 25, (step + 1) / rise);
    return cosine(t.learningRate, t.learningRate / 1e4, (step - rise) / Math.max(1, t.steps - rise));
  }
  if (t.warmupSteps > 0 && step < t.warmupSteps) return (t.learningRate * (step + 1)) / t.warmupSteps;
  if (t.schedule === 'cosine')
    return cosine(t.learningRate, 0, (step - t.warmupSteps) / Math.max(1, t.steps - t.warmupSteps));
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
    const fused = fastKernels();
    // Summed pairwise rather than with tf.addN, which returns garbage on WebGPU past 15 inputs.
    const normTensor = fused
      ? sumSquaresKernel(grads)[0]
      : tf.tidy(() => grads.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b)));
    const norm = Math.sqrt((await normTensor.data())[0]);
    normTensor.dispose();
    const scale = clip !== null && norm > clip ? clip / norm : 1;
    this.t += 1;
    const correction1 = 1 - this.beta1 ** this.t;
    const correction2 = 1 - this.beta2 ** this.t;
    if (fused) {
      // One kernel call for every parameter, p, m and v in one pass each (tfjs would run ~12 ops per parameter).
      const attrs = {
        scale,
        beta1: this.beta1,
        beta2: this.beta2,
        stepSize: learningRate / correction1,
        correction2,
        eps: this.epsilon,
      };
      const n = this.params.length;
      const out = adamKernel([...this.params.map((p) => p.variable), ...this.m, ...this.v, ...grads], attrs);
      this.params.forEach((p, i) => {
        p.variable.assign(out[i]);
        this.m[i].assign(out[n + i]);
        this.v[i].assign(out[2 * n + i]);
      });
      tf.dispose(out);
      return norm;
    }
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = scale === 1 ? grads[i] : tf.mul(grads[i], scale);
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m);
        this.v[i].assign(v);
        const update = tf.div(
          tf.mul(m, learningRate / correction1),
          tf.add(tf.sqrt(tf.div(v, correction2)), this.epsilon),
        );
        p.variable.assign(tf.sub(p.variable, update));
      });
    });
    return norm;
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
