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

/** Filled with one value, e.g. LayerNorm gains (1). */
export function filled(name: string, shape: number[], value: number): Param {
  return { name, variable: tf.tidy(() => tf.variable(tf.fill(shape, value))) };
}

/** N(0, std^2) entries (GPT-2 / nanoGPT use std 0.02 for embeddings and projections). */
export function normal(name: string, shape: number[], std: number, rng: Rng): Param {
  const values = rng.fillNormal(new Float32Array(shape.reduce((n, d) => n * d, 1)), std);
  return { name, variable: tf.tidy(() => tf.variable(tf.tensor(values, shape))) };
}

export function countParams(params: readonly Param[]): number {
  return params.reduce((n, p) => n + p.variable.size, 0);
}
