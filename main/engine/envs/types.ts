// The environment contract: a batch of N independent instances stepped at once on typed arrays, each
// reproducible from (seed, index), with Gymnasium's terminated / truncated kept apart and auto-reset.
import type { EnvName, EnvSpec } from '../../../shared/spec.js';

export type ActionSpace = { kind: 'discrete'; n: number } | { kind: 'box'; size: number; low: number; high: number };

/** The result of one step of every instance; arrays are owned by the VecEnv and overwritten by the next step. */
export interface VecStep {
  /** [n * observationSize]: the next observation; for an instance whose episode ended, its reset observation. */
  obs: Float32Array;
  rewards: Float32Array;
  /** 1 where the episode ended in a terminal state (no bootstrapping from it). */
  terminated: Uint8Array;
  /**
   * 1 where the episode hit its time limit (bootstrap from `finalObs`). Never together with `terminated`: a terminal
   * step at the time limit is terminal (Gymnasium would set both flags; nothing is bootstrapped from it).
   */
  truncated: Uint8Array;
  /** [n * observationSize]: the last observation of an episode that ended this step (0 elsewhere). */
  finalObs: Float32Array;
}

/**
 * N instances of one environment family, or of several padded to one interface (RL² across environments,
 * ./multiEnv.ts). Instance i's randomness (its initial states, and a bandit's payouts) comes from its own Rng
 * seeded from (seed, i), so a batch of N equals N batches of one.
 */
export interface VecEnv {
  /** The environment (of several: the task's first, task.env; each slot's is `envOf`). */
  readonly name: EnvName;
  readonly n: number;
  readonly observationSize: number;
  readonly action: ActionSpace;
  /** Time limit in steps (truncation); of several environments, the longest. */
  readonly maxSteps: number;
  /** Numbers per instance in renderState (see shared/rollout.ts); of several environments, the most. */
  readonly renderStateSize: number;
  /** The environment slot i is on. */
  envOf(i: number): EnvName;
  /** Slot i's environment's own sizes (of several environments, before padding). */
  slotShape(i: number): SlotShape;
  /**
   * The action slot i's environment takes for the batch's `actions`: its box values clipped to its bounds (and,
   * of several environments, its own dimensions scaled to its bounds), or the discrete index the agent chose.
   */
  envAction(i: number, actions: Float32Array): number[];
  /**
   * Starts a new episode on every instance; returns the observations [n * observationSize]: the same buffer as
   * `VecStep.obs` and `observe()`, overwritten by the next reset, step or assign. Call it once before stepping.
   */
  reset(): Float32Array;
  /**
   * Puts instance `id` of `split` (see ./family.ts) into slot i and starts a new episode there: a new trial. Its
   * observation is written into the current observations and returned (a view of them).
   */
  assign(slot: number, split: string, id: number): Float32Array;
  /** The current observations (what the last reset, step or assign left); also right after `restore`. */
  observe(): Float32Array;
  /**
   * Steps every instance: `actions` holds n indices (discrete) or n * size values (box; clipped to the bounds as
   * Gymnasium does). Ended episodes reset at once.
   */
  step(actions: Float32Array): VecStep;
  /** Instance i's physical state as the viewer draws it (shared/rollout.ts). */
  renderState(i: number): number[];
  /** Instance i's physical constants by Gymnasium's names (e.g. masspole, length). */
  params(i: number): Record<string, number>;
  /** Everything needed to continue exactly: states, step counters, RNG states. JSON-safe. */
  save(): unknown;
  restore(saved: unknown): void;
}

/** An environment's own sizes: its observation, and its discrete actions' count or its box's size. */
export interface SlotShape {
  observationSize: number;
  actions: number;
}

/** What a policy acting on a batch needs to know of it: the batch's (padded) action space, each slot's sizes. */
export interface BatchShape {
  action: ActionSpace;
  slots: readonly SlotShape[];
}

/** The shape of `env`'s batch as its slots stand now (a slot keeps its environment for a trial). */
export function batchShape(env: VecEnv): BatchShape {
  return { action: env.action, slots: Array.from({ length: env.n }, (_, i) => env.slotShape(i)) };
}

/** Which instances a VecEnv holds: drawn for a split of the task distribution (see ./family.ts). */
export interface InstanceSource {
  /** `train` (the pool, or fresh), `seen`, `unseen`, `shifted` (physics outside the training range). */
  split: string;
  /** Instance ids within the split, one per slot of the batch. */
  ids: readonly number[];
}

export type { EnvSpec };
