// Task distributions over environments (main/engine/envs/family.ts): instances by (split, id), the pool and fresh
// instances, physics factors, permutations and projections, and the evaluation splits.
import { describe, expect, it } from 'vitest';
import { rlTask } from '../../shared/spec';
import {
  actionSpace,
  createVecEnv,
  drawInstance,
  ENVS,
  envModel,
  evalSplits,
  observationSize,
} from '../../main/engine/envs';
import { Rng } from '../../main/engine/rng';

const task = (env: object, flags: object = {}) => rlTask.parse({ family: 'rl', env, ...flags });
const cartPole = (physics: number, flags: object = {}) =>
  task({ name: 'CartPole-v1', physics }, { numTasks: 4, ...flags });

/** The instance's constants over Gymnasium's: the physics factors. */
function factors(t: ReturnType<typeof task>, split: string, id: number): number[] {
  const model = envModel(t.env);
  const data = drawInstance(t, 1, split, id).data;
  return model.constants.map(([, value], k) => data[k] / value);
}

const isPermutation = (p: Int32Array | null, n: number) =>
  p !== null && [...p].sort((a, b) => a - b).every((v, i) => v === i) && p.length === n;

describe('RL task distributions', () => {
  it('r = 0 is exactly Gymnasium: every constant as Gymnasium sets it (point-mass: its own), in every split', () => {
    const cart = { gravity: 9.8, masscart: 1.0, masspole: 0.1, length: 0.5, force_mag: 10.0 };
    const expected = {
      'CartPole-v1': cart,
      CartPoleContinuous: cart,
      'Pendulum-v1': { g: 10.0, m: 1.0, l: 1.0 },
      'MountainCar-v0': { force: 0.001, gravity: 0.0025 },
      'point-mass': { mass: 1.0, damping: 0.5 },
    };
    for (const [name, constants] of Object.entries(expected)) {
      for (const split of ['train', 'seen', 'unseen']) {
        const env = createVecEnv(task({ name }, { numTasks: 3 }), 5, 2, { split, ids: [0, 7] });
        expect(env.params(1)).toEqual(constants);
      }
    }
    expect(createVecEnv(task({ name: 'Acrobot-v1' }), 0, 1).params(0)).toMatchObject({
      LINK_LENGTH_1: 1,
      LINK_LENGTH_2: 1,
      LINK_MOI: 1,
      g: 9.8,
    });
  });

  it('the same (split, id) gives the same instance; seen is the pool; unseen and fresh are new', () => {
    const t = cartPole(0.3);
    expect(drawInstance(t, 1, 'unseen', 3)).toEqual(drawInstance(t, 1, 'unseen', 3));
    expect(factors(t, 'seen', 2)).toEqual(factors(t, 'train', 2));
    expect(factors(t, 'seen', 6)).toEqual(factors(t, 'seen', 2)); // ids modulo the pool of 4
    expect(factors(t, 'seen', 1)).not.toEqual(factors(t, 'seen', 2));
    expect(factors(t, 'unseen', 2)).not.toEqual(factors(t, 'seen', 2));
    expect(drawInstance(t, 2, 'seen', 2)).not.toEqual(drawInstance(t, 1, 'seen', 2));
    const fresh = cartPole(0.3, { numTasks: 'fresh' });
    expect(factors(fresh, 'train', 6)).not.toEqual(factors(fresh, 'train', 2));
    expect(() => drawInstance(fresh, 1, 'seen', 0)).toThrow(/no split 'seen'/);
    expect(() => drawInstance(t, 1, 'nowhere', 0)).toThrow(/no split/);
  });

  it('physics factors lie in U(1 - r, 1 + r); shifted ones outside it, above 0.05', () => {
    const r = 0.3;
    const inside = Array.from({ length: 200 }, (_, id) => factors(cartPole(r), 'unseen', id)).flat();
    expect(Math.min(...inside)).toBeGreaterThanOrEqual(1 - r);
    expect(Math.max(...inside)).toBeLessThanOrEqual(1 + r);
    expect(Math.max(...inside) - Math.min(...inside)).toBeGreaterThan(1.9 * r);
    const shifted = Array.from({ length: 200 }, (_, id) => factors(cartPole(r), 'shifted', id)).flat();
    expect(shifted.every((f) => (f >= 1 + r && f <= 1 + 2 * r) || (f >= 1 - 2 * r && f <= 1 - r))).toBe(true);
    const above = shifted.filter((f) => f > 1).length / shifted.length;
    expect(above).toBeGreaterThan(0.4);
    expect(above).toBeLessThan(0.6);
    const wide = Array.from({ length: 100 }, (_, id) => factors(cartPole(0.8), 'shifted', id)).flat();
    expect(Math.min(...wide)).toBe(0.05);
  });

  it('evaluation splits: seen unless fresh, unseen, and shifted where the physics vary', () => {
    expect(evalSplits(cartPole(0.2))).toEqual(['seen', 'unseen', 'shifted']);
    expect(evalSplits(cartPole(0))).toEqual(['seen', 'unseen']);
    for (const name of ['CartPoleContinuous', 'point-mass']) {
      const shifted = task({ name, physics: 0.3 }, { numTasks: 4 });
      expect(evalSplits(shifted)).toEqual(['seen', 'unseen', 'shifted']);
      const factors = Array.from({ length: 50 }, (_, id) => {
        const { data } = drawInstance(shifted, 1, 'shifted', id);
        return envModel(shifted.env).constants.map(([, value], k) => data[k] / value);
      }).flat();
      expect(factors.every((f) => (f >= 1.3 && f <= 1.6) || (f >= 0.4 && f <= 0.7))).toBe(true);
      expect(evalSplits(task({ name }, { numTasks: 4 }))).toEqual(['seen', 'unseen']);
    }
    expect(evalSplits(task({ name: 'bernoulli-bandit' }, { numTasks: 'fresh' }))).toEqual(['unseen']);
    expect(() => drawInstance(cartPole(0), 1, 'shifted', 0)).toThrow(/shifted/);
  });

  it('permutations are permutations, and the agent sees the environment through them', () => {
    const spec = { name: 'Acrobot-v1', physics: 0.2 };
    const plain = createVecEnv(task(spec, { numTasks: 2 }), 4, 3);
    const mixed = createVecEnv(task(spec, { numTasks: 2, permuteObservations: true, permuteActions: true }), 4, 3);
    const perms = [0, 1, 2].map((id) =>
      drawInstance(task(spec, { numTasks: 2, permuteObservations: true, permuteActions: true }), 4, 'train', id),
    );
    for (const p of perms) {
      expect(isPermutation(p.observationPermutation, 6)).toBe(true);
      expect(isPermutation(p.actionPermutation, 3)).toBe(true);
    }
    expect(perms[0].observationPermutation).not.toEqual(perms[1].observationPermutation);
    let [a, b] = [plain.reset(), mixed.reset()];
    const rng = new Rng(8);
    for (let t = 0; t < 50; t++) {
      for (let i = 0; i < 3; i++) {
        const { observationPermutation: op } = perms[i];
        for (let j = 0; j < 6; j++) expect(b[i * 6 + j]).toBe(a[i * 6 + op![j]]);
      }
      const agent = Float32Array.from({ length: 3 }, () => rng.int(3));
      const envActions = agent.map((x, i) => perms[i].actionPermutation![x]);
      [a, b] = [plain.step(envActions).obs, mixed.step(agent).obs];
    }
  });

  it('projections are N(0, 1/d) matrices applied after the permutation', () => {
    const spec = { name: 'CartPole-v1' };
    const flags = { numTasks: 50, permuteObservations: true, projectObservations: true };
    const entries = Array.from({ length: 50 }, (_, id) => [
      ...drawInstance(task(spec, flags), 3, 'seen', id).projection!,
    ]).flat();
    expect(entries.length).toBe(50 * 16);
    const mean = entries.reduce((s, v) => s + v, 0) / entries.length;
    const variance = entries.reduce((s, v) => s + (v - mean) ** 2, 0) / entries.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(variance).toBeGreaterThan(0.2);
    expect(variance).toBeLessThan(0.3);

    const plain = createVecEnv(task(spec, { numTasks: 50 }), 3, 2);
    const projected = createVecEnv(task(spec, flags), 3, 2);
    const [a, b] = [plain.reset(), projected.reset()];
    for (let i = 0; i < 2; i++) {
      const inst = drawInstance(task(spec, flags), 3, 'train', i);
      const o = [...inst.observationPermutation!].map((k) => a[i * 4 + k]);
      for (let k = 0; k < 4; k++) {
        const expected = o.reduce((s, v, j) => s + inst.projection![k * 4 + j] * v, 0);
        expect(b[i * 4 + k]).toBeCloseTo(expected, 6);
      }
    }
  });

  it('observation size and action space per task; a registry entry for every environment of the spec', () => {
    expect(observationSize(cartPole(0))).toBe(4);
    expect(actionSpace(task({ name: 'Pendulum-v1' }))).toEqual({ kind: 'box', size: 1, low: -2, high: 2 });
    expect(actionSpace(task({ name: 'CartPoleContinuous' }))).toEqual({ kind: 'box', size: 1, low: -1, high: 1 });
    expect(actionSpace(task({ name: 'point-mass' }))).toEqual({ kind: 'box', size: 2, low: -1, high: 1 });
    expect(observationSize(task({ name: 'CartPoleContinuous' }))).toBe(4);
    expect(observationSize(task({ name: 'point-mass' }))).toBe(6);
    expect(actionSpace(task({ name: 'bernoulli-bandit', arms: 7 }))).toEqual({ kind: 'discrete', n: 7 });
    expect(observationSize(task({ name: 'gridworld', size: 6, observation: 'full' }))).toBe(108);
    expect(observationSize(task({ name: 'gridworld', size: 6, observation: 'full', objects: 'two' }))).toBe(144);
    expect(Object.keys(ENVS).sort()).toEqual(
      [
        'Acrobot-v1',
        'CartPole-v1',
        'MountainCar-v0',
        'MountainCarContinuous-v0',
        'Pendulum-v1',
        'CartPoleContinuous',
        'point-mass',
        'bernoulli-bandit',
        'dependent-bandit',
        'swapping-bandit',
        'gridworld',
      ].sort(),
    );
  });
});
