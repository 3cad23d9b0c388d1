// Task distributions over environments, the RL analogue of the GPICL task pool. An instance (split, id) is drawn
// from seedFrom(seed, 'instance', space, id), each of its parts from its own stream of that seed:
// - physics: every physical constant of classic control times a factor from U(1 - r, 1 + r), r = env.physics
//   (exactly Gymnasium's constants when r = 0); for the `shifted` split, from outside that range: U(1 + r, 1 + 2r)
//   or U(1 - 2r, 1 - r), each side with probability 1/2, never below 0.05 (a constant cannot turn zero or negative);
// - a bandit's arm probabilities, a grid world's maze;
// - a permutation of the observation dimensions (permuteObservations), of the discrete actions (permuteActions),
//   and a projection matrix with entries N(0, 1/d), d the observation size (projectObservations), applied after
//   the permutation.
// Spaces: `train` and `seen` share the pool (ids taken modulo numTasks); with numTasks 'fresh', `train` ids each name
// a new instance (the caller counts them) and there is no `seen`. `unseen` and `shifted` have streams of their own.
import { SPLITS } from '../../../shared/objectives/index.js';
import { CLASSIC_CONTROL, type RlTaskSpec } from '../../../shared/spec.js';
import { Rng, seedFrom } from '../rng.js';
import { envModel } from './registry.js';
import type { ActionSpace, InstanceSource, VecEnv } from './types.js';
import { BatchEnv, type Instance } from './vecEnv.js';

export type RlTask = RlTaskSpec;

/** The training split: the pool, or fresh instances. */
export const TRAIN = 'train';
/** Classic control with its physics drawn from outside the training range. */
export const SHIFTED = 'shifted';

/** The physics range r of a classic-control environment; 0 for the others. */
const physicsRange = (task: RlTask): number => ('physics' in task.env ? task.env.physics : 0);

const isClassicControl = (task: RlTask): boolean => task.env.name in CLASSIC_CONTROL;

/** Evaluation splits: `seen` (absent for fresh instances), `unseen`, and `shifted` where the physics vary. */
export function evalSplits(task: RlTask): string[] {
  return [
    ...(task.numTasks === 'fresh' ? [] : [SPLITS.seen]),
    SPLITS.unseen,
    ...(isClassicControl(task) && physicsRange(task) > 0 ? [SHIFTED] : []),
  ];
}

export const observationSize = (task: RlTask): number => envModel(task.env).observationSize;

export const actionSpace = (task: RlTask): ActionSpace => envModel(task.env).action;

/** The seed instance (split, id) is drawn from. */
function instanceSeed(task: RlTask, seed: number, split: string, id: number): number {
  if (!Number.isInteger(id) || id < 0) throw new Error(`instance id ${id} is not a non-negative integer`);
  const pool = (i: number) => seedFrom(seed, 'instance', 'pool', i % (task.numTasks as number));
  if (split === TRAIN) return task.numTasks === 'fresh' ? seedFrom(seed, 'instance', 'fresh', id) : pool(id);
  if (split === SPLITS.seen && task.numTasks !== 'fresh') return pool(id);
  if (split === SPLITS.unseen || (split === SHIFTED && evalSplits(task).includes(SHIFTED)))
    return seedFrom(seed, 'instance', split, id);
  throw new Error(`${task.env.name} with ${task.numTasks} instances has no split '${split}'`);
}

/** A physical constant's factor: U(1 - r, 1 + r), or for `shifted` outside that range (see the top). */
function physicsFactor(rng: Rng, r: number, shifted: boolean): number {
  if (r === 0) return 1;
  const u = rng.next();
  if (!shifted) return 1 - r + 2 * r * u;
  return rng.next() < 0.5 ? 1 + r + r * u : Math.max(0.05, 1 - 2 * r + r * u);
}

function permutation(rng: Rng, n: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Instance `id` of `split`, regenerated from its seed (so any pool size costs nothing). */
export function drawInstance(task: RlTask, seed: number, split: string, id: number): Instance {
  const model = envModel(task.env);
  const base = instanceSeed(task, seed, split, id);
  const stream = (name: string) => new Rng(seedFrom(base, name));
  const data = new Float64Array(model.instanceSize);
  const physics = stream('physics');
  const r = physicsRange(task);
  model.constants.forEach(([, value], k) => {
    data[k] = value * physicsFactor(physics, r, split === SHIFTED);
  });
  model.drawInstance?.(stream('content'), data, model.constants.length);
  const d = model.observationSize;
  const { action } = model;
  return {
    data,
    observationPermutation: task.permuteObservations ? permutation(stream('observation-permutation'), d) : null,
    actionPermutation:
      task.permuteActions && action.kind === 'discrete' ? permutation(stream('action-permutation'), action.n) : null,
    projection: task.projectObservations
      ? stream('projection').fillNormal(new Float32Array(d * d), 1 / Math.sqrt(d))
      : null,
  };
}

/**
 * A batch of n slots of the task's environment. Slot i holds instance ids[i] of `split` (default: `train`, ids
 * firstSlot + i) and draws its initial states and payouts from its own generator, seedFrom(seed, 'slot', split,
 * firstSlot + i): a batch of n equals n batches of one made with firstSlot 0..n-1. `assign` moves a slot to another
 * instance (a new trial); instances depend on (seed, split, id) only.
 */
export function createVecEnv(
  task: RlTask,
  seed: number,
  n: number,
  options: Partial<InstanceSource> & { firstSlot?: number } = {},
): VecEnv {
  const split = options.split ?? TRAIN;
  const first = options.firstSlot ?? 0;
  const ids = options.ids ?? Array.from({ length: n }, (_, i) => first + i);
  const slotSeeds = Array.from({ length: n }, (_, i) => seedFrom(seed, 'slot', split, first + i));
  return new BatchEnv(
    task.env.name,
    envModel(task.env),
    slotSeeds,
    (s, id) => drawInstance(task, seed, s, id),
    split,
    ids,
  );
}
