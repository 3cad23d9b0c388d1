// Saving and restoring a learner's tensors by name, as supervised checkpoints name them (train.ts):
// `param/<name>` for the weights, `adam.m/<name>` and `adam.v/<name>` for Adam's moments.
import * as tf from '@tensorflow/tfjs';
import type { Param } from '../models/index.js';
import type { Adam } from '../optimizer.js';
import type { SavedVariable } from './types.js';

export interface NamedVariable {
  name: string;
  variable: tf.Variable;
}

export function checkpointVariables(params: readonly Param[], adam: Adam): NamedVariable[] {
  return [
    ...params.map((p) => ({ name: `param/${p.name}`, variable: p.variable })),
    ...params.map((p, i) => ({ name: `adam.m/${p.name}`, variable: adam.m[i] })),
    ...params.map((p, i) => ({ name: `adam.v/${p.name}`, variable: adam.v[i] })),
  ];
}

export async function saveVariables(list: readonly NamedVariable[]): Promise<SavedVariable[]> {
  return Promise.all(
    list.map(async ({ name, variable }) => ({
      name,
      shape: variable.shape.slice(),
      values: ((await variable.data()) as Float32Array).slice(),
    })),
  );
}

/** Assigns every variable its saved values; a missing or reshaped one is an error naming it. */
export function restoreVariables(list: readonly NamedVariable[], saved: readonly SavedVariable[]): void {
  const byName = new Map(saved.map((t) => [t.name, t]));
  for (const { name, variable } of list) {
    const s = byName.get(name);
    if (!s || s.values.length !== variable.size)
      throw new Error(`checkpoint does not match the policy: ${name} is missing or has another shape`);
    tf.tidy(() => variable.assign(tf.tensor(s.values, variable.shape)));
  }
}
