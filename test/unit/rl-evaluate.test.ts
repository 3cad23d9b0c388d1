// Evaluation of an RL policy: the within-lifetime curve per split, the baselines once, the figures, and one
// recorded lifetime per split for the rollout viewer.
import { beforeAll, describe, expect, it } from 'vitest';
import { runSpec, type ExperimentSpecInput } from '../../shared/spec';
import { initBackend } from '../../main/engine/backends';
import { evaluateRl, rlEvalSets } from '../../main/engine/rl/evaluate';
import { setUpRl } from '../../main/engine/rl/run';
import type { RlSpec } from '../../main/engine/rl/types';

beforeAll(async () => {
  await initBackend('wasm');
});

async function untrained(input: ExperimentSpecInput) {
  const spec = runSpec.parse({ seed: 2, backend: 'wasm', ...input }) as RlSpec;
  const { algorithm } = await setUpRl(spec);
  return { spec, algorithm };
}

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
});
