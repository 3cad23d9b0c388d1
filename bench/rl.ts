// The RL learners' update step against PyTorch (`npm run bench -- --rl`): PPO's minibatch update (MLP policy and
// value network, discrete and Gaussian actions) and TD3's update (twin critics, delayed actor, Polyak targets),
// ours on tfjs-wasm against bench/peer/rl.py, one thread each, from the same weights on the same minibatches.
// Each case first checks that the two sides agree: the loss and every gradient on the first minibatch, then the
// losses of a few updates. test/unit/rl-peer.test.ts runs the same checks on small networks.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ActionSpace } from '../main/engine/envs/types.js';
import { initBackend } from '../main/engine/backends.js';
import { Adam } from '../main/engine/optimizer.js';
import { Rng, seedFrom } from '../main/engine/rng.js';
import { gradientStep, type Minibatch, minibatchGradients } from '../main/engine/rl/minibatch.js';
import { createPolicyNet, distributionSize } from '../main/engine/rl/networks.js';
import type { Transitions } from '../main/engine/rl/replay.js';
import { targetNoise, Td3Learner } from '../main/engine/rl/td3.js';
import { table } from './table.js';
import { ExportData, machineLine, type PeerInfo, TorchPeer } from './torchPeer.js';

const EXPORT_DIR = path.join('bench', 'results', 'export');
const PEER = path.join('bench', 'peer', 'rl.py');
/** Losses and gradients of the two sides must agree to this relative tolerance (float32, other summation orders). */
export const RL_RTOL = 1e-5;
/**
 * The losses of later updates, to this one: Adam divides by the root of the second moment, so a float32 rounding
 * difference in a near-zero gradient entry moves that weight by up to the learning rate on one side only.
 */
export const RL_STEPS_RTOL = 1e-4;

const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// ------------------------------------------------------------------------------------------- the peer

/** Whether `python` can import torch (the peer's one requirement). */
export function hasTorch(python: string): boolean {
  return spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

/** The peer of the RL learners (bench/peer/rl.py). */
export class RlPeer extends TorchPeer {
  constructor(python: string) {
    super(python, PEER);
  }
}

interface Named {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** Writes meta.json (with each tensor's offset and shape) and data.bin (float32) for the peer. */
function writeExport(dir: string, meta: object, params: Named[], batches: Record<string, Named>[]): void {
  const data = new ExportData();
  const put = (t: Named) => ({ name: t.name, ...data.put(t.values, t.shape) });
  const entries = params.map(put);
  const batchEntries = batches.map((b) => Object.fromEntries(Object.entries(b).map(([k, t]) => [k, put(t)])));
  data.write(dir, { ...meta, params: entries, batches: batchEntries });
}

/** ||a - b|| / ||b||: how far our numbers are from the peer's, relative to their scale. */
export function relDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < theirs.length; i++) {
    diff += (ours[i] - theirs[i]) ** 2;
    norm += theirs[i] ** 2;
  }
  return ours.length === theirs.length ? Math.sqrt(diff / Math.max(norm, 1e-30)) : Infinity;
}

/** The largest relative difference over named gradients; a name missing on either side counts as Infinity. */
function gradsDiff(ours: Map<string, Float32Array>, theirs: Record<string, number[]>): number {
  const names = new Set([...ours.keys(), ...Object.keys(theirs)]);
  return Math.max(...[...names].map((n) => (ours.has(n) && theirs[n] ? relDiff(ours.get(n)!, theirs[n]) : Infinity)));
}

const scalarDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

/** One learner set up identically on both sides, ready to be checked and timed. */
export interface RlCase {
  key: string;
  title: string;
  network: string;
  params: number;
  batch: number;
  /** Export for the peer (its directory). */
  dir: string;
  /** Our loss(es) and gradients on minibatch 0 from the initial weights (no update). */
  grads(): Promise<{ losses: Record<string, number>; grads: Map<string, Float32Array> }>;
  /** Our update k (from wherever the learner is), returning the losses the peer also reports. */
  step(k: number): Promise<Record<string, number | null>>;
  /** Back to the initial weights and optimiser state. */
  reset(): void;
  dispose(): void;
}

// ------------------------------------------------------------------------------------------- TD3

export interface Td3CaseOptions {
  hidden: number[];
  batch: number;
  obsSize?: number;
  actionSize?: number;
  batches?: number;
  gradClip?: number | null;
  seed?: number;
  /** Where the export for the peer goes (default bench/results/export). */
  root?: string;
}

/** A Pendulum-shaped minibatch: observations (cos, sin, speed), scaled actions, rewards, a few terminations. */
function td3Batch(rng: Rng, n: number, obsSize: number, actionSize: number): Transitions {
  const obs = (out: Float32Array) => {
    for (let i = 0; i < out.length; i++) out[i] = (i % obsSize === obsSize - 1 ? 8 : 1) * (rng.next() * 2 - 1);
    return out;
  };
  return {
    size: n,
    obs: obs(new Float32Array(n * obsSize)),
    actions: Float32Array.from({ length: n * actionSize }, () => rng.next() * 2 - 1),
    rewards: Float32Array.from({ length: n }, () => -16 * rng.next()),
    nextObs: obs(new Float32Array(n * obsSize)),
    dones: Float32Array.from({ length: n }, () => (rng.next() < 0.1 ? 1 : 0)),
  };
}

export function td3Case(key: string, o: Td3CaseOptions): RlCase {
  const [obsSize, actionSize] = [o.obsSize ?? 3, o.actionSize ?? 1];
  const settings = {
    discount: 0.98,
    polyak: 0.995,
    learningRate: 1e-3,
    adamEpsilon: 1e-8,
    gradClip: o.gradClip ?? null,
    policyDelay: 2,
  };
  const seed = o.seed ?? 0;
  const build = () =>
    new Td3Learner(
      { obsSize, actionSize, hidden: o.hidden },
      settings.discount,
      settings.polyak,
      new Rng(seedFrom(seed, 'init')),
      settings.adamEpsilon,
    );
  let learner = build();
  const rng = new Rng(seedFrom(seed, 'batches'));
  const batches = Array.from({ length: o.batches ?? 4 }, () => {
    const batch = td3Batch(rng, o.batch, obsSize, actionSize);
    return { batch, noise: targetNoise(rng, o.batch * actionSize, 0.2, 0.5) };
  });
  const dir = path.join(o.root ?? EXPORT_DIR, key);
  const named = (p: { name: string; variable: tf.Variable }): Named => ({
    name: p.name,
    shape: p.variable.shape,
    values: p.variable.dataSync() as Float32Array,
  });
  const column = (name: string, values: Float32Array, width: number): Named => ({
    name,
    shape: [o.batch, width],
    values,
  });
  writeExport(
    dir,
    { kind: 'td3', obsSize, actionSize, hidden: o.hidden, ...settings },
    learner.params().map(named),
    batches.map(({ batch: b, noise }) => ({
      obs: column('obs', b.obs, obsSize),
      actions: column('actions', b.actions, actionSize),
      rewards: column('rewards', b.rewards, 1),
      nextObs: column('nextObs', b.nextObs, obsSize),
      dones: column('dones', b.dones, 1),
      noise: column('noise', noise, actionSize),
    })),
  );
  const read = async (params: { name: string }[], grads: tf.Tensor[]) =>
    new Map(await Promise.all(params.map(async (p, i) => [p.name, (await grads[i].data()) as Float32Array] as const)));
  return {
    key,
    title: 'TD3 update (critics every step, actor + targets every 2nd)',
    network: `actor, 2 critics ${o.hidden.join('x')}`,
    params: learner.paramCount,
    batch: o.batch,
    dir,
    async grads() {
      const t = learner.tensors(batches[0].batch, batches[0].noise);
      const critic = learner.criticLoss(t);
      const actor = learner.actorLoss(t);
      const out = {
        losses: { criticLoss: (await critic.loss.data())[0], actorLoss: (await actor.loss.data())[0] },
        grads: new Map([
          ...(await read(learner.criticParams(), critic.grads)),
          ...(await read(learner.actorParams(), actor.grads)),
        ]),
      };
      tf.dispose([critic.loss, actor.loss, ...critic.grads, ...actor.grads, ...Object.values(t)]);
      return out;
    },
    async step(k) {
      const { batch, noise } = batches[k % batches.length];
      const actorStep = (k + 1) % settings.policyDelay === 0;
      const r = await learner.update(batch, noise, actorStep, settings.learningRate, settings.gradClip);
      return { criticLoss: r.criticLoss, actorLoss: r.actorLoss };
    },
    reset() {
      learner.dispose();
      learner = build();
    },
    dispose: () => learner.dispose(),
  };
}

// ------------------------------------------------------------------------------------------- PPO

export interface PpoCaseOptions {
  hidden: number[];
  batch: number;
  action: ActionSpace;
  obsSize: number;
  batches?: number;
  seed?: number;
  root?: string;
}

export function ppoCase(key: string, o: PpoCaseOptions): RlCase {
  const settings = {
    clip: 0.2,
    normalizeAdvantages: true,
    valueCoef: 0.5,
    entropyCoef: 0.01,
    learningRate: 3e-4,
    adamEpsilon: 1e-5,
    gradClip: 0.5,
  };
  const seed = o.seed ?? 0;
  const model = { kind: 'mlp' as const, hidden: o.hidden, activation: 'relu' as const };
  const shape = { observationSize: o.obsSize, action: o.action, lifetime: 1 };
  const P = distributionSize(o.action);
  const discrete = o.action.kind === 'discrete';
  const build = () => {
    const net = createPolicyNet(model, shape, new Rng(seedFrom(seed, 'init')));
    // A log std away from its initial 0, so the Gaussian terms are checked at a general point.
    if (net.logStd) net.logStd.assign(tf.fill(net.logStd.shape, -0.3));
    return { net, adam: new Adam(net.params, settings.adamEpsilon) };
  };
  let { net, adam } = build();
  const rng = new Rng(seedFrom(seed, 'batches'));
  const rows = o.batch;
  const batches = Array.from({ length: o.batches ?? 4 }, () => ({
    obs: Float32Array.from({ length: rows * o.obsSize }, () => rng.normal()),
    // Indices (discrete) or Gaussian draws around 0 (box); the old log-probabilities near the current ones.
    actions: Float32Array.from({ length: rows * (discrete ? 1 : P) }, () => (discrete ? rng.int(P) : rng.normal())),
    logProbs: Float32Array.from({ length: rows }, () => (discrete ? Math.log(1 / P) : -1.2) + 0.3 * rng.normal()),
    advantages: Float32Array.from({ length: rows }, () => rng.normal() * 2 + 0.5),
    returns: Float32Array.from({ length: rows }, () => rng.normal() * 3),
  }));
  const oneHot = (actions: Float32Array) => {
    const out = new Float32Array(rows * P);
    for (let i = 0; i < rows; i++) out[i * P + actions[i]] = 1;
    return out;
  };
  const dir = path.join(o.root ?? EXPORT_DIR, key);
  const names = { policyName: 'policy', valueName: 'value', logStdName: 'log_std' };
  writeExport(
    dir,
    {
      kind: 'ppo',
      obsSize: o.obsSize,
      hidden: o.hidden,
      policyOutputs: P,
      gaussian: !discrete,
      ...names,
      ...settings,
    },
    // networks.ts names them policy/layer0.w ...; the peer reads <policyName>.layer0.w.
    net.params.map((p) => ({
      name: p.name.replace('/', '.'),
      shape: p.variable.shape,
      values: p.variable.dataSync() as Float32Array,
    })),
    batches.map((b) => ({
      obs: { name: 'obs', shape: [rows, o.obsSize], values: b.obs },
      actions: { name: 'actions', shape: [rows, discrete ? 1 : P], values: b.actions },
      logProbs: { name: 'logProbs', shape: [rows], values: b.logProbs },
      advantages: { name: 'advantages', shape: [rows], values: b.advantages },
      returns: { name: 'returns', shape: [rows], values: b.returns },
    })),
  );
  const lossSettings = { action: o.action, ...settings };
  // The learner's own minibatches: feed-forward rows (T = 1), actions one-hot for discrete spaces.
  const minibatches: Minibatch[] = batches.map((b) => ({
    B: rows,
    T: 1,
    inputs: b.obs,
    actions: discrete ? oneHot(b.actions) : b.actions,
    oldLogProbs: b.logProbs,
    advantages: b.advantages,
    returns: b.returns,
    mask: null,
  }));
  return {
    key,
    title: `PPO minibatch update (${discrete ? 'discrete' : 'Gaussian'} actions)`,
    network: `policy, value ${o.hidden.join('x')}`,
    params: net.paramCount,
    batch: rows,
    dir,
    async grads() {
      const { terms, grads } = await minibatchGradients(net, minibatches[0], lossSettings);
      const named = await Promise.all(
        net.params.map(async (p, i) => [p.name.replace('/', '.'), (await grads[i].data()) as Float32Array] as const),
      );
      tf.dispose(grads);
      return { losses: { ...terms }, grads: new Map(named) };
    },
    async step(k) {
      const mb = minibatches[k % minibatches.length];
      const r = await gradientStep(net, adam, mb, lossSettings, settings.learningRate, settings.gradClip);
      // The peer reports the loss terms only.
      const { gradNorm, ...losses } = r;
      return losses;
    },
    reset() {
      adam.dispose();
      for (const p of net.params) p.variable.dispose();
      ({ net, adam } = build());
    },
    dispose() {
      adam.dispose();
      for (const p of net.params) p.variable.dispose();
    },
  };
}

// ------------------------------------------------------------------------------------------- checks and timing

export interface RlCheck {
  /** Largest relative difference of the losses on minibatch 0. */
  lossDiff: number;
  /** Largest relative difference (norm of the difference over the peer's norm) of any gradient tensor. */
  gradDiff: number;
  /** Largest relative difference of the losses reported over `steps` updates. */
  stepsDiff: number;
  ours: Record<string, number | null>[];
  torch: Record<string, number | null>[];
}

/** Both sides from the same weights: losses and gradients on minibatch 0, then `steps` updates' losses. */
export async function checkCase(c: RlCase, peer: RlPeer, steps: number): Promise<RlCheck> {
  await peer.call({ cmd: 'load', dir: c.dir });
  c.reset();
  const ours = await c.grads();
  const theirs = await peer.call<Record<string, unknown>>({ cmd: 'grads' });
  const theirGrads = (theirs.grads ?? {
    ...(theirs.criticGrads as object),
    ...(theirs.actorGrads as object),
  }) as Record<string, number[]>;
  const lossDiff = Math.max(...Object.entries(ours.losses).map(([k, v]) => scalarDiff(v, theirs[k] as number)));
  const gradDiff = gradsDiff(ours.grads, theirGrads);
  const oursSteps: Record<string, number | null>[] = [];
  for (let k = 0; k < steps; k++) oursSteps.push(await c.step(k));
  const torchSteps = (await peer.call<{ steps: Record<string, number | null>[] }>({ cmd: 'losses', steps })).steps;
  const stepsDiff = Math.max(
    ...oursSteps.flatMap((s, k) =>
      Object.entries(s).map(([name, v]) =>
        v === null || torchSteps[k][name] === null
          ? v === torchSteps[k][name]
            ? 0
            : Infinity
          : scalarDiff(v, torchSteps[k][name]!),
      ),
    ),
  );
  return { lossDiff, gradDiff, stepsDiff, ours: oursSteps, torch: torchSteps };
}

/** Alternates ours and PyTorch, `rounds` times; each sample is the mean update time over `cycle` updates. */
async function timeCase(c: RlCase, peer: RlPeer, rounds: number, cycles: number, cycle: number) {
  const ours: number[] = [];
  const torch: number[] = [];
  let k = 0;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < cycles; i++) {
      const t = performance.now();
      for (let j = 0; j < cycle; j++) await c.step(k++);
      ours.push((performance.now() - t) / cycle);
      const ms = (await peer.call<{ ms: number[] }>({ cmd: 'time', steps: cycle })).ms;
      torch.push(ms.reduce((a, b) => a + b, 0) / cycle);
    }
  }
  return { ours: median(ours), torch: median(torch) };
}

/** Scopes of custom-gradient ops: tf.profile lists them besides their kernels, with those kernels' time in. */
const NESTED = /unnamed scope|forward|__op$/;

/**
 * Our per-kernel time per update (tf.profile over `updates` updates), each kernel's fastest of `runs` profiles so
 * that preemption by other processes does not inflate it; the largest first, then the leaf kernels' total.
 */
async function profileCase(c: RlCase, updates: number, runs: number, top: number): Promise<string[]> {
  const best = new Map<string, { ms: number; calls: number }>();
  for (let r = 0; r < runs; r++) {
    const info = await tf.profile(async () => {
      for (let k = 0; k < updates; k++) await c.step(k);
    });
    const run = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const e = run.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs / updates : 0;
      e.calls += 1 / updates;
      run.set(k.name, e);
    }
    for (const [name, e] of run) if (e.ms < (best.get(name)?.ms ?? Infinity)) best.set(name, e);
  }
  const leaves = [...best.entries()].filter(([name]) => !NESTED.test(name));
  const total = leaves.reduce((n, [, e]) => n + e.ms, 0);
  const calls = leaves.reduce((n, [, e]) => n + e.calls, 0);
  return [
    ...leaves
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(
        ([name, e]) => `  ${name.padEnd(22)} ${e.ms.toFixed(3).padStart(8)} ms ${e.calls.toFixed(1).padStart(6)} calls`,
      ),
    `  leaf kernels: ${total.toFixed(2)} ms in ${calls.toFixed(0)} calls per update`,
  ];
}

export interface RlBenchOptions {
  tiny: boolean;
  rounds: number;
  python: string;
  profile: boolean;
  out: string;
}

/** The cases of the benchmark: PPO at Stable-Baselines3's defaults (64x64, minibatch 256), TD3 at two sizes. */
function benchCases(tiny: boolean): RlCase[] {
  const [small, big, batch] = tiny ? [[8, 8], [16, 12], 16] : [[64, 64], [400, 300], 256];
  return [
    ppoCase('ppo-discrete', { hidden: small, batch, obsSize: 4, action: { kind: 'discrete', n: 2 } }),
    ppoCase('ppo-gaussian', {
      hidden: small,
      batch,
      obsSize: 3,
      action: { kind: 'box', size: 1, low: -2, high: 2 },
    }),
    td3Case(`td3-${small.join('x')}`, { hidden: small, batch }),
    td3Case(`td3-${big.join('x')}`, { hidden: big, batch }),
  ];
}

/** `npm run bench -- --rl`: prints the table and writes the JSON; exit code 1 if any check disagrees. */
export async function runRlBench(o: RlBenchOptions): Promise<void> {
  if (!hasTorch(o.python)) throw new Error(`${o.python} has no torch (Debian: apt install python3-torch)`);
  await initBackend('wasm');
  const peer = new RlPeer(o.python);
  const info = await peer.call<PeerInfo>({ cmd: 'info' });
  const results = [];
  for (const c of benchCases(o.tiny)) {
    log(`${c.key}: ${c.title} ...`);
    const check = await checkCase(c, peer, o.tiny ? 2 : 6);
    // TD3's cycle is its policy delay (2 updates); PPO's update is one minibatch.
    const cycle = c.key.startsWith('td3') ? 2 : 1;
    await timeCase(c, peer, 1, 3, cycle); // warm-up
    const t = await timeCase(c, peer, o.rounds, o.tiny ? 2 : 10, cycle);
    const agree = Math.max(check.lossDiff, check.gradDiff) <= RL_RTOL && check.stepsDiff <= RL_STEPS_RTOL;
    const profile = o.profile ? await profileCase(c, 2 * cycle, 5, 12) : [];
    log(`  ours ${t.ours.toFixed(2)} ms, torch ${t.torch.toFixed(2)} ms (${(t.ours / t.torch).toFixed(2)}x)`);
    for (const line of profile) log(line);
    results.push({ ...c, ...check, oursMs: t.ours, torchMs: t.torch, ratio: t.ours / t.torch, agree, profile });
    c.dispose();
  }
  await peer.close();
  const e = (x: number) => x.toExponential(1);
  const lines = [
    'metalab bench --rl: one update of each learner (forward, backward, Adam; TD3 also its targets), ms per ' +
      `update, median of ${o.rounds} alternating rounds, one thread each side`,
    machineLine(tf.version.tfjs, tf.getBackend(), info),
    '',
    table(
      ['case', 'networks', 'params', 'batch', 'ours ms', 'torch ms', 'ratio', 'loss', 'grads', 'updates', 'agree'],
      results.map((r) => [
        r.key,
        r.network,
        String(r.params),
        String(r.batch),
        r.oursMs.toFixed(2),
        r.torchMs.toFixed(2),
        `${r.ratio.toFixed(2)}x`,
        e(r.lossDiff),
        e(r.gradDiff),
        e(r.stepsDiff),
        r.agree ? 'yes' : 'NO',
      ]),
    ),
    '',
    'loss / grads: largest relative difference of the losses and of any gradient tensor (norm of the difference ' +
      'over the peer norm) on the first minibatch from the same weights; updates: of the losses over the first ' +
      `updates; agree: loss and grads within ${RL_RTOL}, updates within ${RL_STEPS_RTOL}.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  const json = results.map(({ grads, step, reset, dispose, ...r }) => r);
  fs.writeFileSync(o.out, JSON.stringify({ date: new Date().toISOString(), torch: info, results: json }, null, 2));
  log(`written ${o.out}`);
  if (results.some((r) => !r.agree)) process.exitCode = 1;
}
