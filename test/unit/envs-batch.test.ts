// The batch (main/engine/envs/vecEnv.ts): a batch of N equals N batches of one, runs are reproducible from their
// seed, and save / restore continues exactly (states, step counters, generators), for every environment.
import { describe, expect, it } from 'vitest';
import { rlTask } from '../../shared/spec';
import { createVecEnv, type VecEnv } from '../../main/engine/envs';
import { Rng } from '../../main/engine/rng';

const ENV_SPECS = [
  { name: 'CartPole-v1', physics: 0.3 },
  { name: 'Acrobot-v1', physics: 0.3 },
  { name: 'MountainCar-v0' },
  { name: 'MountainCarContinuous-v0' },
  { name: 'Pendulum-v1', physics: 0.2, maxSteps: 40 },
  { name: 'CartPoleContinuous', physics: 0.3 },
  { name: 'point-mass', physics: 0.3, maxSteps: 40 },
  { name: 'bernoulli-bandit', arms: 4 },
  { name: 'dependent-bandit' },
  { name: 'gridworld', size: 5, observation: 'partial' },
  { name: 'gridworld', size: 4, observation: 'full', maxSteps: 30 },
];
const FLAGS = { numTasks: 3, permuteObservations: true, permuteActions: true, projectObservations: true };
const task = (env: object, flags: object = FLAGS) => rlTask.parse({ family: 'rl', env, ...flags });

/** Random actions for every slot, from one generator (indices, or values in and beyond the bounds). */
function randomActions(env: VecEnv, rng: Rng): Float32Array {
  const a = env.action;
  if (a.kind === 'discrete') return Float32Array.from({ length: env.n }, () => rng.int(a.n));
  return Float32Array.from({ length: env.n * a.size }, () => (rng.next() * 3 - 1.5) * a.high);
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

/** Slot i's part of a recorded batch of n (obs, reward, terminated, truncated, final obs). */
function slotOf(row: number[], i: number, n: number, d: number): number[] {
  const at = (start: number, width: number) => row.slice(start + i * width, start + (i + 1) * width);
  return [...at(0, d), ...at(n * d, 1), ...at(n * d + n, 1), ...at(n * d + 2 * n, 1), ...at(n * d + 3 * n, d)];
}

describe('VecEnv batches', () => {
  for (const spec of ENV_SPECS) {
    const label = `${spec.name}${'observation' in spec ? ` (${spec.observation})` : ''}`;

    it(`${label}: a batch of 4 equals 4 batches of one, step by step`, () => {
      const batch = createVecEnv(task(spec), 7, 4);
      const singles = [0, 1, 2, 3].map((i) => createVecEnv(task(spec), 7, 1, { firstSlot: i }));
      const rng = new Rng(1);
      const actions = Array.from({ length: 120 }, () => randomActions(batch, rng));
      const A = actions[0].length / 4;
      const d = batch.observationSize;
      batch.reset();
      const all = record(batch, 120, (t) => actions[t]);
      singles.forEach((single, i) => {
        single.reset();
        const one = record(single, 120, (t) => actions[t].slice(i * A, (i + 1) * A));
        expect(one).toEqual(all.map((row) => slotOf(row, i, 4, d)));
      });
      // Episodes did end (and reset) along the way, except in the long ones.
      const ends = all.reduce((s, row) => s + slotOf(row, 0, 4, d)[d + 1] + slotOf(row, 0, 4, d)[d + 2], 0);
      if (!spec.name.startsWith('MountainCar') && spec.name !== 'Acrobot-v1') expect(ends).toBeGreaterThan(0);
    });

    it(`${label}: reproducible from its seed; another seed differs`, () => {
      const run = (seed: number) => {
        const env = createVecEnv(task(spec), seed, 3);
        const rng = new Rng(2);
        return [Array.from(env.reset()), ...record(env, 30, () => randomActions(env, rng))];
      };
      expect(run(5)).toEqual(run(5));
      expect(run(6)).not.toEqual(run(5));
    });

    it(`${label}: save, JSON and restore continue exactly`, () => {
      const env = createVecEnv(task(spec), 3, 3);
      const rng = new Rng(4);
      env.reset();
      record(env, 25, () => randomActions(env, rng));
      env.assign(1, 'unseen', 9);
      record(env, 5, () => randomActions(env, rng));
      const saved = JSON.parse(JSON.stringify(env.save()));
      const obs = Array.from(env.observe());
      const actions = Array.from({ length: 60 }, () => randomActions(env, rng));
      const expected = record(env, 60, (t) => actions[t]);

      const fresh = createVecEnv(task(spec), 3, 3);
      fresh.restore(saved);
      expect(Array.from(fresh.observe())).toEqual(obs);
      expect(record(fresh, 60, (t) => actions[t])).toEqual(expected);
      expect(() => createVecEnv(task(spec), 3, 2).restore(saved)).toThrow(/saved/);
      expect(() => createVecEnv(task(spec), 4, 3).restore(saved)).toThrow(/another seed/);
    });
  }

  it('assign puts an instance into one slot, starts its episode and returns its observation', () => {
    const env = createVecEnv(task({ name: 'CartPole-v1', physics: 0.5 }), 1, 3);
    const obs = env.reset();
    const before = [env.params(0), env.params(2)];
    const returned = env.assign(1, 'unseen', 4);
    expect(Array.from(returned)).toEqual(Array.from(obs.subarray(4, 8)));
    expect(env.observe()).toBe(obs);
    expect([env.params(0), env.params(2)]).toEqual(before);
    const other = createVecEnv(task({ name: 'CartPole-v1', physics: 0.5 }), 1, 1, { split: 'unseen', ids: [4] });
    expect(env.params(1)).toEqual(other.params(0));
    expect(() => env.assign(3, 'unseen', 0)).toThrow(/slot/);
  });

  it('an Rng continues exactly from its saved state, a cached normal included', () => {
    const rng = new Rng(12);
    rng.normal();
    const copy = Rng.fromState(JSON.parse(JSON.stringify(rng.state())));
    expect([rng.normal(), rng.next(), rng.int(1000)]).toEqual([copy.normal(), copy.next(), copy.int(1000)]);
    expect(() => Rng.fromState([1, 2])).toThrow();
  });
});
