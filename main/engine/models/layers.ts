// Parameter initialisers drawn from our seeded Rng, so a spec's seed fixes the initial weights on every backend.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.js';
import type { Param } from './index.js';

/** Glorot-uniform [fanIn, fanOut] weight matrix. */
export function glorot(name: string, fanIn: number, fanOut: number, rng: Rng): Param {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const values = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < values.length; i++) values[i] = (rng.next() * 2 - 1) * limit;
  return { name, variable: tf.tidy(() => tf.variable(tf.tensor2d(values, [fanIn, fanOut]))) };
}

export function zeros(name: string, shape: number[]): Param {
  return { name, variable: tf.tidy(() => tf.variable(tf.zeros(shape))) };
}

export function countParams(params: readonly Param[]): number {
  return params.reduce((n, p) => n + p.variable.size, 0);
}
