// Several environments in one batch (main/engine/envs/multiEnv.ts, for RL² across environments): padded
// observations and actions, which instance is on which environment, each slot acting exactly as its own
// environment's batch does, and the batch contract (a batch of N equals N of one, seeds, save / restore).
import { describe, expect, it } from 'vitest';
import { envSpec, rlTask } from '../../shared/spec';
import {
  actionSpace,
  createVecEnv,
  drawInstance,
  envModel,
  evalSplits,
  instanceEnv,
  observationSize,
  type VecEnv,
} from '../../main/engine/envs';
import { BatchEnv } from '../../main/engine/envs/vecEnv';
import { Rng, seedFrom } from '../../main/engine/rng';

const PENDULUM = { name: 'Pendulum-v1', physics: 0.2, maxSteps: 30 } as const;
const POINT_MASS = { name: 'point-mass', maxSteps: 25 } as const;
const CART = { name: 'CartPoleContinuous' } as const;

const rl2 = (extra: object = {}) =>
  rlTask.parse({ family: 'rl', env: PENDULUM, moreEnvs: [POINT_MASS], testEnvs: [CART], numTasks: 4, ...extra });

/** Random actions for every slot: values in and beyond [-1, 1], or indices. */
function randomActions(env: VecEnv, rng: Rng): Float32Array {
  const a = env.action;
  if (a.kind === 'discrete') return Float32Array.from({ length: env.n }, () => rng.int(a.n));
  return Float32Array.from({ length: env.n * a.size }, () => rng.next() * 3 - 1.5);
}

/** Everything the batch reports over `steps` steps, flattened. */
function record(env: VecEnv, steps: number, actions: (t: number) => Float32Array): number[][] {
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const r = env.step(actions(t));
    out.push([...r.obs, ...r.rewards, ...r.terminated, ...r.truncated, ...r.finalObs]);
  }
  return out;
}

const envsOf = (env: VecEnv) => Array.from({ length: env.n }, (_, i) => env.envOf(i));

describe('several environments in one batch', () => {
  it('pads observations to the largest and actions to a box [-1, 1] of the largest size', () => {
    const task = rl2();
    expect(observationSize(task)).toBe(6);
    expect(actionSpace(task)).toEqual({ kind: 'box', size: 2, low: -1, high: 1 });
    const env = createVecEnv(task, 1, 2);
    expect(env).toMatchObject({ observationSize: 6, maxSteps: 500, renderStateSize: 4 });
    expect(envsOf(env)).toEqual(['Pendulum-v1', 'point-mass']);
    const obs = env.reset();
    // Pendulum's (cos, sin, speed) and three zeros; point-mass's six numbers.
    expect(obs[0] ** 2 + obs[1] ** 2).toBeCloseTo(1, 5);
    expect(Array.from(obs.subarray(3, 6))).toEqual([0, 0, 0]);
    expect(obs.subarray(6, 12).some((v) => v !== 0)).toBe(true);
    const step = env.step(new Float32Array(4));
    expect(Array.from(step.obs.subarray(3, 6))).toEqual([0, 0, 0]);
    // Discrete environments with the same number of actions pass indices through.
    const discrete = rlTask.parse({
      family: 'rl',
      env: { name: 'Acrobot-v1' },
      moreEnvs: [{ name: 'MountainCar-v0' }],
    });
    expect(actionSpace(discrete)).toEqual({ kind: 'discrete', n: 3 });
    expect(createVecEnv(discrete, 1, 2).observationSize).toBe(6);
  });

  it('refuses a mix of discrete and continuous actions, naming them; pads discrete counts to the largest', () => {
    const mixed = rlTask.parse({ family: 'rl', env: { name: 'CartPole-v1' }, testEnvs: [CART] });
    expect(() => createVecEnv(mixed, 1, 1)).toThrow(
      /CartPoleContinuous has continuous actions, CartPole-v1 discrete ones: environments of one batch need one kind/,
    );
    const counts = rlTask.parse({ family: 'rl', env: { name: 'CartPole-v1' }, moreEnvs: [{ name: 'Acrobot-v1' }] });
    expect(actionSpace(counts)).toEqual({ kind: 'discrete', n: 3 });
    // Each slot keeps its own count, and refuses an action its environment lacks.
    const env = createVecEnv({ ...counts, numTasks: 'fresh' }, 1, 2);
    env.reset();
    expect([env.slotShape(0), env.slotShape(1)]).toEqual([
      { observationSize: 4, actions: 2 },
      { observationSize: 6, actions: 3 },
    ]);
    expect(() => env.step(Float32Array.of(2, 2))).toThrow(/action 2/);
  });

  it('puts instance k on environment k mod n, shifted on those whose physics vary, a test split on its own', () => {
    const pool = rl2({ numTasks: 3 });
    // Pool ids are taken modulo the pool: 3 is instance 0 again.
    expect([0, 1, 2, 3, 4].map((id) => instanceEnv(pool, 'train', id))).toEqual([0, 1, 0, 0, 1]);
    expect([0, 1, 2, 3].map((id) => instanceEnv(pool, 'seen', id))).toEqual([0, 1, 0, 0]);
    expect([0, 1, 2, 3].map((id) => instanceEnv(pool, 'unseen', id))).toEqual([0, 1, 0, 1]);
    expect([0, 1, 2].map((id) => instanceEnv(pool, 'shifted', id))).toEqual([0, 0, 0]);
    expect(instanceEnv(pool, 'test:CartPoleContinuous', 5)).toBe(2);
    const fresh = rl2({ numTasks: 'fresh' });
    expect([0, 1, 2, 3].map((id) => instanceEnv(fresh, 'train', id))).toEqual([0, 1, 0, 1]);
    expect(evalSplits(pool)).toEqual(['seen', 'unseen', 'shifted', 'test:CartPoleContinuous']);
    expect(evalSplits(fresh)).toEqual(['unseen', 'shifted', 'test:CartPoleContinuous']);
    // Without varied physics there is no shifted split.
    expect(evalSplits(rl2({ env: { name: 'Pendulum-v1' } }))).toEqual(['seen', 'unseen', 'test:CartPoleContinuous']);

    const split = (name: string) => envsOf(createVecEnv(pool, 2, 4, { split: name, ids: [0, 1, 2, 3] }));
    expect(split('unseen')).toEqual(['Pendulum-v1', 'point-mass', 'Pendulum-v1', 'point-mass']);
    expect(split('shifted')).toEqual(new Array(4).fill('Pendulum-v1'));
    expect(split('test:CartPoleContinuous')).toEqual(new Array(4).fill('CartPoleContinuous'));
  });

  it("draws each instance with its own environment's constants and physics range", () => {
    const task = rl2({ moreEnvs: [{ ...POINT_MASS, physics: 0.5 }], testEnvs: [{ ...CART, physics: 0.3 }] });
    /** The instance's constants over its environment's defaults. */
    const factors = (split: string, id: number, name: 'Pendulum-v1' | 'point-mass' | 'CartPoleContinuous') => {
      const { data } = drawInstance(task, 1, split, id);
      return envModel(envSpec.parse({ name })).constants.map(([, v], k) => data[k] / v);
    };
    const within = (fs: number[], r: number) => fs.every((f) => Math.abs(f - 1) <= r + 1e-9);
    for (let id = 0; id < 20; id += 2) {
      expect(within(factors('unseen', id, 'Pendulum-v1'), 0.2)).toBe(true);
      expect(factors('shifted', id, 'Pendulum-v1').every((f) => Math.abs(f - 1) >= 0.2)).toBe(true);
      expect(within(factors('unseen', id + 1, 'point-mass'), 0.5)).toBe(true);
      const cart = factors('test:CartPoleContinuous', id, 'CartPoleContinuous');
      expect(cart).toHaveLength(5);
      expect(within(cart, 0.3) && !within(cart, 0)).toBe(true);
    }
    expect(() => drawInstance(task, 1, 'test:CartPole-v1', 0)).toThrow(/no split/);
  });

  it("acts on each slot exactly as that environment's own batch, its actions scaled onto its bounds", () => {
    const task = rl2({ numTasks: 'fresh' });
    const seed = 9;
    const env = createVecEnv(task, seed, 2);
    // Slot i on environment e is a batch of one of that environment with the seed (slot seed, e).
    const own = [PENDULUM, POINT_MASS].map(
      (spec, i) =>
        new BatchEnv(
          spec.name,
          envModel(envSpec.parse(spec)),
          [seedFrom(seedFrom(seed, 'slot', 'train', i), i)],
          (s, id) => drawInstance(task, seed, s, id),
          'train',
          [i],
        ),
    );
    env.reset();
    for (const o of own) o.reset();
    const rng = new Rng(3);
    for (let t = 0; t < 60; t++) {
      const a = randomActions(env, rng);
      const clip = (v: number) => Math.min(1, Math.max(-1, v));
      // Pendulum's torque is 2a (its box is [-2, 2]) and ignores the second dimension; point-mass takes both.
      const pendulum = own[0].step(Float32Array.of(2 * clip(a[0])));
      const mass = own[1].step(a.slice(2, 4));
      expect(env.envAction(0, a)).toEqual([2 * clip(a[0])]);
      expect(env.envAction(1, a)).toEqual([clip(a[2]), clip(a[3])]);
      const r = env.step(a);
      expect(Array.from(r.obs)).toEqual([...pendulum.obs, 0, 0, 0, ...mass.obs]);
      expect(Array.from(r.rewards)).toEqual([pendulum.rewards[0], mass.rewards[0]]);
      expect(Array.from(r.truncated)).toEqual([pendulum.truncated[0], mass.truncated[0]]);
      expect(Array.from(r.finalObs)).toEqual([...pendulum.finalObs, 0, 0, 0, ...mass.finalObs]);
    }
    expect(env.renderState(0)).toEqual(own[0].renderState(0));
    expect(env.params(1)).toEqual(own[1].params(0));
  });

  it("moves a slot to another environment on assign; coming back continues that environment's stream", () => {
    const env = createVecEnv(rl2({ numTasks: 'fresh' }), 4, 1);
    env.reset();
    const first = Array.from(env.assign(0, 'train', 2)).slice(0, 3);
    expect(env.envOf(0)).toBe('Pendulum-v1');
    const mass = env.assign(0, 'train', 1);
    expect(env.envOf(0)).toBe('point-mass');
    expect(
      Array.from(mass)
        .slice(3)
        .some((v) => v !== 0),
    ).toBe(true);
    env.step(new Float32Array(2));
    // Instance 2 again: the same physics, but the next initial state of the slot's Pendulum stream.
    const again = Array.from(env.assign(0, 'train', 2));
    expect(env.envOf(0)).toBe('Pendulum-v1');
    expect(again.slice(3)).toEqual([0, 0, 0]);
    expect(again.slice(0, 3)).not.toEqual(first);
  });

  it('a batch of 4 equals 4 batches of one, new trials included', () => {
    const task = rl2({ numTasks: 5 });
    const batch = createVecEnv(task, 7, 4);
    const singles = [0, 1, 2, 3].map((i) => createVecEnv(task, 7, 1, { firstSlot: i }));
    const rng = new Rng(1);
    const actions = Array.from({ length: 90 }, () => randomActions(batch, rng));
    const ids = Array.from({ length: 90 }, () => rng.int(5));
    batch.reset();
    for (const s of singles) s.reset();
    for (let t = 0; t < 90; t++) {
      const all = batch.step(actions[t]);
      singles.forEach((single, i) => {
        const one = single.step(actions[t].slice(2 * i, 2 * i + 2));
        expect(Array.from(one.obs)).toEqual(Array.from(all.obs.subarray(6 * i, 6 * i + 6)));
        expect([one.rewards[0], one.truncated[0]]).toEqual([all.rewards[i], all.truncated[i]]);
      });
      // Every 10 steps a new trial in slot t mod 4, on whichever environment its instance is.
      if (t % 10 === 9) {
        batch.assign(t % 4, 'train', ids[t]);
        singles[t % 4].assign(0, 'train', ids[t]);
      }
    }
    expect(new Set(envsOf(batch)).size).toBe(2);
  });

  it('is reproducible from its seed, and save, JSON and restore continue exactly', () => {
    const task = rl2({ numTasks: 'fresh' });
    const run = (seed: number) => {
      const env = createVecEnv(task, seed, 3);
      const rng = new Rng(2);
      return [Array.from(env.reset()), ...record(env, 40, () => randomActions(env, rng))];
    };
    expect(run(5)).toEqual(run(5));
    expect(run(6)).not.toEqual(run(5));

    const env = createVecEnv(task, 3, 3);
    const rng = new Rng(4);
    env.reset();
    record(env, 20, () => randomActions(env, rng));
    env.assign(0, 'train', 7);
    env.assign(1, 'unseen', 3);
    env.assign(2, 'test:CartPoleContinuous', 0);
    record(env, 5, () => randomActions(env, rng));
    const saved = JSON.parse(JSON.stringify(env.save()));
    const obs = Array.from(env.observe());
    const actions = Array.from({ length: 60 }, () => randomActions(env, rng));
    const expected = record(env, 60, (t) => actions[t]);
    const after = Array.from(env.assign(0, 'train', 4));

    const fresh = createVecEnv(task, 3, 3);
    fresh.restore(saved);
    expect(Array.from(fresh.observe())).toEqual(obs);
    expect(envsOf(fresh)).toEqual(['point-mass', 'point-mass', 'CartPoleContinuous']);
    expect(record(fresh, 60, (t) => actions[t])).toEqual(expected);
    // The slot's earlier Pendulum batch came back too: returning to it continues its stream.
    expect(Array.from(fresh.assign(0, 'train', 4))).toEqual(after);
    expect(() => createVecEnv(task, 3, 2).restore(saved)).toThrow(/not a saved batch/);
    expect(() => createVecEnv(rl2({ testEnvs: [] }), 3, 3).restore(saved)).toThrow(/not a saved batch/);
    expect(() => createVecEnv(task, 4, 3).restore(saved)).toThrow(/another seed/);
  });

  it("keeps MetaGenRL's and a single environment's batches as they were", () => {
    const metagenrl = rlTask.parse({
      family: 'rl',
      env: PENDULUM,
      moreEnvs: [POINT_MASS],
      algorithm: { kind: 'metagenrl' },
    });
    const env = createVecEnv(metagenrl, 1, 2);
    expect(env).toBeInstanceOf(BatchEnv);
    expect([env.observationSize, envsOf(env)]).toEqual([3, ['Pendulum-v1', 'Pendulum-v1']]);
    expect(actionSpace(metagenrl)).toEqual({ kind: 'box', size: 1, low: -2, high: 2 });
    expect(evalSplits(metagenrl)).toEqual(['seen', 'unseen', 'shifted']);
    expect(createVecEnv(rl2({ moreEnvs: [], testEnvs: [] }), 1, 2)).toBeInstanceOf(BatchEnv);
  });
});
