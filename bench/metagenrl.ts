// MetaGenRL against PyTorch (`npm run bench -- --metagenrl`, and test/unit/metagenrl-peer.test.ts): the learned
// objective (main/engine/rl/metagenrl/objective.ts) and its meta-gradient (metaGradient.ts) against
// bench/peer/metagenrl.py, which writes the same maths in PyTorch and takes the meta-gradient by autograd through
// the inner step (create_graph=True): the exact second-order gradient. From the same weights on the same minibatch,
// ours in float32 against the peer's float64: the per-step output, the loss and grad_phi L, J, the alignment and
// the meta-gradient. Then one full update of one agent (critics' TD3 step, actor's step on the objective and the
// targets' Polyak averaging, the objective's meta-step; each with Adam), timed on both sides, one thread each.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { type LearnedObjectiveSpec, learnedObjectiveSpec } from '../shared/spec.js';
import { initBackend } from '../main/engine/backends.js';
import type { Param } from '../main/engine/models/index.js';
import { Adam } from '../main/engine/optimizer.js';
import { Rng, seedFrom } from '../main/engine/rng.js';
import {
  actorForward,
  type AgentNets,
  criticValues,
  metaGradient,
  objectivePolicyLoss,
} from '../main/engine/rl/metagenrl/metaGradient.js';
import { LearnedObjective, objectiveBatch, type SubTrajectories } from '../main/engine/rl/metagenrl/objective.js';
import { validTransitions } from '../main/engine/rl/metagenrl/trajectoryReplay.js';
import { targetNoise, Td3Learner } from '../main/engine/rl/td3.js';
import { hasTorch, relDiff } from './rl.js';
import { table } from './table.js';
import { ExportData, machineLine, type PeerInfo, TorchPeer } from './torchPeer.js';

const EXPORT_DIR = path.join('bench', 'results', 'export');
const PEER = path.join('bench', 'peer', 'metagenrl.py');

/** The reference's settings (DESIGN.md section 5): Adam 1e-3 everywhere, actor and meta-gradients clipped to 1. */
const SETTINGS = {
  discount: 0.99,
  polyak: 0.995,
  learningRate: 1e-3,
  adamEpsilon: 1e-8,
  metaLearningRate: 1e-3,
  metaAdamEpsilon: 1e-8,
  innerLearningRate: 1e-3,
  actorGradClip: 1,
  metaGradClip: 1,
};

const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The peer of the learned objective (bench/peer/metagenrl.py). */
export class MetaGenRLPeer extends TorchPeer {
  constructor(python: string) {
    super(python, PEER);
  }
}

export { hasTorch };

export interface MetaGenRLCaseOptions {
  obsSize: number;
  actionSize: number;
  hidden: number[];
  /** B sub-trajectories of T steps. */
  batch: number;
  length: number;
  /** The objective's architecture (learnedObjectiveSpec's defaults for what is left out). */
  objective: Partial<LearnedObjectiveSpec>;
  /** Episodes that end inside some windows: a third of the sub-trajectories are padded after their terminal step. */
  padding: boolean;
  batches?: number;
  seed?: number;
  /** Where the export for the peer goes (default bench/results/export). */
  root?: string;
}

/**
 * B random sub-trajectories of T steps, time-major, Pendulum-shaped (cos, sin, speed-like observations, rewards in
 * [-16, 0]); with `padding`, sub-trajectory b = 1 (mod 3) terminates at a step before the last and is zero after it.
 */
function subTrajectories(rng: Rng, o: MetaGenRLCaseOptions): SubTrajectories {
  const { batch: B, length: T, obsSize, actionSize } = o;
  const rows = B * T;
  const obs = () =>
    Float32Array.from(
      { length: rows * obsSize },
      (_, i) => (i % obsSize === obsSize - 1 ? 8 : 1) * (rng.next() * 2 - 1),
    );
  const x: SubTrajectories = {
    batch: B,
    length: T,
    obsSize,
    actionSize,
    obs: obs(),
    actions: Float32Array.from({ length: rows * actionSize }, () => rng.next() * 2 - 1),
    rewards: Float32Array.from({ length: rows }, () => -16 * rng.next()),
    nextObs: obs(),
    dones: new Float32Array(rows),
    mask: new Float32Array(rows).fill(1),
  };
  if (!o.padding) return x;
  for (let b = 1; b < B; b += 3) {
    const end = b % (T - 1);
    x.dones[end * B + b] = 1;
    for (let t = end + 1; t < T; t++) {
      const row = t * B + b;
      x.mask[row] = 0;
      x.rewards[row] = 0;
      x.obs.fill(0, row * obsSize, (row + 1) * obsSize);
      x.nextObs.fill(0, row * obsSize, (row + 1) * obsSize);
      x.actions.fill(0, row * actionSize, (row + 1) * actionSize);
    }
  }
  return x;
}

/** Biases and LayerNorm parameters away from their initial 0 and 1, so that each one's part in the maths is checked. */
function perturb(params: readonly Param[], rng: Rng): void {
  for (const p of params) {
    const base = p.name.endsWith('.ln.g') ? 1 : p.name.endsWith('.b') ? 0 : null;
    if (base === null) continue;
    const values = Float32Array.from({ length: p.variable.size }, () => base + 0.2 * rng.normal());
    tf.tidy(() => p.variable.assign(tf.tensor(values, p.variable.shape)));
  }
}

/** Our side of the check, on minibatch 0 from the initial weights. */
interface Computed {
  perStep: Float32Array;
  loss: number;
  policyGrads: Map<string, Float32Array>;
  metaGrads: Map<string, Float32Array>;
  j: number;
  alignment: number;
}

export interface UpdateLosses {
  criticLoss: number;
  actorLoss: number;
  metaLoss: number;
  alignment: number;
}

/** One agent and its objective set up identically on both sides. */
export interface MetaGenRLCase {
  key: string;
  dir: string;
  networks: string;
  objective: string;
  /** Trained parameters: actor, twin critics, objective. */
  params: number;
  compute(): Promise<Computed>;
  /**
   * The parts of an update on minibatch k, as the engine's agent makes them (main/engine/rl/metagenrl/agent.ts):
   * the critics' TD3 step on the valid steps; the actor's step on the objective, then the targets' Polyak
   * averaging; the meta-step.
   */
  critic(k: number): Promise<number>;
  actor(k: number): Promise<number>;
  meta(k: number): Promise<{ metaLoss: number; alignment: number }>;
  /** One full update on minibatch k (the three parts): its losses and the time of each part in ms. */
  update(k: number): Promise<{ losses: UpdateLosses; parts: [number, number, number] }>;
  /** Back to the initial weights and fresh optimisers. */
  reset(): void;
  dispose(): void;
}

export function metagenrlCase(key: string, o: MetaGenRLCaseOptions): MetaGenRLCase {
  const seed = o.seed ?? 0;
  const architecture = learnedObjectiveSpec.parse(o.objective);
  const build = () => {
    const learner = new Td3Learner(
      { obsSize: o.obsSize, actionSize: o.actionSize, hidden: o.hidden },
      SETTINGS.discount,
      SETTINGS.polyak,
      new Rng(seedFrom(seed, 'init')),
      SETTINGS.adamEpsilon,
    );
    const objective = new LearnedObjective(architecture, new Rng(seedFrom(seed, 'objective')));
    const rng = new Rng(seedFrom(seed, 'perturb'));
    perturb(learner.params(), rng);
    perturb(objective.params, rng);
    const metaAdam = new Adam(objective.params, SETTINGS.metaAdamEpsilon);
    const nets: AgentNets = { actor: learner.actor, critic: learner.critics[0] };
    return { learner, objective, metaAdam, nets };
  };
  let agent = build();
  const rng = new Rng(seedFrom(seed, 'batches'));
  // The target noise of the valid steps, the critics' transitions (as the engine's agent draws it).
  const batches = Array.from({ length: o.batches ?? 3 }, () => {
    const x = subTrajectories(rng, o);
    const valid = x.mask.reduce((n, m) => n + m, 0);
    return { x, noise: targetNoise(rng, valid * o.actionSize, 0.2, 0.5) };
  });

  const dir = path.join(o.root ?? EXPORT_DIR, key);
  const data = new ExportData();
  const put = (p: Param) => ({ name: p.name, ...data.put(p.variable.dataSync() as Float32Array, p.variable.shape) });
  const rows = o.batch * o.length;
  data.write(dir, {
    kind: 'metagenrl',
    obsSize: o.obsSize,
    actionSize: o.actionSize,
    hidden: o.hidden,
    batch: o.batch,
    length: o.length,
    objective: architecture,
    ...SETTINGS,
    params: [...agent.learner.params(), ...agent.objective.params].map(put),
    batches: batches.map(({ x, noise }) => {
      const column = (values: Float32Array, width: number) => data.put(values, [rows, width]);
      return {
        obs: column(x.obs, o.obsSize),
        actions: column(x.actions, o.actionSize),
        rewards: column(x.rewards, 1),
        nextObs: column(x.nextObs, o.obsSize),
        dones: column(x.dones, 1),
        mask: column(x.mask, 1),
        noise: data.put(noise, [noise.length / o.actionSize, o.actionSize]),
      };
    }),
  });

  const named = async (params: readonly Param[], grads: tf.Tensor[]) =>
    new Map(await Promise.all(params.map(async (p, i) => [p.name, (await grads[i].data()) as Float32Array] as const)));
  const { learner, objective } = agent;
  return {
    key,
    dir,
    networks: `actor, 2 critics ${o.hidden.join('x')}; obs ${o.obsSize}, actions ${o.actionSize}`,
    objective:
      `units ${architecture.units} depth ${architecture.depth} value ${architecture.valueFeatures} ` +
      `lstm ${architecture.lstm} [${architecture.inputs.join(', ')}]`,
    params: learner.paramCount + objective.paramCount,
    async compute() {
      const { nets, objective } = agent;
      const x = batches[0].x;
      const { values, nextValues } = criticValues(nets, x);
      const actions = tf.tidy(() => {
        const obs = tf.tensor2d(x.obs, [rows, o.obsSize]);
        const weights = nets.actor.flatMap((l) => [l.w.variable, l.b.variable]);
        return actorForward(weights, obs).dataSync() as Float32Array;
      });
      const perStep = objective.perStep(objectiveBatch(x, values, nextValues, architecture.inputs), actions);
      const policy = objectivePolicyLoss(nets, objective, x, 1);
      const meta = await metaGradient(nets, objective, x, SETTINGS.innerLearningRate);
      const out: Computed = {
        perStep,
        loss: (await policy.loss.data())[0],
        policyGrads: await named(agent.learner.actorParams(), policy.grads),
        metaGrads: await named(objective.params, meta.grads),
        j: -meta.metaLoss,
        alignment: meta.alignment,
      };
      tf.dispose([policy.loss, ...policy.grads, ...meta.grads]);
      return out;
    },
    async critic(k) {
      const { x, noise } = batches[k % batches.length];
      const tensors = agent.learner.tensors(validTransitions(x), noise);
      const { criticLoss } = await agent.learner.criticStep(tensors, SETTINGS.learningRate, null);
      tf.dispose(Object.values(tensors));
      return criticLoss;
    },
    async actor(k) {
      const { learner, objective, nets } = agent;
      const actor = objectivePolicyLoss(nets, objective, batches[k % batches.length].x, 1);
      const loss = (await actor.loss.data())[0];
      await learner.actorAdam.step(actor.grads, SETTINGS.learningRate, SETTINGS.actorGradClip);
      tf.dispose([actor.loss, ...actor.grads]);
      learner.averageTargets();
      return loss;
    },
    async meta(k) {
      const { objective, metaAdam, nets } = agent;
      const meta = await metaGradient(nets, objective, batches[k % batches.length].x, SETTINGS.innerLearningRate);
      await metaAdam.step(meta.grads, SETTINGS.metaLearningRate, SETTINGS.metaGradClip);
      tf.dispose(meta.grads);
      return { metaLoss: meta.metaLoss, alignment: meta.alignment };
    },
    async update(k) {
      const t0 = performance.now();
      const criticLoss = await this.critic(k);
      const t1 = performance.now();
      const actorLoss = await this.actor(k);
      const t2 = performance.now();
      const meta = await this.meta(k);
      const t3 = performance.now();
      return { losses: { criticLoss, actorLoss, ...meta }, parts: [t1 - t0, t2 - t1, t3 - t2] };
    },
    reset() {
      this.dispose();
      agent = build();
    },
    dispose() {
      agent.learner.dispose();
      agent.objective.dispose();
      agent.metaAdam.dispose();
    },
  };
}

// ------------------------------------------------------------------------------------------- the check

/**
 * Ours (float32) against the peer's float64, on minibatch 0 from the same weights. Relative differences are
 * ||ours - theirs|| / ||theirs|| over the whole vector (all rows of the per-step output, all of the actor's
 * gradients, the whole meta-gradient).
 */
export interface MetaGenRLCheck {
  perStep: number;
  /** |ours - theirs| relative to the larger of |L| and the mean |per-step output|. */
  loss: number;
  policyGrad: number;
  j: number;
  /** |ours - theirs| of the alignment cosine. */
  alignment: number;
  metaGrad: number;
  /** Cosine between our meta-gradient and the peer's exact one. */
  metaCosine: number;
  /** The tensor of the meta-gradient that differs most, and by how much (relative to its own norm). */
  worstMetaTensor: { name: string; diff: number };
  /** The peer's own check: its autograd directional derivative against a float64 central difference of J. */
  peerFiniteDifference: number;
  metaNorm: number;
}

const meanAbs = (xs: number[]) => xs.reduce((s, x) => s + Math.abs(x), 0) / Math.max(1, xs.length);
const scalarDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);

/** Tensors laid end to end in `names`' order (a name missing on one side is left at 0 and shows as a difference). */
function flat(names: string[], get: (name: string) => ArrayLike<number> | undefined, sizes: number[]): Float64Array {
  const out = new Float64Array(sizes.reduce((a, b) => a + b, 0));
  let at = 0;
  names.forEach((n, i) => {
    const v = get(n);
    if (v) out.set(Array.from(v).slice(0, sizes[i]), at);
    at += sizes[i];
  });
  return out;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

interface PeerCheck {
  perStep: number[];
  loss: number;
  policyGrads: Record<string, number[]>;
  metaGrads: Record<string, number[]>;
  j: number;
  alignment: number;
  finiteDifference: [number, number][];
}

export async function checkMetaGenRL(c: MetaGenRLCase, peer: MetaGenRLPeer): Promise<MetaGenRLCheck> {
  await peer.call({ cmd: 'load', dir: c.dir });
  c.reset();
  const ours = await c.compute();
  const theirs = await peer.call<PeerCheck>({ cmd: 'check', dtype: 'float64' });
  const vectors = (o: Map<string, Float32Array>, t: Record<string, number[]>) => {
    const names = [...new Set([...o.keys(), ...Object.keys(t)])];
    const sizes = names.map((n) => Math.max(o.get(n)?.length ?? 0, t[n]?.length ?? 0));
    return [flat(names, (n) => o.get(n), sizes), flat(names, (n) => t[n], sizes)];
  };
  const [policyOurs, policyTheirs] = vectors(ours.policyGrads, theirs.policyGrads);
  const [metaOurs, metaTheirs] = vectors(ours.metaGrads, theirs.metaGrads);
  const worst = [...new Set([...ours.metaGrads.keys(), ...Object.keys(theirs.metaGrads)])]
    .map((name) => {
      const [a, b] = [ours.metaGrads.get(name), theirs.metaGrads[name]];
      return { name, diff: a && b ? relDiff(a, b) : Infinity };
    })
    .reduce((w, e) => (e.diff > w.diff ? e : w));
  return {
    perStep: relDiff(ours.perStep, theirs.perStep),
    // Relative to the per-step outputs' scale: their mean can be near 0 by cancellation.
    loss: Math.abs(ours.loss - theirs.loss) / Math.max(Math.abs(theirs.loss), meanAbs(theirs.perStep), 1e-30),
    policyGrad: relDiff(policyOurs, policyTheirs),
    j: scalarDiff(ours.j, theirs.j),
    alignment: Math.abs(ours.alignment - theirs.alignment),
    metaGrad: relDiff(metaOurs, metaTheirs),
    metaCosine: cosine(metaOurs, metaTheirs),
    worstMetaTensor: worst,
    peerFiniteDifference: Math.max(...theirs.finiteDifference.map(([exact, fd]) => scalarDiff(fd, exact))),
    metaNorm: Math.sqrt(metaTheirs.reduce((s, v) => s + v * v, 0)),
  };
}

/** The losses of `steps` full updates from the same weights on both sides (the peer in float64). */
export async function checkUpdates(c: MetaGenRLCase, peer: MetaGenRLPeer, steps: number) {
  await peer.call({ cmd: 'load', dir: c.dir });
  c.reset();
  const ours: UpdateLosses[] = [];
  for (let k = 0; k < steps; k++) ours.push((await c.update(k)).losses);
  const theirs = (await peer.call<{ steps: UpdateLosses[] }>({ cmd: 'losses', steps, dtype: 'float64' })).steps;
  const diff = (key: keyof UpdateLosses, f: (a: number, b: number) => number) =>
    Math.max(...ours.map((s, k) => f(s[key], theirs[k][key])));
  return {
    losses: Math.max(...(['criticLoss', 'actorLoss', 'metaLoss'] as const).map((k) => diff(k, scalarDiff))),
    alignment: diff('alignment', (a, b) => Math.abs(a - b)),
    ours,
    theirs,
  };
}

// ------------------------------------------------------------------------------------------- the benchmark

/** Our float32 against the peer's float64: within these, the two compute the same thing. */
export const METAGENRL_TOLERANCE = {
  /** per-step output, loss, grad_phi L, J (measured up to 6e-6) */
  rtol: 2e-5,
  /** the meta-gradient (measured up to 2e-6) */
  metaRtol: 1e-4,
  /**
   * The meta-gradient's cosine with the exact one is at least 1 - this (measured: 1 - 2e-12 or closer; a finite
   * difference of the objective's gradient, DESIGN.md section 6, reached 0.95).
   */
  cosine: 1e-7,
  /** the alignment cosine, absolute (measured up to 6e-6) */
  alignment: 2e-5,
  /**
   * The losses of the first full updates (measured up to 3e-5): Adam divides by the root of the second moment, so a
   * rounding difference in a near-zero gradient entry moves that parameter by up to the learning rate on one side
   * only. (The alignment of later updates, reported, drifts the same way: up to 1e-3 at the reference's size.)
   */
  updates: 1e-4,
};

export interface MetaGenRLBenchOptions {
  tiny: boolean;
  profile: boolean;
  /** Only these cases (lab, reference, reference-cheetah). */
  only?: string[];
  rounds: number;
  python: string;
  out: string;
}

function benchCases(tiny: boolean): MetaGenRLCase[] {
  if (tiny) {
    const small = { units: 8, depth: 2, valueFeatures: 4, lstm: 8 };
    return [
      metagenrlCase('tiny', {
        obsSize: 3,
        actionSize: 1,
        hidden: [16, 16],
        batch: 8,
        length: 6,
        objective: small,
        padding: false,
      }),
    ];
  }
  const lab = { units: 16, depth: 3, valueFeatures: 8, lstm: 16 };
  const reference = { units: 32, depth: 3, valueFeatures: 8, lstm: 32 };
  const pendulum = { obsSize: 3, actionSize: 1, padding: false };
  return [
    metagenrlCase('lab', { ...pendulum, hidden: [64, 64], batch: 32, length: 16, objective: lab }),
    metagenrlCase('reference', { ...pendulum, hidden: [256, 256], batch: 100, length: 20, objective: reference }),
    metagenrlCase('reference-cheetah', {
      obsSize: 17,
      actionSize: 6,
      padding: false,
      hidden: [256, 256],
      batch: 100,
      length: 20,
      objective: reference,
    }),
  ];
}

/** Alternates ours and PyTorch, `rounds` times `updates` each; medians of the total and of each part. */
async function timeCase(c: MetaGenRLCase, peer: MetaGenRLPeer, rounds: number, updates: number) {
  const ours: number[][] = [];
  const torch: number[][] = [];
  let k = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < updates; i++) ours.push((await c.update(k++)).parts);
    torch.push(...(await peer.call<{ parts: number[][] }>({ cmd: 'time', steps: updates })).parts);
  }
  const medians = (xs: number[][]) => ({
    total: median(xs.map((p) => p[0] + p[1] + p[2])),
    parts: [0, 1, 2].map((i) => median(xs.map((p) => p[i]))),
  });
  return { ours: medians(ours), torch: medians(torch) };
}

/** Scopes of custom-gradient ops: tf.profile lists them besides their kernels, with those kernels' time in. */
const NESTED = /unnamed scope|forward|__op$/;

/**
 * Our per-kernel time in one part of an update (each kernel's fastest of `runs` profiles, so that preemption by
 * other processes does not inflate it): the largest, then all leaf kernels' time and calls.
 */
async function profilePart(c: MetaGenRLCase, part: 'critic' | 'actor' | 'meta', runs: number, top: number) {
  const best = new Map<string, { ms: number; calls: number }>();
  for (let r = 0; r < runs; r++) {
    const info = await tf.profile(async () => {
      await c[part](r);
    });
    const run = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      if (NESTED.test(k.name)) continue;
      const e = run.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      e.calls += 1;
      run.set(k.name, e);
    }
    for (const [name, e] of run) if (e.ms < (best.get(name)?.ms ?? Infinity)) best.set(name, e);
  }
  const all = [...best.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const sum = (f: (e: { ms: number; calls: number }) => number) => all.reduce((n, [, e]) => n + f(e), 0);
  return [
    `  ${part}: ${sum((e) => e.ms).toFixed(2)} ms of kernels in ${sum((e) => e.calls)} calls`,
    ...all
      .slice(0, top)
      .map(
        ([name, e]) => `    ${name.padEnd(22)} ${e.ms.toFixed(3).padStart(9)} ms ${String(e.calls).padStart(6)} calls`,
      ),
  ];
}

/** `npm run bench -- --metagenrl`: prints the table and writes the JSON; exit code 1 if a check disagrees. */
export async function runMetaGenRLBench(o: MetaGenRLBenchOptions): Promise<void> {
  if (!hasTorch(o.python)) throw new Error(`${o.python} has no torch (Debian: apt install python3-torch)`);
  await initBackend('wasm');
  const peer = new MetaGenRLPeer(o.python);
  const info = await peer.call<PeerInfo>({ cmd: 'info' });
  const tol = METAGENRL_TOLERANCE;
  const results = [];
  for (const c of benchCases(o.tiny).filter((c) => !o.only || o.only.includes(c.key))) {
    log(`${c.key}: ${c.networks}; objective ${c.objective} ...`);
    const check = await checkMetaGenRL(c, peer);
    const updates = await checkUpdates(c, peer, o.tiny ? 2 : 4);
    await peer.call({ cmd: 'load', dir: c.dir });
    c.reset();
    await timeCase(c, peer, 1, 2); // warm-up
    const t = await timeCase(c, peer, o.rounds, o.tiny ? 2 : 5);
    const agree =
      Math.max(check.perStep, check.loss, check.policyGrad, check.j) <= tol.rtol &&
      check.metaGrad <= tol.metaRtol &&
      check.metaCosine >= 1 - tol.cosine &&
      check.alignment <= tol.alignment &&
      updates.losses <= tol.updates;
    log(`  ours ${t.ours.total.toFixed(2)} ms, torch ${t.torch.total.toFixed(2)} ms`);
    const profile = [];
    if (o.profile)
      for (const part of ['critic', 'actor', 'meta'] as const) profile.push(...(await profilePart(c, part, 3, 10)));
    for (const line of profile) log(line);
    results.push({ ...c, check, updates, t, agree, profile });
    c.dispose();
  }
  await peer.close();
  const e = (x: number) => x.toExponential(1);
  const ms = (ours: number, torch: number) => `${ours.toFixed(1)} / ${torch.toFixed(1)}`;
  const lines = [
    'metalab bench --metagenrl: one full MetaGenRL update of one agent (critics: TD3 loss on the B x T steps + ' +
      "Adam; actor: the objective's loss + Adam; meta: the meta-gradient + Adam on the objective), ms, median of " +
      `${o.rounds} alternating rounds, one thread each side`,
    machineLine(tf.version.tfjs, tf.getBackend(), info),
    '',
    table(
      ['case', 'ours ms', 'torch ms', 'ratio', 'critic', 'actor', 'meta', 'meta grad', 'cosine', 'updates', 'agree'],
      results.map((r) => [
        r.key,
        r.t.ours.total.toFixed(1),
        r.t.torch.total.toFixed(1),
        `${(r.t.ours.total / r.t.torch.total).toFixed(2)}x`,
        ms(r.t.ours.parts[0], r.t.torch.parts[0]),
        ms(r.t.ours.parts[1], r.t.torch.parts[1]),
        ms(r.t.ours.parts[2], r.t.torch.parts[2]),
        e(r.check.metaGrad),
        (1 - r.check.metaCosine).toExponential(1),
        e(r.updates.losses),
        r.agree ? 'yes' : 'NO',
      ]),
    ),
    '',
    ...results.map((r) => `${r.key}: ${r.networks}; objective ${r.objective}; ${r.params} parameters`),
    '',
    'critic / actor / meta: each part, ours / torch ms. meta grad: relative difference of our float32 ' +
      "meta-gradient from the peer's exact float64 one (autograd through the inner step); cosine: 1 - their " +
      'cosine; updates: largest relative difference of the losses over the first updates. agree: per-step ' +
      `output, loss, grad_phi L and J within ${tol.rtol}, meta-gradient within ${tol.metaRtol}, ` +
      `alignment within ${tol.alignment}, updates within ${tol.updates}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString(), torch: info, results }, null, 2));
  log(`written ${o.out}`);
  if (results.some((r) => !r.agree)) process.exitCode = 1;
}
