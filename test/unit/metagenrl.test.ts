// MetaGenRL's population meta-training (`metagenrl`) and its meta-test (`learned-objective`),
// main/engine/rl/metagenrl/: the sub-trajectory replay, the objective's invariances (action permutations, agents of
// other observation and action sizes), the warm-up blend, the meta-gradient on a real batch, the agents' replacement
// schedule, determinism from the seed and exact resume (every agent's networks, Adams, replay and environment; the
// objective and its Adam), and the run's records: per-agent returns, the objective's picture, every agent's rollout,
// the objective artifact. The meta-gradient against PyTorch's, and that meta-training beats a random objective, are
// tested elsewhere.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CIRCUMSTANTIAL_KEYS, type MetricRow } from '../../shared/metrics';
import { agentReturnKey, OBJECTIVE_PICTURE, OBJECTIVE_PICTURE_SPLIT } from '../../shared/objectives/rl';
import { type ExperimentSpecInput, learnedObjectiveSpec, runSpec } from '../../shared/spec';
import { initBackend } from '../../main/engine/backends';
import { createVecEnv } from '../../main/engine/envs';
import { Rng } from '../../main/engine/rng';
import { metaGradient, objectivePolicyLoss } from '../../main/engine/rl/metagenrl/metaGradient';
import { isReplacedAt, metagenrl, warmupBlend } from '../../main/engine/rl/metagenrl/metagenrl';
import { ObjectiveAgent } from '../../main/engine/rl/metagenrl/agent';
import { learnedObjective } from '../../main/engine/rl/metagenrl/metaTest';
import { LearnedObjective, objectiveBatch, type SubTrajectories } from '../../main/engine/rl/metagenrl/objective';
import { TrajectoryReplay, validTransitions } from '../../main/engine/rl/metagenrl/trajectoryReplay';
import { runRl } from '../../main/engine/rl/run';
import { Td3Learner } from '../../main/engine/rl/td3';
import type { Algorithm, RlSpec, StepReport } from '../../main/engine/rl/types';
import type { LearnedObjectiveWeights, ObjectiveProgress, TrainState } from '../../main/engine/train';
import { collectingSink } from '../helpers/collect';

const SMALL_OBJECTIVE = { units: 8, depth: 2, lstm: 8, valueFeatures: 4 };

function input(over: { algorithm?: object; task?: object; seed?: number; training?: object } = {}) {
  return {
    seed: over.seed ?? 3,
    backend: 'wasm',
    task: {
      family: 'rl',
      env: { name: 'Pendulum-v1', maxSteps: 9 },
      moreEnvs: [{ name: 'point-mass', maxSteps: 7 }],
      numTasks: 'fresh',
      algorithm: {
        kind: 'metagenrl',
        population: 2,
        randomSteps: 5,
        bufferSize: 1000,
        trajectoryLength: 4,
        warmupSteps: 8,
        metaDelay: 2,
        objective: SMALL_OBJECTIVE,
        ...over.algorithm,
      },
      ...over.task,
    },
    model: { kind: 'mlp', hidden: [16, 16] },
    training: { steps: 14, batchSize: 4, learningRate: 1e-3, gradClip: 1, checkpointEvery: 6, ...over.training },
    evaluation: { every: 6, sequences: 2 },
  } as ExperimentSpecInput;
}

type MetaGenRlSpec = Parameters<typeof metagenrl.create>[0];
type MetaTestSpec = Parameters<typeof learnedObjective.create>[0];
const parse = <S = MetaGenRlSpec>(i: ExperimentSpecInput) => runSpec.parse(i) as RlSpec as S;
const algo = (spec: MetaGenRlSpec) => spec.task.algorithm;

async function steps(algorithm: Algorithm, from: number, to: number): Promise<StepReport[]> {
  const out: StepReport[] = [];
  for (let k = from; k < to; k++) out.push(await algorithm.step(k));
  return out;
}

const weights = async (a: Algorithm) => (await a.save()).tensors.map((t) => [t.name, Array.from(t.values)]);

/** Steps 0..k, a checkpoint through JSON, a new algorithm restored from it, steps k..n: as the worker resumes. */
async function resumed(make: () => Promise<Algorithm>, k: number, n: number) {
  const first = await make();
  await steps(first, 0, k);
  const saved = await first.save();
  first.dispose();
  const next = await make();
  next.restore({ tensors: saved.tensors, extra: JSON.parse(JSON.stringify(saved.extra)) });
  return { algorithm: next, reports: await steps(next, k, n) };
}

/** A minibatch of random sub-trajectories (the last window padded after an episode end at step 1). */
function randomBatch(rng: Rng, B: number, T: number, obsSize: number, actionSize: number): SubTrajectories {
  const rows = B * T;
  const fill = (n: number) => rng.fillNormal(new Float32Array(n));
  const mask = new Float32Array(rows).fill(1);
  const dones = new Float32Array(rows);
  dones[1 * B + (B - 1)] = 1;
  for (let t = 2; t < T; t++) mask[t * B + (B - 1)] = 0;
  return {
    batch: B,
    length: T,
    obsSize,
    actionSize,
    obs: fill(rows * obsSize),
    actions: fill(rows * actionSize).map(Math.tanh),
    rewards: fill(rows),
    nextObs: fill(rows * obsSize),
    dones,
    mask,
  };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('sub-trajectory replay', () => {
  /** 14 steps into a ring of 10: reward = step index, an episode ending after steps 6 and 10 (10 a truncation). */
  function filled() {
    const replay = new TrajectoryReplay(10, 1, 1);
    for (let i = 0; i < 14; i++) {
      replay.add(
        Float32Array.of(i),
        Float32Array.of(-i / 20),
        i,
        Float32Array.of(i + 0.5),
        i === 6,
        i === 6 || i === 10,
      );
    }
    return replay;
  }

  it('draws windows of consecutive steps, uniformly, never across the write position, masked after an end', () => {
    const replay = filled();
    const B = 400;
    const T = 3;
    const x = replay.sample(B, T, new Rng(1));
    const starts = new Map<number, number>();
    for (let b = 0; b < B; b++) {
      const rewards = Array.from({ length: T }, (_, t) => x.rewards[t * B + b]);
      const mask = Array.from({ length: T }, (_, t) => x.mask[t * B + b]);
      // The stored history is steps 4..13: a window starts at 4..11 and holds consecutive steps.
      expect(rewards[0]).toBeGreaterThanOrEqual(4);
      expect(rewards[0]).toBeLessThanOrEqual(11);
      expect(rewards).toEqual([rewards[0], rewards[0] + 1, rewards[0] + 2]);
      starts.set(rewards[0], (starts.get(rewards[0]) ?? 0) + 1);
      // Valid up to and including the first episode end (steps 6 and 10), padding after it.
      const end = rewards.findIndex((r) => r === 6 || r === 10);
      expect(mask).toEqual(rewards.map((_, t) => (end >= 0 && t > end ? 0 : 1)));
      for (let t = 0; t < T; t++) {
        const row = t * B + b;
        expect([x.obs[row], x.nextObs[row], x.dones[row]]).toEqual([
          rewards[t],
          rewards[t] + 0.5,
          rewards[t] === 6 ? 1 : 0,
        ]);
        expect(x.actions[row]).toBeCloseTo(-rewards[t] / 20, 6);
      }
    }
    expect([...starts.keys()].sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    for (const n of starts.values()) expect(n).toBeGreaterThan(25); // 50 expected each
    // The same generator draws the same windows.
    expect(replay.sample(B, T, new Rng(1))).toEqual(x);
    expect(replay.sample(B, T, new Rng(2))).not.toEqual(x);
  });

  it('pads the one window there is while fewer than T steps are stored, and refuses to sample nothing', () => {
    const replay = new TrajectoryReplay(10, 1, 1);
    expect(() => replay.sample(1, 3, new Rng(0))).toThrow(/empty/);
    replay.add(Float32Array.of(1), Float32Array.of(0), 1, Float32Array.of(2), false, false);
    replay.add(Float32Array.of(2), Float32Array.of(0), 2, Float32Array.of(3), false, false);
    const x = replay.sample(2, 3, new Rng(0));
    expect(Array.from(x.mask)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(x.rewards)).toEqual([1, 1, 2, 2, 0, 0]);
  });

  it('gives the critics the valid steps only, as transitions', () => {
    const x = filled().sample(50, 4, new Rng(3));
    const t = validTransitions(x);
    const valid = Array.from(x.rewards).filter((_, row) => x.mask[row]);
    expect(t.size).toBe(valid.length);
    expect(t.size).toBeLessThan(200);
    expect(Array.from(t.rewards)).toEqual(valid);
    expect(Array.from(t.obs)).toEqual(valid);
    expect(Array.from(t.dones)).toEqual(valid.map((r) => (r === 6 ? 1 : 0)));
  });

  it('saves and restores its rows and where the next one goes', () => {
    const replay = filled();
    const { tensors, state } = replay.save('r.');
    const copy = new TrajectoryReplay(10, 1, 1);
    copy.restore('r.', tensors, state);
    for (const r of [replay, copy]) r.add(Float32Array.of(99), Float32Array.of(0), 99, Float32Array.of(0), false, true);
    expect(copy.save('r.')).toEqual(replay.save('r.'));
    expect(copy.sample(20, 5, new Rng(4))).toEqual(replay.sample(20, 5, new Rng(4)));
    expect(() => new TrajectoryReplay(5, 1, 1).restore('r.', tensors, state)).toThrow(/does not fit/);
  });
});

describe('the learned objective', () => {
  it('is unchanged by permuting the action dimensions (buffer and policy actions alike)', () => {
    const objective = new LearnedObjective(learnedObjectiveSpec.parse(SMALL_OBJECTIVE), new Rng(5));
    const rng = new Rng(6);
    const [B, T, A] = [3, 5, 3];
    const x = randomBatch(rng, B, T, 2, A);
    const policy = rng.fillNormal(new Float32Array(B * T * A)).map(Math.tanh);
    const values = rng.fillNormal(new Float32Array(B * T));
    const nextValues = rng.fillNormal(new Float32Array(B * T));
    const perm = [2, 0, 1];
    const permute = (a: Float32Array) => a.map((_, k) => a[Math.floor(k / A) * A + perm[k % A]]);
    const output = (actions: Float32Array, pol: Float32Array) =>
      Array.from(
        objective.perStep(objectiveBatch({ ...x, actions }, values, nextValues, objective.architecture.inputs), pol),
      );
    const plain = output(x.actions, policy);
    const permuted = output(permute(x.actions), permute(policy));
    for (const [i, v] of permuted.entries()) expect(v).toBeCloseTo(plain[i], 5);
    // ... and it does read the actions: changing the policy's changes it.
    const flipped = Float32Array.from(policy, (a) => -a);
    expect(output(x.actions, flipped)).not.toEqual(plain);
    objective.dispose();
  });

  it('blend 0 gives exactly TD3 actor gradient; the warm-up blends from 0 to 1 over warmupSteps', async () => {
    const learner = new Td3Learner({ obsSize: 3, actionSize: 2, hidden: [8, 8] }, 0.99, 0.995, new Rng(1), 1e-8);
    const objective = new LearnedObjective(learnedObjectiveSpec.parse(SMALL_OBJECTIVE), new Rng(2));
    const x = randomBatch(new Rng(3), 4, 5, 3, 2);
    const nets = { actor: learner.actor, critic: learner.critics[0] };
    const blended = objectivePolicyLoss(nets, objective, x, 0);
    const b = learner.tensors(validTransitions(x), new Float32Array(validTransitions(x).size * 2));
    const td3 = learner.actorLoss(b);
    expect(blended.loss.dataSync()[0]).toBeCloseTo(td3.loss.dataSync()[0], 6);
    for (const [i, g] of blended.grads.entries()) {
      const want = td3.grads[i].dataSync();
      for (const [k, v] of g.dataSync().entries()) expect(v).toBeCloseTo(want[k], 6);
    }
    // With the objective in (blend 1), another gradient.
    const learned = objectivePolicyLoss(nets, objective, x, 1);
    expect(Array.from(learned.grads[0].dataSync())).not.toEqual(Array.from(blended.grads[0].dataSync()));
    tf.dispose([blended.loss, ...blended.grads, td3.loss, ...td3.grads, learned.loss, ...learned.grads]);
    tf.dispose(Object.values(b));
    learner.dispose();
    objective.dispose();
    expect([0, 5, 10, 20].map((s) => warmupBlend(s, 10))).toEqual([0, 0.5, 1, 1]);
    expect(warmupBlend(0, 0)).toBe(1);
  });

  it("the action penalty adds penalty x mean(pre-tanh action^2) to the actor's loss, and its gradient", () => {
    const learner = new Td3Learner({ obsSize: 3, actionSize: 2, hidden: [8, 8] }, 0.99, 0.995, new Rng(4), 1e-8);
    const objective = new LearnedObjective(learnedObjectiveSpec.parse(SMALL_OBJECTIVE), new Rng(5));
    const x = randomBatch(new Rng(6), 4, 5, 3, 2);
    const nets = { actor: learner.actor, critic: learner.critics[0] };
    const plain = objectivePolicyLoss(nets, objective, x, 1);
    const penalised = objectivePolicyLoss(nets, objective, x, 1, 0.5);
    const actions = learner.act(x.obs, 20);
    const meanSquare = actions.reduce((s, a) => s + Math.atanh(a) ** 2, 0) / actions.length;
    expect(penalised.loss.dataSync()[0] - plain.loss.dataSync()[0]).toBeCloseTo(0.5 * meanSquare, 4);
    expect(Array.from(penalised.grads[4].dataSync())).not.toEqual(Array.from(plain.grads[4].dataSync()));
    tf.dispose([plain.loss, ...plain.grads, penalised.loss, ...penalised.grads]);
    learner.dispose();
    objective.dispose();
  });
});

describe('metagenrl', () => {
  it('replaces agents every lifetime, staggered: agent i first at round((i + 1) / population * lifetime)', async () => {
    const at = (agent: number, population: number, lifetime: number) =>
      Array.from({ length: 40_000 }, (_, s) => s).filter((s) => isReplacedAt(agent, population, lifetime, s));
    expect(at(0, 4, 8000)).toEqual([2000, 10_000, 18_000, 26_000, 34_000]);
    expect(at(2, 4, 8000)).toEqual([6000, 14_000, 22_000, 30_000, 38_000]);
    expect(at(3, 4, 8000)).toEqual([8000, 16_000, 24_000, 32_000]);
    expect(at(1, 3, 100).slice(0, 2)).toEqual([67, 167]);
    expect(at(0, 4, 0)).toEqual([]);
    // In a run of 2 agents with lifetime 6: agent 0 is new at steps 3 and 9, agent 1 at step 6.
    const algorithm = await metagenrl.create(parse(input({ algorithm: { agentLifetime: 6 } })), 3);
    const ages: number[][] = [];
    for (let k = 0; k < 10; k++) {
      await algorithm.step(k);
      const { extra } = await algorithm.save();
      ages.push((extra as { agents: { steps: number }[] }).agents.map((a) => a.steps));
    }
    expect(ages.map((a) => a[0])).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 1]);
    expect(ages.map((a) => a[1])).toEqual([1, 2, 3, 4, 5, 6, 1, 2, 3, 4]);
    const { extra } = await algorithm.save();
    expect((extra as { generations: number[] }).generations).toEqual([2, 1]);
    algorithm.dispose();
  });

  it('one objective learns from agents of other observation and action sizes (non-zero meta-gradients)', async () => {
    // Agent 0 on Pendulum (3 observations, 1 action), agent 1 on point-mass (6, 2).
    const spec = parse(input({ algorithm: { metaDelay: 1 } }));
    const algorithm = await metagenrl.create(spec, 3);
    const before = (await algorithm.artifact!(false)).tensors;
    const reports = await steps(algorithm, 0, 8);
    const after = await algorithm.artifact!(false);
    // Random steps 1..5, then each step: critics, actors every 2nd update, a meta-step of both agents.
    for (const r of reports.slice(0, 5)) expect([r.loss, r.metrics.meta_loss]).toEqual([0, undefined]);
    for (const r of reports.slice(5)) {
      expect(r.gradNorm).toBeGreaterThan(0);
      expect(r.metrics.meta_grad_norm).toBeGreaterThan(0);
      expect(Number.isFinite(r.metrics.meta_grad_norm)).toBe(true);
      expect(Math.abs(r.metrics.alignment!)).toBeLessThanOrEqual(1);
    }
    expect(reports.map((r) => r.metrics.policy_loss !== undefined)).toEqual([...new Array(6).fill(false), true, false]);
    expect(reports[6].metrics.action_saturation).toBeGreaterThanOrEqual(0);
    expect(after.progress).toEqual({ metaSteps: 3, agentSteps: 16, finished: false });
    const moved = after.tensors.filter((t, i) => t.values.some((v, k) => v !== before[i].values[k]));
    expect(moved.length).toBeGreaterThan(after.tensors.length / 2);
    algorithm.dispose();
    // One objective's meta-gradient from each kind of agent, on a real batch of its replay.
    const objective = new LearnedObjective(spec.task.algorithm.objective, new Rng(7));
    for (const env of [spec.task.env, ...spec.task.moreEnvs]) {
      const task = { ...spec.task, env };
      const agent = new ObjectiveAgent(algo(spec), spec.training, [16, 16], createVecEnv(task, 3, 1), new Rng(8));
      for (let k = 0; k < 20; k++) agent.envStep(new Rng(k));
      const m = await metaGradient(agent.nets, objective, agent.sample(new Rng(9)), 1e-3);
      const norm = Math.sqrt(m.grads.reduce((sum, g) => sum + tf.sum(tf.square(g)).dataSync()[0], 0));
      expect(norm).toBeGreaterThan(0);
      expect(Number.isFinite(norm)).toBe(true);
      expect(Number.isFinite(m.metaLoss) && Math.abs(m.alignment) <= 1).toBe(true);
      tf.dispose(m.grads);
      agent.dispose();
    }
    objective.dispose();
  });

  it('draws the same run from the same seed and another from another; resumes exactly from a checkpoint', async () => {
    const spec = (seed: number) => parse(input({ seed, algorithm: { agentLifetime: 6, metaDelay: 1 } }));
    const through = await metagenrl.create(spec(3), 3);
    const expected = await steps(through, 0, 13);
    const again = await metagenrl.create(spec(3), 3);
    expect(await steps(again, 0, 13)).toEqual(expected);
    const other = await metagenrl.create(spec(4), 4);
    expect((await steps(other, 0, 13)).map((r) => r.loss)).not.toEqual(expected.map((r) => r.loss));
    // Checkpointed at step 7: agent 1 was replaced at 6 and agent 0 is replaced again at 9 after the restore.
    const { algorithm, reports } = await resumed(() => metagenrl.create(spec(3), 3), 7, 13);
    expect(reports).toEqual(expected.slice(7));
    expect(await weights(algorithm)).toEqual(await weights(through));
    for (const a of [through, again, other, algorithm]) a.dispose();
  });

  it('records agent returns, the objective picture, every agent rollout and the objective; resumes a run', async () => {
    const spec = input({ algorithm: { metaDelay: 1 } });
    const run = async (resume?: TrainState) => {
      const { out, sink } = collectingSink();
      const objectives: (LearnedObjectiveWeights & { progress: ObjectiveProgress })[] = [];
      const status = await runRl(parse<RlSpec>(spec), { ...sink, objective: (o) => objectives.push(o) }, { resume });
      expect(status).toEqual({ status: 'finished' });
      return { ...out, objectives };
    };
    const a = await run();
    const keys = new Set(a.rows.map(([k]) => k));
    for (const k of [agentReturnKey(0), agentReturnKey(1), 'train_return', 'meta_loss', 'alignment', 'meta_grad_norm'])
      expect(keys).toContain(k);
    // Pendulum's episodes end every 9 steps, point-mass's every 7.
    expect(a.series(agentReturnKey(0)).map(([s]) => s)).toEqual([9]);
    expect(a.series(agentReturnKey(1)).map(([s]) => s)).toEqual([7, 14]);
    const picture = a.curves.filter((c) => c.split === OBJECTIVE_PICTURE_SPLIT);
    expect(picture.map((c) => [c.step, c.metric])).toEqual(
      [6, 12, 14].flatMap((s) => Object.values(OBJECTIVE_PICTURE).map((f) => [s, f.name])),
    );
    for (const c of picture) {
      expect(c.values.length).toBe(picture.find((d) => d.step === c.step)!.values.length);
      expect(c.values.every((v) => Number.isFinite(v))).toBe(true);
    }
    // Sub-trajectory by sub-trajectory, each in time order from its first step.
    const time = picture.find((c) => c.metric === OBJECTIVE_PICTURE.time.name)!.values as number[];
    for (const [i, t] of time.entries()) expect(t === 0 || t === time[i - 1] + 0.25).toBe(true);
    expect(time.filter((t) => t === 0).length).toBe(8);
    const rollouts = a.rollouts.map((r) => [r.step, r.split, r.env]);
    expect(rollouts).toContainEqual([14, 'agent0', 'Pendulum-v1']);
    expect(rollouts).toContainEqual([14, 'agent1', 'point-mass']);
    expect(rollouts).toContainEqual([14, 'unseen', 'Pendulum-v1']);
    expect(a.objectives.map((o) => [o.progress.finished, o.progress.agentSteps])).toEqual([
      [false, 12],
      [false, 24],
      [true, 28],
    ]);
    // Resumed from step 6's checkpoint: the same records after it, the same objective at the end.
    const checkpoint = a.checkpoints.find((c) => c.step === 6)!;
    const b = await run({ ...checkpoint, extra: JSON.parse(JSON.stringify(checkpoint.extra)) });
    const later = (rows: MetricRow[]) => rows.filter(([k, s]) => s > 6 && !CIRCUMSTANTIAL_KEYS.has(k));
    expect(later(b.rows)).toEqual(later(a.rows));
    expect(b.curves.filter((c) => c.step > 6)).toEqual(a.curves.filter((c) => c.step > 6));
    expect(b.rollouts.filter((r) => r.step > 6)).toEqual(a.rollouts.filter((r) => r.step > 6));
    expect(b.objectives.at(-1)).toEqual(a.objectives.at(-1));
  });

  it('refuses discrete actions and models a TD3 agent cannot be, saying why', async () => {
    const discrete = parse(input({ task: { moreEnvs: [{ name: 'CartPole-v1' }] } }));
    await expect(metagenrl.create(discrete, 3)).rejects.toThrow(/continuous actions; CartPole-v1 has 2/);
    const lstm = parse({ ...input(), model: { kind: 'lstm', hidden: 8 } });
    await expect(metagenrl.create(lstm, 3)).rejects.toThrow(/mlp actors and critics.*not lstm/);
  });
});

describe('learned-objective', () => {
  const spec = (objective: string) =>
    parse<MetaTestSpec>(
      input({
        task: {
          env: { name: 'CartPoleContinuous', maxSteps: 12 },
          moreEnvs: [],
          algorithm: { kind: 'learned-objective', objective, randomSteps: 5, bufferSize: 1000, trajectoryLength: 4 },
        },
      }),
    );

  it('trains with a random objective from the start (blend 1), and resumes exactly', async () => {
    const make = () => learnedObjective.create(spec('random'), 3);
    const through = await make();
    const expected = await steps(through, 0, 16);
    for (const r of expected.slice(5)) expect(r.gradNorm).toBeGreaterThan(0);
    // Actor updates at steps 7, 9, ... (every 2nd update): each reports the saturation of its actions.
    expect(expected.map((r) => r.metrics.action_saturation !== undefined)).toEqual(
      Array.from({ length: 16 }, (_, k) => k >= 6 && k % 2 === 0),
    );
    expect(expected[15].metrics.policy_loss).toEqual(expect.any(Number));
    const { algorithm, reports } = await resumed(make, 9, 16);
    expect(reports).toEqual(expected.slice(9));
    expect(await weights(algorithm)).toEqual(await weights(through));
    through.dispose();
    algorithm.dispose();
  });

  it('uses the stored objective it is given, and says so when there is none', async () => {
    const trainer = await metagenrl.create(parse(input()), 3);
    const stored = await trainer.artifact!(true);
    trainer.dispose();
    const algorithm = await learnedObjective.create(spec('latest'), 3, { objective: stored });
    await steps(algorithm, 0, 8);
    const tensors = new Map((await algorithm.save()).tensors.map((t) => [t.name, Array.from(t.values)]));
    for (const t of stored.tensors) expect(tensors.get(t.name)).toEqual(Array.from(t.values));
    algorithm.dispose();
    await expect(learnedObjective.create(spec('latest'), 3)).rejects.toThrow(/no stored learned objective/);
    await expect(learnedObjective.create(spec('a'.repeat(64)), 3)).rejects.toThrow(/no stored .* sha256 aaaa/);
  });
});
