// Evaluation of an RL policy: the within-lifetime curve per split, the baselines once, the figures, and one
// recorded lifetime per split for the rollout viewer.
import { beforeAll, describe, expect, it } from 'vitest';
import { runSpec, type ExperimentSpecInput } from '../../shared/spec';
import { CIRCUMSTANTIAL_KEYS } from '../../shared/metrics';
import { initBackend } from '../../main/engine/backends';
import { evaluateRl, rlEvalSets } from '../../main/engine/rl/evaluate';
import type { RlSpec } from '../../main/engine/rl/types';
import { runRl, setUpRl } from '../../main/engine/rl/run';
import { collectingSink } from '../helpers/collect';

beforeAll(async () => {
  await initBackend('wasm');
});

async function untrained(input: ExperimentSpecInput) {
  const spec = runSpec.parse({ seed: 2, backend: 'wasm', ...input }) as RlSpec;
  const { algorithm } = await setUpRl(spec);
  return { spec, algorithm };
}

/** RL² on Pendulum and point-mass, tested on CartPoleContinuous: short episodes, small batches. */
const rl2Input: ExperimentSpecInput = {
  task: {
    family: 'rl',
    env: { name: 'Pendulum-v1', physics: 0.2, maxSteps: 10 },
    moreEnvs: [{ name: 'point-mass', maxSteps: 8 }],
    testEnvs: [{ name: 'CartPoleContinuous', maxSteps: 12 }],
    numTasks: 'fresh',
    episodesPerTrial: 2,
    algorithm: { kind: 'ppo', epochs: 2, minibatches: 2 },
  },
  model: { kind: 'lstm', hidden: 8 },
  training: { steps: 4, batchSize: 4, checkpointEvery: 2, learningRate: 0.003 },
  evaluation: { every: 2, sequences: 3 },
};

describe('RL evaluation', () => {
  it('records the first trial of each split: states, actions, rewards, episodes and action probabilities', async () => {
    const { spec, algorithm } = await untrained({
      task: { family: 'rl', env: { name: 'CartPole-v1' }, numTasks: 4, episodesPerTrial: 3 },
      model: { kind: 'mlp', hidden: [8] },
      evaluation: { sequences: 5 },
    });
    const sets = rlEvalSets(spec);
    expect(sets.map((s) => s.split)).toEqual(['seen', 'unseen']);
    const { curves, figures, rollouts, phase } = evaluateRl(algorithm.policy(), spec, spec.seed, sets, 7);
    expect(rollouts.map((r) => r.split)).toEqual(['seen', 'unseen']);
    for (const r of rollouts) {
      expect(r).toMatchObject({ step: 7, env: 'CartPole-v1', stateSize: 4, actionCount: 2 });
      expect(r.params).toMatchObject({ masspole: 0.1, length: 0.5 });
      expect(r.states).toHaveLength(r.frames * 4);
      expect(r.actions).toHaveLength(r.frames);
      expect(r.rewards).toEqual(new Array(r.frames).fill(1));
      expect(r.probs).toHaveLength(r.frames * 2);
      for (let t = 0; t < r.frames; t++) expect(r.probs[2 * t] + r.probs[2 * t + 1]).toBeCloseTo(1, 5);
      // Three episodes in order, each starting from a state within Gymnasium's initial range.
      expect([...new Set(r.episodes)]).toEqual([0, 1, 2]);
      for (let t = 0; t < r.frames; t++)
        if (t === 0 || r.episodes[t] !== r.episodes[t - 1])
          for (const v of r.states.slice(t * 4, t * 4 + 4)) expect(Math.abs(v)).toBeLessThanOrEqual(0.05);
    }
    const curve = curves.find((c) => c.split === 'seen' && c.metric === 'return')!;
    expect(curve.step).toBe(7);
    expect(curve.values).toHaveLength(3);
    expect(figures['eval/seen/last_return']).toBe(curve.values[2]);
    expect(figures['eval/seen/mean_return']).toBeCloseTo((curve.values as number[]).reduce((a, b) => a + b) / 3, 10);
    expect(curves.filter((c) => c.metric === 'random_return').map((c) => c.step)).toEqual([0, 0]);
    expect(phase).toEqual(expect.any(String));

    // The same instances, initial states and action draws at every evaluation of the same step.
    const again = evaluateRl(algorithm.policy(), spec, spec.seed, sets, 7);
    expect(again.curves).toEqual(curves.filter((c) => c.metric === 'return'));
    expect(again.rollouts).toEqual(rollouts);
    algorithm.dispose();
  });

  it('sets bandit baselines beside the policy on the same arms, once', async () => {
    const K = 30;
    const { spec, algorithm } = await untrained({
      task: { family: 'rl', env: { name: 'bernoulli-bandit', arms: 4 }, numTasks: 'fresh', episodesPerTrial: K },
      model: { kind: 'lstm', hidden: 8 },
      evaluation: { sequences: 400 },
    });
    const sets = rlEvalSets(spec);
    expect(sets.map((s) => s.split)).toEqual(['unseen']);
    const { curves, figures, rollouts } = evaluateRl(algorithm.policy(), spec, spec.seed, sets, 1);
    const byMetric = new Map(curves.map((c) => [c.metric, c]));
    for (const b of ['random', 'thompson', 'ucb1', 'greedy', 'eps_greedy', 'gittins']) {
      expect(byMetric.get(`${b}_return`)).toMatchObject({ step: 0, split: 'unseen' });
      expect(byMetric.get(`${b}_return`)!.values).toHaveLength(K);
      expect(figures[`eval/unseen/${b}_last_return`]).toEqual(expect.any(Number));
    }
    // Thompson sampling learns the arms within the lifetime; random choice does not.
    const late = (b: string) =>
      (byMetric.get(`${b}_return`)!.values as number[]).slice(-10).reduce((a, v) => a + v) / 10;
    expect(late('thompson')).toBeGreaterThan(late('random') + 0.1);
    expect(rollouts[0]).toMatchObject({ env: 'bernoulli-bandit', frames: K, stateSize: 4, actionCount: 4 });
    expect(rollouts[0].episodes).toEqual(Array.from({ length: K }, (_, k) => k));

    const later = evaluateRl(algorithm.policy(), spec, spec.seed, sets, 2);
    expect(later.curves.map((c) => [c.metric, c.step])).toEqual([['return', 2]]);
    expect(later.figures['eval/unseen/thompson_last_return']).toBe(figures['eval/unseen/thompson_last_return']);
    algorithm.dispose();
  });

  it('RL² across environments: a split per test environment, recorded on its environment', async () => {
    const { spec, algorithm } = await untrained({ ...rl2Input, task: { ...rl2Input.task, numTasks: 4 } });
    const sets = rlEvalSets(spec);
    expect(sets.map((s) => s.split)).toEqual(['seen', 'unseen', 'shifted', 'test:CartPoleContinuous']);
    const { curves, figures, rollouts } = evaluateRl(algorithm.policy(), spec, spec.seed, sets, 3);
    for (const split of ['unseen', 'test:CartPoleContinuous']) {
      expect(curves.find((c) => c.split === split && c.metric === 'return')!.values).toHaveLength(2);
      expect(curves.find((c) => c.split === split && c.metric === 'random_return')!.step).toBe(0);
      for (const f of ['last_return', 'mean_return', 'improvement', 'random_last_return'])
        expect(figures[`eval/${split}/${f}`]).toEqual(expect.any(Number));
    }
    const bySplit = new Map(rollouts.map((r) => [r.split, r]));
    // The first slot of seen, unseen and shifted is on Pendulum (instance 0), of the test split on CartPoleContinuous;
    // each recorded with its own render state and the actions its environment took: one force or torque a frame.
    expect(bySplit.get('seen')).toMatchObject({ env: 'Pendulum-v1', stateSize: 2, actionCount: 0 });
    const cart = bySplit.get('test:CartPoleContinuous')!;
    expect(cart).toMatchObject({ env: 'CartPoleContinuous', stateSize: 4, actionCount: 0 });
    expect(cart.params).toMatchObject({ masspole: 0.1, length: 0.5 });
    for (const r of rollouts) {
      expect(r.states).toHaveLength(r.frames * r.stateSize);
      expect(r.actions).toHaveLength(r.frames);
      const bound = r.env === 'Pendulum-v1' ? 2 : 1;
      expect(r.actions.every((a) => Math.abs(a) <= bound)).toBe(true);
    }
    expect(evaluateRl(algorithm.policy(), spec, spec.seed, sets, 3).rollouts).toEqual(rollouts);
    algorithm.dispose();
  });
});

describe('RL² across environments, end to end', () => {
  it('trains PPO on two environments, evaluates the test one, and resumes exactly', async () => {
    const spec = runSpec.parse({ seed: 5, backend: 'wasm', ...rl2Input }) as RlSpec;
    const whole = collectingSink();
    expect(await runRl(spec, whole.sink)).toEqual({ status: 'finished' });
    const { out } = whole;
    expect(out.series('train_return')).toHaveLength(4);
    // Fresh instances 0..3 alternate: two Pendulum trials of 2 x 10 steps, two point-mass trials of 2 x 8.
    expect(out.series('env_steps')[0][1]).toBe(2 * 20 + 2 * 16);
    for (const f of ['last_return', 'mean_return', 'improvement', 'random_last_return'])
      expect(out.series(`eval/test:CartPoleContinuous/${f}`).map(([s]) => s)).toEqual([2, 4]);
    const test = out.rollouts.filter((r) => r.split === 'test:CartPoleContinuous');
    expect(test.map((r) => [r.step, r.env])).toEqual([
      [2, 'CartPoleContinuous'],
      [4, 'CartPoleContinuous'],
    ]);

    const resumed = collectingSink();
    const checkpoint = out.checkpoints.find((c) => c.step === 2)!;
    expect(await runRl(spec, resumed.sink, { resume: checkpoint })).toEqual({ status: 'finished' });
    const later = (rows: typeof out.rows) => rows.filter(([k, s]) => !CIRCUMSTANTIAL_KEYS.has(k) && s > 2);
    expect(later(resumed.out.rows)).toEqual(later(out.rows));
    expect(resumed.out.rollouts).toEqual(out.rollouts.filter((r) => r.step > 2));
  });

  it('evolves the same recurrent policy with ES: each member replays the saved batch', async () => {
    const task = { ...rl2Input.task, algorithm: { kind: 'es', population: 4 } };
    const training = { ...rl2Input.training, steps: 2 };
    const spec = runSpec.parse({ seed: 5, backend: 'wasm', ...rl2Input, task, training }) as RlSpec;
    const run = async () => {
      const { out, sink } = collectingSink();
      expect(await runRl(spec, sink)).toEqual({ status: 'finished' });
      return out;
    };
    const out = await run();
    // Four members, each on the same two Pendulum and two point-mass trials.
    expect(out.series('env_steps')[0][1]).toBe(4 * (2 * 20 + 2 * 16));
    expect(out.series('eval/test:CartPoleContinuous/last_return').map(([s]) => s)).toEqual([2]);
    expect((await run()).series('train_return')).toEqual(out.series('train_return'));
  });
});
