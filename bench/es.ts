// `npm run bench -- --es`: evolution-strategies generations per second on bandits, ours against NumPy. One
// generation of OpenAI-ES as main/engine/rl/es.ts runs it (antithetic noise, the perturbed weights, population x
// batch lifetimes of 100 pulls on 2-armed Bernoulli bandits acted forward-only on typed arrays, centred ranks, Adam)
// for SymLA with one layer, SymLA with a hidden layer and an RL²-style LSTM 32, each with the settings of its
// preset (presets/symla-bandits.json, symla-bandits-hidden.json, es-lstm-bandits.json: population 64, 32 bandits a
// generation), against the same generation vectorised in NumPy over members and lifetimes (bench/peer/symla_es.py),
// from the same initial weights, one thread each side, alternating rounds. Seconds per generation: CPU time of each
// side's process (other processes on the machine barely move it), median over the rounds after a warm-up, the
// wall-clock median beside it. Prints a table and writes es.json (~2 minutes; --tiny: 4 members, 4 bandits, 10
// pulls, a few seconds).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { expandExperiment, runSpec } from '../shared/spec.js';
import { createVecEnv } from '../main/engine/envs/index.js';
import { setUpRl } from '../main/engine/rl/run.js';
import type { Algorithm, RlSpec } from '../main/engine/rl/types.js';
import { table } from './table.js';

export interface EsCase {
  key: string;
  title: string;
  /** The preset (presets/<name>.json) whose task, model, population and batch size the case runs. */
  preset: string;
}

export const ES_CASES: EsCase[] = [
  { key: 'symla', title: 'SymLA, one layer, state 8', preset: 'symla-bandits' },
  { key: 'symla-hidden', title: 'SymLA, hidden [2], state 8', preset: 'symla-bandits-hidden' },
  { key: 'lstm', title: 'LSTM 32 (RL²-style)', preset: 'es-lstm-bandits' },
];

export interface EsBenchOptions {
  tiny: boolean;
  /** Alternations ours / NumPy per case. */
  rounds: number;
  python: string;
  out: string;
}

const PEER = path.join('bench', 'peer', 'symla_es.py');
/** Timed generations per side and round (after one warm-up generation on each side). */
const PER_ROUND = { full: 2, tiny: 1 };
/** What --tiny shrinks: members, bandits a generation, pulls a lifetime. */
const TINY = { population: 4, batchSize: 4, pulls: 10 };

const log = (line: string) => process.stderr.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** The run spec of a case: its preset on tfjs-wasm (at --tiny, a small population, few bandits and pulls). */
export function esSpec(c: EsCase, tiny: boolean): RlSpec {
  const preset = JSON.parse(fs.readFileSync(path.join('presets', `${c.preset}.json`), 'utf8')) as object;
  const expanded = expandExperiment(preset);
  if (!expanded.ok) throw new Error(`presets/${c.preset}.json: ${JSON.stringify(expanded.issues)}`);
  const spec = structuredClone(expanded.runs[0].spec) as RlSpec;
  spec.backend = 'wasm';
  spec.training.steps = 1000; // more than any benchmark runs: the learning rate stays the preset's
  if (tiny) {
    spec.task.algorithm = { ...spec.task.algorithm, population: TINY.population } as RlSpec['task']['algorithm'];
    spec.task.episodesPerTrial = TINY.pulls;
    spec.training.batchSize = TINY.batchSize;
  }
  return runSpec.parse(spec) as RlSpec;
}

// ------------------------------------------------------------------------------------------- the peer

interface PeerInfo {
  numpy: string;
  python: string;
  executable: string;
  blas: string[];
}

interface PeerCase {
  key: string;
  kind: 'symla' | 'lstm';
  model: RlSpec['model'];
  params: { name: string; shape: number[]; values: number[] }[];
  population: number;
  batch: number;
  pulls: number;
  arms: number;
  actions: number;
  observationSize: number;
  sigma: number;
  learningRate: number;
  adamEpsilon: number;
}

interface PeerTimes {
  key: string;
  wall: number[];
  cpu: number[];
  meanReward: number;
}

/** One request to the peer (a process of its own, one BLAS and OpenMP thread). */
function peer(python: string, command: string, request?: object): unknown {
  const run = spawnSync(python, [PEER, command], {
    input: request ? JSON.stringify(request) : '',
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
    env: { ...process.env, OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (run.status !== 0) throw new Error(`the NumPy peer failed: ${run.stderr || run.error}`);
  return JSON.parse(run.stdout);
}

/** What the peer needs to run a case's generations as we do, from our learner's initial weights. */
async function peerCase(c: EsCase, spec: RlSpec, algorithm: Algorithm): Promise<PeerCase> {
  const { task, training, model } = spec;
  if (task.algorithm.kind !== 'es' || task.env.name !== 'bernoulli-bandit')
    throw new Error(`${c.key}: the ES benchmark runs ES on Bernoulli bandits`);
  const env = createVecEnv(task, spec.seed, 1);
  if (env.action.kind !== 'discrete') throw new Error(`${c.key}: bandits have discrete actions`);
  const saved = await algorithm.save();
  const params = saved.tensors
    .filter((t) => t.name.startsWith('param/'))
    .map((t) => ({ name: t.name.slice('param/'.length), shape: t.shape, values: Array.from(t.values) }));
  return {
    key: c.key,
    kind: model.kind === 'symla' ? 'symla' : 'lstm',
    model,
    params,
    population: task.algorithm.population,
    batch: training.batchSize,
    pulls: task.episodesPerTrial,
    arms: task.env.arms,
    actions: env.action.n,
    observationSize: env.observationSize,
    sigma: task.algorithm.sigma,
    learningRate: training.learningRate,
    adamEpsilon: training.adamEpsilon,
  };
}

// ------------------------------------------------------------------------------------------- timing

interface Times {
  wall: number[];
  cpu: number[];
  /** Mean payout per pull of each generation. */
  rewards: number[];
}

/** `count` generations of our learner from generation `from`, each timed in wall-clock and CPU seconds. */
async function ourGenerations(algorithm: Algorithm, from: number, count: number, into: Times): Promise<void> {
  for (let g = from; g < from + count; g++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await algorithm.step(g);
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    into.wall.push(wall);
    into.cpu.push((cpu.user + cpu.system) / 1e6);
    into.rewards.push(report.metrics.train_return ?? Number.NaN);
  }
}

interface CaseResult {
  key: string;
  title: string;
  preset: string;
  model: RlSpec['model'];
  params: number;
  population: number;
  batch: number;
  pulls: number;
  generations: number;
  oursS: number;
  oursWallS: number;
  oursGenPerS: number;
  numpyS: number;
  numpyWallS: number;
  numpyGenPerS: number;
  ratio: number;
  oursReward: number;
  numpyReward: number;
  oursTimes: Times;
  numpyTimes: { wall: number[]; cpu: number[] };
}

async function benchCase(c: EsCase, o: EsBenchOptions): Promise<CaseResult> {
  const spec = esSpec(c, o.tiny);
  const { algorithm } = await setUpRl(spec);
  const request = await peerCase(c, spec, algorithm);
  const perRound = o.tiny ? PER_ROUND.tiny : PER_ROUND.full;
  const ours: Times = { wall: [], cpu: [], rewards: [] };
  const numpy = { wall: [] as number[], cpu: [] as number[], rewards: [] as number[] };
  await ourGenerations(algorithm, 0, 1, { wall: [], cpu: [], rewards: [] }); // warm-up
  for (let round = 0; round < o.rounds; round++) {
    await ourGenerations(algorithm, 1 + round * perRound, perRound, ours);
    const reply = peer(o.python, 'bench', { cases: [request], generations: perRound, warmup: 1, seed: round }) as {
      results: PeerTimes[];
    };
    const r = reply.results[0];
    numpy.wall.push(...r.wall);
    numpy.cpu.push(...r.cpu);
    numpy.rewards.push(r.meanReward);
  }
  algorithm.dispose();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [oursS, numpyS] = [median(ours.cpu), median(numpy.cpu)];
  return {
    key: c.key,
    title: c.title,
    preset: `presets/${c.preset}.json`,
    model: spec.model,
    params: request.params.reduce((n, p) => n + p.values.length, 0),
    population: request.population,
    batch: request.batch,
    pulls: request.pulls,
    generations: ours.cpu.length,
    oursS,
    oursWallS: median(ours.wall),
    oursGenPerS: 1 / oursS,
    numpyS,
    numpyWallS: median(numpy.wall),
    numpyGenPerS: 1 / numpyS,
    ratio: oursS / numpyS,
    oursReward: mean(ours.rewards),
    numpyReward: mean(numpy.rewards),
    oursTimes: ours,
    numpyTimes: { wall: numpy.wall, cpu: numpy.cpu },
  };
}

// ------------------------------------------------------------------------------------------- report

const secs = (x: number) => (x >= 10 ? x.toFixed(1) : x >= 0.1 ? x.toFixed(2) : x.toFixed(3));

export async function runEsBench(o: EsBenchOptions): Promise<void> {
  const started = performance.now();
  const loadBefore = os.loadavg();
  const info = peer(o.python, 'info') as PeerInfo;
  log(`NumPy ${info.numpy} (Python ${info.python}, ${info.executable}); BLAS ${info.blas.join(', ') || 'none found'}`);
  const results: CaseResult[] = [];
  for (const c of ES_CASES) {
    log(`${c.key}: ${c.title} (presets/${c.preset}.json) ...`);
    const r = await benchCase(c, o);
    log(`  ours ${secs(r.oursS)} s, NumPy ${secs(r.numpyS)} s per generation (${r.ratio.toFixed(2)}x)`);
    results.push(r);
  }
  const wallS = (performance.now() - started) / 1000;
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    numpy: info.numpy,
    python: info.python,
    blas: info.blas,
  };
  const first = results[0];
  const lines = [
    `metalab bench --es${o.tiny ? ' --tiny' : ''}: one ES generation (population ${first.population}, ` +
      `${first.batch} bandits of 2 arms x ${first.pulls} pulls), seconds per generation, median of ` +
      `${first.generations} after a warm-up, ${o.rounds} alternating rounds, one thread each side, ` +
      `${wallS.toFixed(0)} s`,
    `machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}; Node ${machine.node}, ` +
      `tfjs ${machine.tfjs} (${machine.backend}); NumPy ${info.numpy} (Python ${info.python}), BLAS ` +
      `${info.blas.map((b) => path.basename(b)).join(', ') || 'none found'}`,
    '',
    table(
      [
        'case',
        'params',
        'ours s/gen',
        'ours gen/s',
        'NumPy s/gen',
        'NumPy gen/s',
        'ratio',
        'wall ours',
        'wall NumPy',
        'reward ours',
        'NumPy',
      ],
      results.map((r) => [
        r.title,
        String(r.params),
        secs(r.oursS),
        r.oursGenPerS.toFixed(2),
        secs(r.numpyS),
        r.numpyGenPerS.toFixed(2),
        `${r.ratio.toFixed(2)}x`,
        secs(r.oursWallS),
        secs(r.numpyWallS),
        r.oursReward.toFixed(3),
        r.numpyReward.toFixed(3),
      ]),
    ),
    '',
    's/gen: CPU seconds of the process per generation (gen/s its inverse); ratio = ours / NumPy; wall: the ' +
      'wall-clock median. reward: mean payout per pull over the timed generations, from the same initial weights ' +
      '(other random draws: close, not equal).',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const json = {
    date: new Date().toISOString(),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
    tiny: o.tiny,
    rounds: o.rounds,
    generationsPerRound: o.tiny ? PER_ROUND.tiny : PER_ROUND.full,
    timing: 'CPU seconds of each side process per generation (process.cpuUsage, time.process_time); wall beside',
    wallS,
    machine,
    results,
  };
  fs.mkdirSync(path.dirname(o.out), { recursive: true });
  fs.writeFileSync(o.out, JSON.stringify(json, null, 2));
  log(`written ${o.out}`);
}
