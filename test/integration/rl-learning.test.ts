// Short real RL runs that must learn: PPO on CartPole-v1 far above a random policy, and RL² (PPO over trials of
// an LSTM) on two-armed Bernoulli bandits earning more than random arm choice and more late in its lifetime than
// early. Sized to finish in well under a minute each on one core.
import { describe, expect, it } from 'vitest';
import { runSpec, type ExperimentSpecInput } from '../../shared/spec';
import { runRl } from '../../main/engine/rl/run';
import type { RlSpec } from '../../main/engine/rl/types';
import { collectingSink } from '../helpers/collect';

const mean = (xs: readonly (number | null)[]) => xs.reduce<number>((a, b) => a + b!, 0) / xs.length;

async function train(input: ExperimentSpecInput) {
  const { out, sink } = collectingSink();
  expect(await runRl(runSpec.parse(input) as RlSpec, sink)).toEqual({ status: 'finished' });
  const curve = (metric: string) => out.curves.find((c) => c.split === 'unseen' && c.metric === metric)!.values;
  return { figures: out.summary!.figures, curve };
}

describe('RL runs learn', () => {
  it('PPO on CartPole-v1: after 15k environment steps, far above the random policy', async () => {
    const { figures } = await train({
      seed: 1,
      backend: 'wasm',
      // RL Zoo's tuned PPO for CartPole-v1, cut to 60 of its 390 updates.
      task: {
        family: 'rl',
        env: { name: 'CartPole-v1' },
        algorithm: { kind: 'ppo', rolloutSteps: 32, epochs: 20, minibatches: 1, discount: 0.98, gaeLambda: 0.8 },
      },
      model: { kind: 'mlp', hidden: [64, 64] },
      training: { steps: 60, batchSize: 8, learningRate: 0.001, gradClip: 0.5, checkpointEvery: 60 },
      evaluation: { every: 60, sequences: 32 },
    });
    const random = figures['eval/unseen/random_last_return']!;
    expect(random).toBeLessThan(30); // a random policy balances the pole ~22 steps
    expect(figures['eval/unseen/mean_return']).toBeGreaterThan(Math.max(100, 4 * random));
  });

  it('RL² on two-armed bandits: beats random arm choice and improves within its lifetime', async () => {
    const run = train({
      seed: 1,
      backend: 'wasm',
      task: {
        family: 'rl',
        env: { name: 'bernoulli-bandit', arms: 2 },
        numTasks: 'fresh',
        episodesPerTrial: 20,
        algorithm: { kind: 'ppo', epochs: 4, minibatches: 2, discount: 1, gaeLambda: 0.95, entropy: 0.01 },
      },
      model: { kind: 'lstm', hidden: 32 },
      training: { steps: 150, batchSize: 32, learningRate: 0.001, gradClip: 1, checkpointEvery: 150 },
      evaluation: { every: 150, sequences: 512 },
    });
    expectBanditLearner(await run, 0.04);
  });

  it('SymLA by ES on two-armed bandits: beats random arm choice and improves within its lifetime', async () => {
    // 40 generations of 64 on 32 bandits of 100 pulls: ~30 s here (the symla-bandits preset's settings, state 4).
    const run = train({
      seed: 1,
      backend: 'wasm',
      task: {
        family: 'rl',
        env: { name: 'bernoulli-bandit', arms: 2 },
        numTasks: 'fresh',
        episodesPerTrial: 100,
        algorithm: { kind: 'es', population: 64, sigma: 0.05 },
      },
      model: { kind: 'symla', stateSize: 4, messageSize: 2 },
      training: { steps: 40, batchSize: 32, learningRate: 0.02, gradClip: null, checkpointEvery: 40 },
      evaluation: { every: 40, sequences: 512 },
    });
    expectBanditLearner(await run, 0.02);
  }, 180_000);
});

/**
 * On unseen two-armed bandits: random arm choice earns ~0.5 a pull (the arms' mean probability), the same early
 * and late; the learner more, and more late in its lifetime than early, by `improvement` over random's.
 */
function expectBanditLearner({ figures, curve }: Awaited<ReturnType<typeof train>>, improvement: number): void {
  const f = (name: string) => figures[`eval/unseen/${name}`]!;
  const random = mean(curve('random_return'));
  expect(random).toBeCloseTo(0.5, 1);
  expect(f('mean_return')).toBeGreaterThan(random + 0.04);
  expect(f('improvement')).toBeGreaterThan(f('random_improvement') + improvement);
  expect(f('last_return')).toBeGreaterThan(random + 0.08);
}
