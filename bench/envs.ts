// `npm run bench -- --envs`: environment steps per second of metalab's batches (main/engine/envs) against the same
// dynamics vectorised in NumPy (bench/peer/envs.py), for each classic-control environment, the continuous-force
// CartPole, point-mass and a 5-armed Bernoulli bandit, at batch 1 and 256, under random actions from a fixed seed
// (drawn before timing). Both sides do the same work per step: dynamics, termination, time limit, auto-reset and
// final observations. Best of three rounds of about half a second per side and configuration; prints a table and
// writes bench/results/envs.json (~1 minute in all).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { rlTask } from '../shared/spec.js';
import { createVecEnv, type VecEnv } from '../main/engine/envs/index.js';
import { Rng } from '../main/engine/rng.js';

const ENVS = [
  'CartPole-v1',
  'Acrobot-v1',
  'MountainCar-v0',
  'MountainCarContinuous-v0',
  'Pendulum-v1',
  'CartPoleContinuous',
  'point-mass',
  'bernoulli-bandit',
] as const;
const BATCHES = [1, 256];
const SECONDS = 0.5;
const ROUNDS = 3;
const POOL = 1024;
const SEED = 0;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Rows of random actions for every slot: indices, or values uniform within the bounds. */
function actionPool(env: VecEnv, rng: Rng): Float32Array[] {
  const a = env.action;
  return Array.from({ length: POOL }, () =>
    a.kind === 'discrete'
      ? Float32Array.from({ length: env.n }, () => rng.int(a.n))
      : Float32Array.from({ length: env.n * a.size }, () => a.low + (a.high - a.low) * rng.next()),
  );
}

/** Our steps per second (environment steps: batch x batch steps) over about SECONDS. */
function ours(name: string, n: number): number {
  const env = createVecEnv(rlTask.parse({ family: 'rl', env: { name } }), SEED, n);
  const pool = actionPool(env, new Rng(SEED));
  env.reset();
  for (let t = 0; t < 200; t++) env.step(pool[t % POOL]);
  let steps = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < SECONDS * 1000) {
    for (let k = 0; k < 100; k++) env.step(pool[steps++ % POOL]);
    elapsed = performance.now() - start;
  }
  return (steps * n) / (elapsed / 1000);
}

interface PeerResult {
  env: string;
  batch: number;
  stepsPerSec: number;
}

function peer(python: string, command: string, request?: object): unknown {
  const run = spawnSync(python, [path.join('bench', 'peer', 'envs.py'), command], {
    input: request ? JSON.stringify(request) : '',
    encoding: 'utf8',
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' },
  });
  if (run.status !== 0) throw new Error(`the NumPy peer failed: ${run.stderr || run.error}`);
  return JSON.parse(run.stdout);
}

const rate = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

export function benchEnvs(python: string): void {
  const info = peer(python, 'info') as { numpy: string; python: string; executable: string };
  log(`NumPy ${info.numpy} (Python ${info.python}, ${info.executable}); ${ROUNDS} rounds of ~${SECONDS} s per side`);
  const best = new Map<string, { ours: number; numpy: number }>();
  const key = (env: string, batch: number) => `${env} ${batch}`;
  for (let round = 0; round < ROUNDS; round++) {
    for (const env of ENVS) {
      for (const n of BATCHES) {
        const b = best.get(key(env, n)) ?? { ours: 0, numpy: 0 };
        b.ours = Math.max(b.ours, ours(env, n));
        best.set(key(env, n), b);
      }
    }
    const request = { envs: ENVS, batches: BATCHES, seconds: SECONDS, seed: SEED };
    for (const r of (peer(python, 'bench', request) as { results: PeerResult[] }).results) {
      const b = best.get(key(r.env, r.batch))!;
      b.numpy = Math.max(b.numpy, r.stepsPerSec);
    }
    log(`round ${round + 1} done`);
  }
  const rows = ENVS.flatMap((env) =>
    BATCHES.map((batch) => {
      const b = best.get(key(env, batch))!;
      return { env, batch, oursStepsPerSec: b.ours, numpyStepsPerSec: b.numpy, ratio: b.ours / b.numpy };
    }),
  );
  const head = ['environment', 'batch', 'ours steps/s', 'NumPy steps/s', 'ours / NumPy'];
  const cells = rows.map((r) => [
    r.env,
    String(r.batch),
    rate(r.oursStepsPerSec),
    rate(r.numpyStepsPerSec),
    `${r.ratio.toFixed(2)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) =>
    `| ${c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join(' | ')} |`;
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    numpy: info.numpy,
    python: info.python,
  };
  process.stdout.write(
    [
      `metalab bench --envs: environment steps per second (batch x batch steps), random actions, best of ${ROUNDS}`,
      `machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}; Node ${machine.node}; ` +
        `NumPy ${info.numpy} (Python ${info.python})`,
      '',
      line(head),
      `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
      ...cells.map(line),
      '',
    ].join('\n'),
  );
  const out = path.join('bench', 'results', 'envs.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const json = { date: new Date().toISOString(), seconds: SECONDS, rounds: ROUNDS, seed: SEED, machine, results: rows };
  fs.writeFileSync(out, JSON.stringify(json, null, 2));
  log(`written ${out}`);
}
