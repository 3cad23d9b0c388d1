// Task distributions over environments, the RL analogue of the GPICL task pool. An instance (split, id) is drawn
// from seedFrom(seed, 'instance', space, id), each of its parts from its own stream of that seed:
// - physics: every physical constant (classic control, CartPoleContinuous, point-mass) times a factor from
//   U(1 - r, 1 + r), r = env.physics (exactly the model's constants when r = 0); for the `shifted` split, from
//   outside that range: U(1 + r, 1 + 2r)
//   or U(1 - 2r, 1 - r), each side with probability 1/2, never below 0.05 (a constant cannot turn zero or negative);
// - a bandit's arm probabilities, a grid world's maze;
// - a permutation of the observation dimensions (permuteObservations), of the discrete actions (permuteActions),
//   and a projection matrix with entries N(0, 1/d), d the observation size (projectObservations), applied after
//   the permutation.
// Spaces: `train` and `seen` share the pool (ids taken modulo numTasks); with numTasks 'fresh', `train` ids each name
// a new instance (the caller counts them) and there is no `seen`. `unseen` and `shifted` have streams of their own.
//
// Several environments (RL² across environments: task.moreEnvs or task.testEnvs given; MetaGenRL's moreEnvs are
// its population's, one environment per agent, and never composed): instance k of the pool (train, seen) or of a
// fresh or `unseen` stream is on environment k mod n of [env, ...moreEnvs], with that environment's own physics
// range; instance k of `shifted` on the k mod m-th of those among them whose physics vary; every instance of the
// split test:<name> (shared/spec.ts testEnvSplit) on that test environment, from its own stream, physics as its spec
// says. A batch then pads them all to one interface (./multiEnv.ts).
import { SPLITS } from '../../../shared/objectives/index.js';
import { type EnvSpec, type RlTaskSpec, testEnvSplit } from '../../../shared/spec.js';
import { Rng, seedFrom } from '../rng.js';
import { type Member, MultiEnv, paddedAction } from './multiEnv.js';
import { envModel } from './registry.js';
import type { ActionSpace, InstanceSource, VecEnv } from './types.js';
import { BatchEnv, type Instance } from './vecEnv.js';

export type RlTask = RlTaskSpec;

/** The training split: the pool, or fresh instances. */
export const TRAIN = 'train';
/** Instances with their physics drawn from outside the training range. */
export const SHIFTED = 'shifted';

/** The physics range r of an environment with physical constants; 0 for the others. */
const physicsRange = (env: EnvSpec): number => ('physics' in env ? env.physics : 0);

/** Whether a learner's batch spans several environments (see the top). */
export const isComposite = (task: RlTask): boolean =>
  task.algorithm.kind !== 'metagenrl' && (task.moreEnvs.length > 0 || task.testEnvs.length > 0);

/** The environments a learner trains on: [env, ...moreEnvs] when composed, else env alone. */
const trainEnvs = (task: RlTask): EnvSpec[] => (isComposite(task) ? [task.env, ...task.moreEnvs] : [task.env]);

/** Every environment a learner's batch may hold: the training ones, then the test ones. */
export const taskEnvs = (task: RlTask): EnvSpec[] =>
  isComposite(task) ? [...trainEnvs(task), ...task.testEnvs] : [task.env];

/** Indices (into taskEnvs) of the training environments whose physics vary: the `shifted` split's. */
const shiftedEnvs = (task: RlTask): number[] => trainEnvs(task).flatMap((env, e) => (physicsRange(env) > 0 ? [e] : []));

/** The splits of the test environments, in taskEnvs order after the training environments. */
const testSplits = (task: RlTask): string[] => (isComposite(task) ? task.testEnvs.map(testEnvSplit) : []);

/**
 * Evaluation splits: `seen` (absent for fresh instances), `unseen`, `shifted` where the physics vary, and one
 * per test environment.
 */
export function evalSplits(task: RlTask): string[] {
  return [
    ...(task.numTasks === 'fresh' ? [] : [SPLITS.seen]),
    SPLITS.unseen,
    ...(shiftedEnvs(task).length > 0 ? [SHIFTED] : []),
    ...testSplits(task),
  ];
}

/** Which environment (an index into taskEnvs) instance `id` of `split` is on (see the top). */
export function instanceEnv(task: RlTask, split: string, id: number): number {
  const test = testSplits(task).indexOf(split);
  if (test >= 0) return trainEnvs(task).length + test;
  const n = trainEnvs(task).length;
  if (split === SHIFTED) {
    const shifted = shiftedEnvs(task);
    return shifted.length ? shifted[id % shifted.length] : 0;
  }
  const pooled = (split === TRAIN || split === SPLITS.seen) && task.numTasks !== 'fresh';
  return (pooled ? id % (task.numTasks as number) : id) % n;
}

/** The observation size: of several environments, the largest (the others' are zero-padded). */
export const observationSize = (task: RlTask): number =>
  Math.max(...taskEnvs(task).map((env) => envModel(env).observationSize));

/** The action space: of several environments, their padded one (./multiEnv.ts). */
export const actionSpace = (task: RlTask): ActionSpace =>
  isComposite(task) ? paddedAction(members(task)) : envModel(task.env).action;

/** The environments of taskEnvs with their models, as a batch of several holds them. */
const members = (task: RlTask): Member[] => taskEnvs(task).map((spec) => ({ name: spec.name, model: envModel(spec) }));

/** The seed instance (split, id) is drawn from. */
function instanceSeed(task: RlTask, seed: number, split: string, id: number): number {
  if (!Number.isInteger(id) || id < 0) throw new Error(`instance id ${id} is not a non-negative integer`);
  const pool = (i: number) => seedFrom(seed, 'instance', 'pool', i % (task.numTasks as number));
  if (split === TRAIN) return task.numTasks === 'fresh' ? seedFrom(seed, 'instance', 'fresh', id) : pool(id);
  if (split === SPLITS.seen && task.numTasks !== 'fresh') return pool(id);
  // unseen, shifted and the test splits: streams of their own.
  if (evalSplits(task).includes(split)) return seedFrom(seed, 'instance', split, id);
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
  const base = instanceSeed(task, seed, split, id);
  const env = taskEnvs(task)[instanceEnv(task, split, id)];
  const model = envModel(env);
  const stream = (name: string) => new Rng(seedFrom(base, name));
  const data = new Float64Array(model.instanceSize);
  const physics = stream('physics');
  const r = physicsRange(env);
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
 * firstSlot + i) (of several environments, one per environment the slot visits: seedFrom(that, environment index)):
 * a batch of n equals n batches of one made with firstSlot 0..n-1. `assign` moves a slot to another instance (a new
 * trial; of several environments, possibly on another one); instances depend on (seed, split, id) only.
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
  const makeInstance = (s: string, id: number) => drawInstance(task, seed, s, id);
  if (isComposite(task)) {
    const placed = { split, ids, envOf: (s: string, id: number) => instanceEnv(task, s, id) };
    return new MultiEnv(members(task), slotSeeds, makeInstance, placed);
  }
  return new BatchEnv(task.env.name, envModel(task.env), slotSeeds, makeInstance, split, ids);
}
