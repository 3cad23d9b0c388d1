// TD3 (main/engine/rl/td3.ts) and its replay buffer: what it refuses, the random phase then one update per step,
// time-limit truncations stored as not done (bootstrapped), exploration noise in the documented units, and an
// exact resume from a checkpoint (replay buffer, environment and optimiser states included).
// That it learns (Pendulum-v1 to >= -200) is measured in docs/performance.md, too long for a unit test.
import { beforeAll, describe, expect, it } from 'vitest';
import { runSpec } from '../../shared/spec';
import { initBackend } from '../../main/engine/backends';
import { Rng } from '../../main/engine/rng';
import { ReplayBuffer } from '../../main/engine/rl/replay';
import { td3 } from '../../main/engine/rl/td3';
import type { StepReport } from '../../main/engine/rl/types';

type Td3RlSpec = Parameters<typeof td3.create>[0];

function spec(over: { env?: object; algorithm?: object; model?: object; seed?: number } = {}): Td3RlSpec {
  return runSpec.parse({
    seed: over.seed ?? 3,
    backend: 'wasm',
    task: {
      family: 'rl',
      env: { name: 'Pendulum-v1', maxSteps: 20, ...over.env },
      algorithm: { kind: 'td3', randomSteps: 30, bufferSize: 1000, ...over.algorithm },
    },
    model: over.model ?? { kind: 'mlp', hidden: [16, 16] },
    training: { batchSize: 16, learningRate: 1e-3, gradClip: null },
  }) as Td3RlSpec;
}

/** The replay buffer's columns from a checkpoint, by column name. */
async function replayOf(algorithm: Awaited<ReturnType<typeof td3.create>>) {
  const { tensors } = await algorithm.save();
  return Object.fromEntries(tensors.filter((t) => t.name.startsWith('replay.')).map((t) => [t.name.slice(7), t]));
}

describe('TD3', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('refuses a model other than mlp and an environment without continuous actions, saying why', async () => {
    await expect(td3.create(spec({ model: { kind: 'lstm', hidden: 8 } }), 0)).rejects.toThrow(/mlp actor.*not lstm/);
    await expect(td3.create(spec({ env: { name: 'CartPole-v1' } }), 0)).rejects.toThrow(
      /continuous actions; CartPole-v1 has 2 discrete/,
    );
  });

  it('acts at random for randomSteps, then updates the critics every step, the actor every policyDelay', async () => {
    const algorithm = await td3.create(spec(), 3);
    const reports: StepReport[] = [];
    for (let s = 0; s < 36; s++) reports.push(await algorithm.step(s));
    for (const r of reports.slice(0, 30)) {
      expect(r.gradNorm).toBeNaN();
      expect(r.metrics.value_loss).toBeUndefined();
    }
    expect(reports.map((r) => r.metrics.env_steps)).toEqual(Array.from({ length: 36 }, (_, i) => i + 1));
    // Episodes of 20 steps: a training return at steps 20 (and 40), the sum of Pendulum's negative rewards.
    expect(reports.flatMap((r, i) => (r.metrics.train_return === undefined ? [] : [i + 1]))).toEqual([20]);
    expect(reports[19].metrics.train_return).toBeLessThan(0);
    const updating = reports.slice(30);
    for (const r of updating) {
      expect(Number.isFinite(r.gradNorm) && r.gradNorm > 0).toBe(true);
      expect(r.loss).toBe(r.metrics.value_loss);
    }
    // The actor's first update is the second update (policyDelay 2); its loss is -Q, reported from then on.
    expect(updating[0].metrics.policy_loss).toBeUndefined();
    expect(Number.isFinite(updating[1].metrics.policy_loss)).toBe(true);
    expect(algorithm.paramCount).toBe(3 * 16 + 16 + 16 * 16 + 16 + 16 + 1 + 2 * (4 * 16 + 16 + 16 * 16 + 16 + 16 + 1));
    algorithm.dispose();
  });

  it('stores a time-limit truncation as not done, with the last observation of the episode as its next', async () => {
    const algorithm = await td3.create(spec({ env: { maxSteps: 5 } }), 3);
    for (let s = 0; s < 12; s++) await algorithm.step(s);
    const { obs, nextObs, dones, rewards } = await replayOf(algorithm);
    expect(rewards.shape).toEqual([12, 1]);
    expect(Array.from(dones.values)).toEqual(new Array(12).fill(0));
    const row = (t: typeof obs, i: number) => Array.from(t.values.slice(i * 3, i * 3 + 3));
    for (let i = 0; i < 11; i++) {
      // Within an episode the next observation is the following row's; across a reset (after steps 5 and 10) it
      // is the final observation, not the new episode's first.
      if (i === 4 || i === 9) expect(row(nextObs, i)).not.toEqual(row(obs, i + 1));
      else expect(row(nextObs, i)).toEqual(row(obs, i + 1));
    }
    algorithm.dispose();
  });

  it('explores with N(0, explorationNoise) in [-1, 1] units: x (high - low) / 2 in the env units', async () => {
    const algorithm = await td3.create(spec({ algorithm: { explorationNoise: 0.1 } }), 3);
    const n = 4000;
    const input = {
      obs: new Float32Array(n * 3).fill(0.5),
      prevActions: new Float32Array(n),
      prevRewards: new Float32Array(n),
      dones: new Uint8Array(n),
    };
    const policy = algorithm.policy();
    const greedy = policy.act(input, new Rng(1), 'greedy');
    const sampled = policy.act(input, new Rng(1), 'sample');
    expect(greedy.probs).toBeNull();
    expect(new Set(greedy.actions).size).toBe(1);
    expect(Math.abs(greedy.actions[0])).toBeLessThan(1.5); // far enough from the bounds that clipping is rare
    const d = Array.from(sampled.actions, (a) => a - greedy.actions[0]);
    const std = Math.sqrt(d.reduce((s, x) => s + x * x, 0) / n);
    expect(std).toBeGreaterThan(0.19); // 0.1 x (2 - (-2)) / 2 = 0.2 torque units
    expect(std).toBeLessThan(0.21);
    expect(Math.max(...sampled.actions)).toBeLessThanOrEqual(2);
    algorithm.dispose();
  });

  it('resumes exactly from a checkpoint: the same reports and weights as the run that went on', async () => {
    const s = spec({ algorithm: { policyDelay: 3, randomSteps: 20 } });
    const through = await td3.create(s, 3);
    const expected: StepReport[] = [];
    for (let k = 0; k < 60; k++) expected.push(await through.step(k));

    const first = await td3.create(s, 3);
    for (let k = 0; k < 35; k++) await first.step(k);
    const saved = await first.save();
    first.dispose();
    // Through JSON, as a checkpoint file stores `extra`; run on from an algorithm made afresh.
    const resumed = await td3.create(s, 3);
    resumed.restore({ tensors: saved.tensors, extra: JSON.parse(JSON.stringify(saved.extra)) });
    const after: StepReport[] = [];
    for (let k = 35; k < 60; k++) after.push(await resumed.step(k));
    expect(after).toEqual(expected.slice(35));
    const weights = async (a: typeof through) => (await a.save()).tensors.map((t) => [t.name, Array.from(t.values)]);
    expect(await weights(resumed)).toEqual(await weights(through));
    through.dispose();
    resumed.dispose();
  });

  it('draws the same run from the same seed, and another from another seed', async () => {
    const run = async (seed: number) => {
      const a = await td3.create(spec({ seed }), seed);
      const losses: number[] = [];
      for (let k = 0; k < 34; k++) losses.push((await a.step(k)).loss);
      a.dispose();
      return losses;
    };
    const a = await run(5);
    expect(await run(5)).toEqual(a);
    expect(await run(6)).not.toEqual(a);
  });
});

describe('replay buffer', () => {
  const rows = (buffer: ReplayBuffer, n: number) => buffer.sample(n, new Rng(0));

  it('overwrites the oldest transition once full and samples only stored ones', () => {
    const buffer = new ReplayBuffer(4, 2, 1);
    for (let i = 0; i < 6; i++) {
      buffer.add(Float32Array.of(i, -i), Float32Array.of(i / 10), i, Float32Array.of(i + 1, 0), i === 5);
    }
    expect(buffer.size).toBe(4);
    const batch = rows(buffer, 400);
    const seen = new Set(batch.rewards);
    expect([...seen].sort()).toEqual([2, 3, 4, 5]); // 0 and 1 overwritten; all four drawn
    for (let k = 0; k < batch.size; k++) {
      const i = batch.rewards[k];
      expect([batch.obs[2 * k], batch.obs[2 * k + 1], batch.nextObs[2 * k], batch.dones[k]]).toEqual([
        i,
        -i,
        i + 1,
        i === 5 ? 1 : 0,
      ]);
      expect(batch.actions[k]).toBeCloseTo(i / 10, 6);
    }
    expect(() => new ReplayBuffer(4, 2, 1).sample(1, new Rng(0))).toThrow(/empty/);
  });

  it('saves and restores its rows and where the next one goes', () => {
    const buffer = new ReplayBuffer(3, 1, 1);
    for (let i = 0; i < 4; i++) buffer.add(Float32Array.of(i), Float32Array.of(0), i, Float32Array.of(i), false);
    const { tensors, state } = buffer.save('replay.');
    const copy = new ReplayBuffer(3, 1, 1);
    copy.restore('replay.', tensors, state);
    copy.add(Float32Array.of(9), Float32Array.of(0), 9, Float32Array.of(9), false);
    buffer.add(Float32Array.of(9), Float32Array.of(0), 9, Float32Array.of(9), false);
    expect(copy.save('r.').tensors.map((t) => Array.from(t.values))).toEqual(
      buffer.save('r.').tensors.map((t) => Array.from(t.values)),
    );
    expect(() => new ReplayBuffer(2, 1, 1).restore('replay.', tensors, state)).toThrow(/does not fit/);
  });
});
