// What each environment implements: its dynamics on one slot of a batch's typed arrays. The batch itself (auto-reset,
// time limits, permutations and projections, saving) is ./vecEnv.ts; which instance sits in a slot, ./family.ts.
import { CLASSIC_CONTROL, type ClassicControlName, type EnvName, type EnvSpec } from '../../../shared/spec.js';
import type { Rng } from '../rng.js';
import type { ActionSpace } from './types.js';

/** The batch's arrays a model reads and writes; slot i's numbers start at i * (the model's size). */
export interface Slots {
  /** [n * stateSize]: the physical state in float64, as Gymnasium keeps it. */
  readonly state: Float64Array;
  /** [n * instanceSize]: the instance's physical constants (in `constants` order), then its own data. */
  readonly inst: Float64Array;
  /** Each slot's own generator: initial states, a bandit's payouts. */
  readonly rngs: readonly Rng[];
  readonly rewards: Float32Array;
  readonly terminated: Uint8Array;
}

export interface EnvModel {
  readonly observationSize: number;
  readonly action: ActionSpace;
  /** Steps before truncation (the spec's maxSteps, or Gymnasium's / the family's default). */
  readonly timeLimit: number;
  readonly stateSize: number;
  readonly instanceSize: number;
  readonly renderStateSize: number;
  /** Physical constants by Gymnasium's names and values; randomised physics scales each one. */
  readonly constants: readonly (readonly [name: string, value: number])[];
  /** Fills an instance's data after its constants (arm probabilities, a maze) from the instance's generator. */
  drawInstance?(rng: Rng, data: Float64Array, offset: number): void;
  /** Draws slot i's initial state from its generator. */
  reset(x: Slots, i: number): void;
  /**
   * Advances slot i by its action at act[i * actionSize]: an index, or values already clipped to the bounds; sets
   * x.rewards[i] and x.terminated[i].
   */
  step(x: Slots, i: number, act: Float32Array): void;
  /** Writes slot i's observation (as Gymnasium returns it, float32) at out[offset]. */
  observe(x: Slots, i: number, out: Float32Array, offset: number): void;
  /** The state the viewer draws (shared/rollout.ts). */
  renderState(x: Slots, i: number): number[];
  /** Slot i's instance as the viewer scales it: physical constants by Gymnasium's names, or sizes. */
  params(x: Slots, i: number): Record<string, number>;
}

export type SpecOf<N extends EnvName> = Extract<EnvSpec, { name: N }>;

/** The spec's time limit, or Gymnasium's. */
export const timeLimitOf = (spec: SpecOf<ClassicControlName>): number => spec.maxSteps ?? CLASSIC_CONTROL[spec.name];

/** An entry of the registry: builds the model for an environment's spec. */
export interface EnvDef<S extends EnvSpec> {
  model(spec: S): EnvModel;
}

/** U(low, high) as NumPy's Generator.uniform draws it: low + (high - low) u. */
export const uniform = (rng: Rng, low: number, high: number): number => low + (high - low) * rng.next();

/** Numbers per slot of an action: 1 for a discrete index. */
export const actionSize = (a: ActionSpace): number => (a.kind === 'discrete' ? 1 : a.size);

/** Slot i's physical constants by name, read from its instance data. */
export function constantsOf(m: EnvModel, x: Slots, i: number): Record<string, number> {
  const o = i * m.instanceSize;
  return Object.fromEntries(m.constants.map(([name], k) => [name, x.inst[o + k]]));
}
