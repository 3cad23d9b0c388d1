// RL runs are reproducible from their seed and resume exactly from a checkpoint: the same metrics, curves and
// recorded rollouts as an uninterrupted run, for every kind of learner and rollout.
import { describe, expect, it } from 'vitest';
import { CIRCUMSTANTIAL_KEYS, type MetricRow } from '../../shared/metrics';
import { runSpec, type ExperimentSpecInput } from '../../shared/spec';
import { runRl } from '../../main/engine/rl/run';
import type { RlSpec } from '../../main/engine/rl/types';
import type { TrainState } from '../../main/engine/train';
import { collectingSink } from '../helpers/collect';

/** Wall-clock metrics differ between runs; everything else must not. */
const reproducible = (rows: MetricRow[], after = 0) =>
  rows.filter(([k, s]) => !CIRCUMSTANTIAL_KEYS.has(k) && s > after);

async function run(input: ExperimentSpecInput, resume?: TrainState) {
  const { out, sink } = collectingSink();
  const spec = runSpec.parse(input) as RlSpec;
  expect(await runRl(spec, sink, { resume })).toEqual({ status: 'finished' });
  return out;
}

const common = {
  seed: 3,
  backend: 'wasm',
  training: { steps: 4, batchSize: 4, checkpointEvery: 2, learningRate: 0.003 },
  evaluation: { every: 2, sequences: 3 },
} as const;

const cases: [string, ExperimentSpecInput][] = [
  [
    'PPO, feed-forward, segments across episodes (CartPole)',
    {
      ...common,
      task: { family: 'rl', env: { name: 'CartPole-v1' }, algorithm: { kind: 'ppo', rolloutSteps: 24, epochs: 2 } },
      model: { kind: 'mlp', hidden: [8] },
    },
  ],
  [
    'A2C, Gaussian actions, truncated episodes (Pendulum, time limit 10)',
    {
      ...common,
      task: {
        family: 'rl',
        env: { name: 'Pendulum-v1', physics: 0.2, maxSteps: 10 },
        numTasks: 3,
        episodesPerTrial: 2,
        algorithm: { kind: 'a2c', rolloutSteps: 8 },
      },
      model: { kind: 'mlp', hidden: [8] },
    },
  ],
  [
    'REINFORCE, whole episodes (CartPole)',
    {
      ...common,
      task: { family: 'rl', env: { name: 'CartPole-v1', maxSteps: 30 }, algorithm: { kind: 'reinforce' } },
      model: { kind: 'mlp', hidden: [8] },
    },
  ],
  [
    'RL²: PPO over trials of a recurrent policy (bandits)',
    {
      ...common,
      task: {
        family: 'rl',
        env: { name: 'bernoulli-bandit', arms: 3 },
        numTasks: 'fresh',
        episodesPerTrial: 6,
        algorithm: { kind: 'ppo', epochs: 2, minibatches: 2, discount: 1 },
      },
      model: { kind: 'lstm', hidden: 8 },
    },
  ],
  [
    'ES over a recurrent policy (bandits)',
    {
      ...common,
      task: {
        family: 'rl',
        env: { name: 'bernoulli-bandit', arms: 3 },
        numTasks: 5,
        episodesPerTrial: 6,
        algorithm: { kind: 'es', population: 6, sigma: 0.1 },
      },
      model: { kind: 'lstm', hidden: 8 },
    },
  ],
  [
    'SymLA by ES, tested on more arms',
    {
      ...common,
      task: {
        family: 'rl',
        env: { name: 'bernoulli-bandit', arms: 2 },
        testEnvs: [{ name: 'bernoulli-bandit', arms: 4 }],
        numTasks: 5,
        episodesPerTrial: 6,
        algorithm: { kind: 'es', population: 6, sigma: 0.1 },
      },
      model: { kind: 'symla', stateSize: 4, messageSize: 2, hidden: [2] },
    },
  ],
  ...(['fme', 'hill-climber', 'random-search'] as const).map((kind): [string, ExperimentSpecInput] => [
    `${kind} over an LSTM policy, on a swapping bandit`,
    {
      ...common,
      task: {
        family: 'rl',
        env: { name: 'swapping-bandit', arms: 2, swapAt: 3 },
        numTasks: 5,
        episodesPerTrial: 6,
        algorithm: { kind, evaluations: 3 },
      },
      model: { kind: 'lstm', hidden: 4 },
    },
  ]),
];

describe('RL runs', () => {
  it.each(cases)('%s: same seed, same run; resumed from a checkpoint, the same run', async (_, spec) => {
    const a = await run(spec);
    const b = await run(spec);
    expect(reproducible(b.rows)).toEqual(reproducible(a.rows));
    expect(b.curves).toEqual(a.curves);
    expect(b.rollouts).toEqual(a.rollouts);
    // Every metric the learner reports, every step; and evaluations with their figures and phase.
    const keys = new Set(a.rows.map(([k]) => k));
    // Black-box search makes no gradient step: its steps report evaluations and the archive's fitness instead.
    const task = spec.task as { algorithm?: { kind: string } };
    const search = ['fme', 'hill-climber', 'random-search'].includes(task.algorithm?.kind ?? '');
    for (const k of ['loss', 'lr', 'env_steps', 'eval/unseen/mean_return', 'phase']) expect(keys).toContain(k);
    for (const k of search ? ['evaluations', 'fitness_best', 'fitness_mean'] : ['grad_norm']) expect(keys).toContain(k);
    expect(a.rollouts.map((r) => [r.step, r.split])).toContainEqual([4, 'unseen']);
    expect(a.summary!.figures['eval/unseen/random_last_return']).toEqual(expect.any(Number));

    // Resume from step 2's checkpoint, as the worker does: through JSON (extra) and typed arrays (tensors).
    const checkpoint = a.checkpoints.find((c) => c.step === 2)!;
    const stored = { ...checkpoint, extra: JSON.parse(JSON.stringify(checkpoint.extra)) };
    const resumed = await run(spec, stored);
    expect(reproducible(resumed.rows, 2)).toEqual(reproducible(a.rows, 2));
    expect(resumed.curves.filter((c) => c.step > 2)).toEqual(a.curves.filter((c) => c.step > 2));
    expect(resumed.summary).toEqual(a.summary);
  });

  it('checkpoints when cancelled, and continues from there as if never stopped', async () => {
    const spec = cases[0][1];
    const full = await run(spec);
    const controller = new AbortController();
    const { out, sink } = collectingSink((step) => step === 3 && controller.abort());
    expect(await runRl(runSpec.parse(spec) as RlSpec, sink, { signal: controller.signal })).toEqual({
      status: 'cancelled',
    });
    expect(out.checkpoints.map((c) => c.step)).toEqual([2, 3]);
    const resumed = await run(spec, out.checkpoints[1]);
    expect(reproducible(resumed.rows, 3)).toEqual(reproducible(full.rows, 3));
  });
});
