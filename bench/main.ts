// `npm run bench`: metalab's training step (tfjs-wasm, one thread) against the same step in PyTorch on the
// CPU (one thread), on the reference configurations of bench/configs.ts, in one invocation, alternating.
// Prints a table and writes bench/results/bench.json. Options (after `npm run bench --`):
//   --tiny               tiny models, 2 loss-check steps, short timing (the CI smoke test)
//   --backend NAME       our side's backend (default wasm; webgpu: on a hardware adapter, see scripts/gpu-check)
//   --no-peer            our side only (no PyTorch: its columns are empty, the losses are not compared)
//   --only a,b           only these configurations (transformer, lstm, vsml, regression; with --metagenrl: lab,
//                        reference, reference-cheetah)
//   --check-steps N      training steps from the shared initial weights whose losses are compared (default 5)
//   --rounds R           alternations ours/PyTorch per configuration (default 5)
//   --no-sweep           skip the sweep-throughput measurement (it needs `npm run build`)
//   --no-curve           skip the cost curve
//   --profile            also print our per-kernel profile of every configuration
//   --out FILE           where the JSON goes (default bench/results/bench.json)
//   --python PATH        the Python with python3-torch (default /usr/bin/python3)
//   --rl                 instead: the RL learners' update step against PyTorch (bench/rl.ts; writes rl.json)
//   --metagenrl          instead: a MetaGenRL update against PyTorch (bench/metagenrl.ts; writes metagenrl.json)
//   --envs               instead: environment steps/s against NumPy (bench/envs.ts; writes envs.json)
//   --es                 instead: evolution-strategies generations/s of SymLA and an LSTM on bandits against NumPy
//                        (bench/es.ts; writes es.json; ~2 min, --tiny ~5 s)
//   --store              instead: the metric store's writes and reads at any history length, before and after its
//                        levels (bench/store.ts; writes store.json; ~8 min, --tiny ~10 s)
//   --keep               with --store: keep its databases (in a temporary folder, named on stderr)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import Database from 'better-sqlite3';
import { TRAINING_METRICS } from '../shared/metrics.js';
import { initBackend, startedWebGpuAdapter } from '../main/engine/backends.js';
import { learningRateAt } from '../main/engine/optimizer.js';
import { median } from '../main/engine/plan.js';
import { benchConfigs, type BenchConfig } from './configs.js';
import { benchEnvs } from './envs.js';
import { runEsBench } from './es.js';
import { stepFlops } from './flops.js';
import { setUp, type OurRun } from './ours.js';
import { profile } from './profile.js';
import { runMetaGenRLBench } from './metagenrl.js';
import { runRlBench } from './rl.js';
import { runStoreBench } from './store.js';
import { table } from './table.js';
import { ExportData, TorchPeer } from './torchPeer.js';

const { values: opts } = parseArgs({
  options: {
    tiny: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'wasm' },
    'no-peer': { type: 'boolean', default: false },
    only: { type: 'string' },
    'check-steps': { type: 'string' },
    rounds: { type: 'string' },
    'no-sweep': { type: 'boolean', default: false },
    'no-curve': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join('bench', 'results', 'bench.json') },
    python: { type: 'string', default: '/usr/bin/python3' },
    rl: { type: 'boolean', default: false },
    metagenrl: { type: 'boolean', default: false },
    envs: { type: 'boolean', default: false },
    es: { type: 'boolean', default: false },
    store: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const tiny = opts.tiny;
const CHECK_STEPS = Number(opts['check-steps'] ?? (tiny ? 2 : 5));
const ROUNDS = Number(opts.rounds ?? (tiny ? 2 : 5));
/**
 * Losses of the two sides after the same steps must agree to this relative tolerance (float32, other summation orders).
 */
const LOSS_RTOL = 2e-3;
const EXPORT_DIR = path.join('bench', 'results', 'export');

const log = (line: string) => process.stderr.write(`${line}\n`);

// ------------------------------------------------------------------------------------------- export

/**
 * Writes what the peer needs to run `config` as we do: spec, shapes, initial weights, constants, batches, learning
 * rates.
 */
async function exportRun(run: OurRun, batches: number, dir: string): Promise<void> {
  const data = new ExportData();
  const params = (await run.weights()).map((w) => ({ name: w.name, ...data.put(w.values, w.shape) }));
  const constants = (run.model.constants ?? []).map((c) => ({ name: c.name, ...data.put(c.values, c.shape) }));
  const { task, config } = run;
  const list = [];
  for (let k = 0; k < batches; k++) {
    const b = await run.sample(k);
    list.push({
      inputs: data.put(b.inputs, [b.batch, task.seqLen, task.inputDim]),
      targets: data.put(b.targets, [b.batch, task.seqLen]),
    });
  }
  data.write(dir, {
    key: config.key,
    spec: config.spec,
    objective: task.objective,
    shape: { inputDim: task.inputDim, outputDim: task.outputDim, seqLen: task.seqLen, feedback: task.feedback },
    params,
    constants,
    batches: list,
    learningRates: Array.from({ length: 256 }, (_, k) => learningRateAt(k, config.spec.training)),
  });
}

// ------------------------------------------------------------------------------------------- measurements

/**
 * fp32 matMul peak of our backend (on wasm: XNNPACK): the fastest of `reps` n x n products, so noise from other
 * processes does not lower it. Read back asynchronously: webgpu cannot read synchronously under Node.
 */
async function ourPeak(n = 1024, reps = 10): Promise<number> {
  const a = tf.randomNormal([n, n]) as tf.Tensor2D;
  const b = tf.randomNormal([n, n]) as tf.Tensor2D;
  let best = Infinity;
  for (let i = 0; i < reps + 2; i++) {
    const t = performance.now();
    const c = tf.matMul(a, b);
    await c.data();
    if (i >= 2) best = Math.min(best, performance.now() - t);
    c.dispose();
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (best / 1000) / 1e9;
}

interface Timing {
  ours: number[];
  torch: number[];
}

/** Alternates ours and PyTorch (if any), `rounds` times `steps` timed steps each, after both are warm. */
async function timeBoth(run: OurRun, peer: TorchPeer | null, rounds: number, steps: number): Promise<Timing> {
  const out: Timing = { ours: [], torch: [] };
  const batches = [await run.sample(0), await run.sample(1)];
  let stepIndex = 100; // past any warm-up: the full learning rate
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      await run.step(batches[stepIndex % 2], stepIndex);
      out.ours.push(performance.now() - t);
      stepIndex += 1;
    }
    if (peer) out.torch.push(...(await peer.call<{ ms: number[] }>({ cmd: 'time', steps })).ms);
  }
  return out;
}

/** How long one batch takes to sample (the training loop does it before every step). */
async function sampleMs(run: OurRun, count: number): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < count; k++) {
    const t = performance.now();
    await run.sample(1000 + k);
    times.push(performance.now() - t);
  }
  return median(times);
}

interface ConfigResult {
  key: string;
  title: string;
  source: string;
  model: string;
  paramCount: number;
  stateSize: number;
  batch: number;
  seqLen: number;
  gflopPerStep: number;
  oursMs: number;
  torchMs: number;
  ratio: number;
  oursGflops: number;
  torchGflops: number;
  sampleMs: number;
  sampleShare: number;
  lossesOurs: number[];
  lossesTorch: number[];
  gradNormsOurs: number[];
  gradNormsTorch: number[];
  maxLossRelDiff: number;
  lossesAgree: boolean;
  timesOurs: number[];
  timesTorch: number[];
}

function modelLabel(spec: BenchConfig['spec']): string {
  const m = spec.model;
  if (m.kind === 'transformer') return `transformer d${m.dModel} L${m.layers} h${m.heads}`;
  if (m.kind === 'lstm') return `lstm h${m.hidden} L${m.layers}`;
  if (m.kind === 'vsml') return `vsml S${m.stateSize} M${m.messageSize} ticks${m.ticks}`;
  return m.kind;
}

async function benchConfig(config: BenchConfig, peer: TorchPeer | null): Promise<ConfigResult> {
  const run = await setUp(config);
  const dir = path.join(EXPORT_DIR, config.key);
  await exportRun(run, Math.max(CHECK_STEPS, 2), dir);
  const { spec } = config;
  const shape = {
    batch: spec.training.batchSize,
    seqLen: run.task.seqLen,
    inputDim: run.task.inputDim,
    outputDim: run.task.outputDim,
    feedback: run.task.feedback,
  };
  const flops = stepFlops(spec, shape);

  // The same steps from the same weights on the same batches: the losses must agree.
  const lossesOurs: number[] = [];
  const gradNormsOurs: number[] = [];
  for (let k = 0; k < CHECK_STEPS; k++) {
    const r = await run.step(await run.sample(k), k);
    lossesOurs.push(r.loss);
    gradNormsOurs.push(r.gradNorm);
  }
  await peer?.call({ cmd: 'load', dir });
  const check = peer
    ? await peer.call<{ losses: number[]; gradNorms: number[] }>({ cmd: 'losses', steps: CHECK_STEPS })
    : { losses: lossesOurs.map(() => NaN), gradNorms: gradNormsOurs.map(() => NaN) };
  const maxLossRelDiff = Math.max(
    ...lossesOurs.map((l, k) => Math.abs(l - check.losses[k]) / Math.max(Math.abs(check.losses[k]), 1e-6)),
  );

  // Warm-up is done (the check steps); a first ours/torch pass sizes the rounds to ~4 s per side per configuration.
  const probe = await timeBoth(run, peer, 1, 1);
  const slowest = Math.max(probe.ours[0], probe.torch[0] ?? 0);
  const steps = tiny ? 2 : Math.max(1, Math.min(8, Math.round(4000 / ROUNDS / slowest)));
  const timing = await timeBoth(run, peer, ROUNDS, steps);
  const oursMs = median(timing.ours);
  const torchMs = median(timing.torch);
  const sample = await sampleMs(run, tiny ? 3 : 15);
  const result: ConfigResult = {
    key: config.key,
    title: config.title,
    source: config.source,
    model: modelLabel(spec),
    paramCount: run.model.paramCount,
    stateSize: run.model.stateSize,
    batch: shape.batch,
    seqLen: shape.seqLen,
    gflopPerStep: flops / 1e9,
    oursMs,
    torchMs,
    ratio: oursMs / torchMs,
    oursGflops: flops / 1e6 / oursMs,
    torchGflops: flops / 1e6 / torchMs,
    sampleMs: sample,
    sampleShare: sample / (sample + oursMs),
    lossesOurs,
    lossesTorch: check.losses,
    gradNormsOurs,
    gradNormsTorch: check.gradNorms,
    maxLossRelDiff,
    lossesAgree: !peer || maxLossRelDiff <= LOSS_RTOL,
    timesOurs: timing.ours,
    timesTorch: timing.torch,
  };
  run.dispose();
  return result;
}

/** Step time as sequence length and model width grow (GPICL Transformer shape), both sides. */
async function costCurve(
  peer: TorchPeer,
): Promise<{ seqLen: number; dModel: number; oursMs: number; torchMs: number; ratio: number }[]> {
  const base = benchConfigs(tiny, opts.backend)[0];
  const points = tiny
    ? [
        { seqLen: 4, dModel: 16 },
        { seqLen: 8, dModel: 16 },
      ]
    : [12, 24, 48, 96]
        .map((seqLen) => ({ seqLen, dModel: 64 }))
        .concat([32, 128].map((dModel) => ({ seqLen: 24, dModel })));
  const out = [];
  for (const p of points) {
    const spec = structuredClone(base.spec);
    (spec.task as { seqLen: number }).seqLen = p.seqLen;
    (spec.model as { dModel: number }).dModel = p.dModel;
    const config = { ...base, key: `curve-T${p.seqLen}-d${p.dModel}`, spec };
    const run = await setUp(config);
    const dir = path.join(EXPORT_DIR, config.key);
    await exportRun(run, 2, dir);
    await peer.call({ cmd: 'load', dir });
    await run.step(await run.sample(0), 0);
    await peer.call({ cmd: 'time', steps: 1 });
    const probe = await timeBoth(run, peer, 1, 1);
    const steps = tiny ? 1 : Math.max(1, Math.min(6, Math.round(1500 / 3 / Math.max(probe.ours[0], probe.torch[0]))));
    const t = await timeBoth(run, peer, 3, steps);
    const [oursMs, torchMs] = [median(t.ours), median(t.torch)];
    out.push({ ...p, oursMs, torchMs, ratio: oursMs / torchMs });
    log(`  curve T ${p.seqLen} d ${p.dModel}: ours ${oursMs.toFixed(1)} ms, torch ${torchMs.toFixed(1)} ms`);
    run.dispose();
  }
  return out;
}

// ------------------------------------------------------------------------------------------- sweeps

/** Descendant process ids of `pid` (Linux /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Whether a process runs the training worker (dist/main/worker.cjs). */
function isWorker(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('worker.cjs');
  } catch {
    return false;
  }
}

/** Peak resident memory (VmHWM) of a process, in MiB, or null if it is gone. */
function peakRss(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

interface SweepResult {
  concurrency: number;
  runs: number;
  stepsPerRun: number;
  wallS: number;
  stepsPerSec: number;
  medianStepMs: number;
  workerPeakMiB: number[];
}

/** A sweep of `runs` GPICL Transformer runs through the real CLI, scheduler and worker processes. */
async function sweep(concurrency: number, runs: number, steps: number): Promise<SweepResult> {
  const cli = path.join('bin', 'metalab.cjs');
  if (!fs.existsSync(path.join('dist', 'main', 'cli.cjs')))
    throw new Error('dist/main/cli.cjs is missing: run `npm run build:main` first');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'metalab-bench-'));
  const base = JSON.parse(fs.readFileSync(path.join('examples', 'gpicl-transformer.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const rates = Array.from({ length: runs }, (_, i) => 0.001 * (1 + i / 10));
  const specFile = path.join(home, 'sweep.json');
  const spec = {
    ...base,
    name: `bench sweep x${concurrency}`,
    training: { ...base.training, steps, checkpointEvery: steps },
    evaluation: { every: steps, sequences: 32 },
    ...(tiny
      ? { task: { ...base.task, seqLen: 6 }, model: { kind: 'transformer', dModel: 16, layers: 1, heads: 2 } }
      : {}),
    sweep: { axes: [{ path: 'training.learningRate', values: rates }] },
  };
  fs.writeFileSync(specFile, JSON.stringify(spec));
  const started = performance.now();
  const proc = spawn(
    process.execPath,
    [cli, 'run', specFile, '--backend', opts.backend!, '--concurrency', String(concurrency)],
    {
      env: { ...process.env, METALAB_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const peaks = new Map<number, number>();
  const poll = setInterval(() => {
    for (const pid of descendants(proc.pid!)) {
      if (!isWorker(pid)) continue;
      const rss = peakRss(pid);
      if (rss !== null) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rss));
    }
  }, 100);
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  clearInterval(poll);
  const wallS = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`metalab run exited with ${code}:\n${output.slice(-3000)}`);
  const db = new Database(path.join(home, 'metalab.db'), { readonly: true });
  const times = (
    db.prepare('SELECT value FROM metrics WHERE key = ? AND step > 3').all(TRAINING_METRICS.stepTimeMs.key) as {
      value: number;
    }[]
  ).map((r) => r.value);
  db.close();
  fs.rmSync(home, { recursive: true, force: true });
  return {
    concurrency,
    runs,
    stepsPerRun: steps,
    wallS,
    stepsPerSec: (runs * steps) / wallS,
    medianStepMs: median(times),
    workerPeakMiB: [...peaks.values()].sort((a, b) => b - a),
  };
}

// ------------------------------------------------------------------------------------------- report

/** What the PyTorch peer says of itself. */
interface PeerInfo {
  torch: string;
  python: string;
  executable: string;
  threads: number;
  blas: string[];
  blasThreads: number | null;
  blasInfo: string | null;
}
const NO_PEER: PeerInfo = {
  torch: 'none',
  python: '-',
  executable: '-',
  threads: 0,
  blas: [],
  blasThreads: null,
  blasInfo: null,
};

const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');

async function main(): Promise<void> {
  if (opts.help) {
    // The header comment, up to the first line that is not one.
    const lines = fs.readFileSync(path.join('bench', 'main.ts'), 'utf8').split('\n');
    const header = lines.slice(
      0,
      lines.findIndex((l) => !l.startsWith('//')),
    );
    process.stdout.write(`${header.map((l) => l.replace(/^\/\/ ?/, '')).join('\n')}\n`);
    return;
  }
  if (opts.envs) return benchEnvs(opts.python!);
  if (opts.es) {
    const out = path.join(path.dirname(opts.out!), 'es.json');
    return runEsBench({ tiny, rounds: ROUNDS, python: opts.python!, out });
  }
  if (opts.store) {
    return runStoreBench({ tiny, keep: opts.keep!, out: path.join(path.dirname(opts.out!), 'store.json') });
  }
  if (opts.rl) {
    const out = path.join(path.dirname(opts.out!), 'rl.json');
    return runRlBench({ tiny, rounds: ROUNDS, python: opts.python!, profile: opts.profile!, out });
  }
  if (opts.metagenrl) {
    const out = path.join(path.dirname(opts.out!), 'metagenrl.json');
    const only = opts.only?.split(',');
    return runMetaGenRLBench({ tiny, rounds: ROUNDS, python: opts.python!, profile: opts.profile!, only, out });
  }
  const configs = benchConfigs(tiny, opts.backend).filter((c) => !opts.only || opts.only.split(',').includes(c.key));
  const peer = opts['no-peer'] ? null : new TorchPeer(opts.python, path.join('bench', 'peer', 'peer.py'));
  const info: PeerInfo = peer ? await peer.call<PeerInfo>({ cmd: 'info' }) : NO_PEER;
  if (peer) {
    log(
      `PyTorch ${info.torch} (Python ${info.python}, ${info.executable}), ${info.threads} thread; BLAS: ` +
        `${info.blas.join(', ') || 'none found'} (${info.blasThreads ?? '?'} thread)`,
    );
    if (!info.blas.some((l) => l.includes('openblas')))
      log('warning: PyTorch is not using OpenBLAS (install libopenblas0-pthread): its reference BLAS is ~7x slower');
  }

  const backend = await initBackend(configs[0].spec.backend);
  const adapter = backend === 'webgpu' ? startedWebGpuAdapter() : null;
  if (adapter) log(`webgpu adapter: ${adapter.label}${adapter.software ? ' (software)' : ''}`);
  const oursPeak = await ourPeak(tiny ? 256 : 1024, tiny ? 3 : 8);
  const torchPeak = peer
    ? (await peer.call<{ gflops: number }>({ cmd: 'peak', n: tiny ? 256 : 1024, reps: tiny ? 3 : 10 })).gflops
    : NaN;
  log(
    `fp32 matMul peak (${tiny ? 256 : 1024}^2, one thread): tfjs-${backend} ${f(oursPeak)} GFLOP/s, PyTorch ` +
      `${f(torchPeak)} GFLOP/s`,
  );

  const results: ConfigResult[] = [];
  for (const config of configs) {
    log(`${config.key}: ${config.title} ...`);
    const r = await benchConfig(config, peer);
    log(
      `  ours ${f(r.oursMs)} ms, torch ${f(r.torchMs)} ms (${f(r.ratio, 2)}x); losses after ${CHECK_STEPS} steps ` +
        `${f(r.lossesOurs.at(-1)!, 5)} / ${f(r.lossesTorch.at(-1)!, 5)}`,
    );
    results.push(r);
  }
  const curve = opts['no-curve'] || !peer ? [] : await costCurve(peer);
  await peer?.close();

  const sweeps: SweepResult[] = [];
  if (!opts['no-sweep']) {
    const [runs, steps] = tiny ? [2, 4] : [4, 150];
    for (const c of [1, 2]) {
      log(`sweep: ${runs} runs x ${steps} steps, ${c} worker${c > 1 ? 's' : ''} at a time ...`);
      sweeps.push(await sweep(c, runs, steps));
    }
  }
  const profiles = opts.profile
    ? await profile(
        configs.map((c) => c.key),
        tiny,
        opts.backend,
      )
    : undefined;

  const load = os.loadavg();
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: load.map((l) => Number(l.toFixed(2))),
    node: process.version,
    tfjs: tf.version.tfjs,
    backend: tf.getBackend(),
    webgpuAdapter: adapter,
    torch: info.torch,
    python: info.python,
    blas: info.blas,
    blasThreads: info.blasThreads,
    // wasmPeakGflops on wasm, webgpuPeakGflops on webgpu: our side's peak under its backend's name.
    [`${backend}PeakGflops`]: oursPeak,
    torchPeakGflops: torchPeak,
  };

  const mainTable = table(
    [
      'configuration',
      'model',
      'params',
      'ours ms',
      'torch ms',
      'ratio',
      'ours GFLOP/s',
      'torch GFLOP/s',
      'sampling',
      `loss@${CHECK_STEPS} ours`,
      'torch',
      'agree',
    ],
    results.map((r) => [
      r.key,
      r.model,
      String(r.paramCount),
      f(r.oursMs),
      f(r.torchMs),
      peer ? `${f(r.ratio, 2)}x` : '-',
      `${f(r.oursGflops)} (${f((100 * r.oursGflops) / oursPeak, 0)}%)`,
      `${f(r.torchGflops)} (${f((100 * r.torchGflops) / torchPeak, 0)}%)`,
      `${f(r.sampleMs, 2)} ms (${f(100 * r.sampleShare)}%)`,
      f(r.lossesOurs.at(-1)!, 5),
      f(r.lossesTorch.at(-1)!, 5),
      !peer ? '-' : `${r.lossesAgree ? 'yes' : 'NO'} (${r.maxLossRelDiff.toExponential(1)})`,
    ]),
  );
  const out: string[] = [
    `metalab bench${tiny ? ' --tiny' : ''}: one training step (forward, backward, clip, Adam), median of ` +
      `${ROUNDS} alternating rounds, one thread each side`,
    `machine: ${machine.cpu}, ${machine.cores} cores, load ${machine.loadAverage.join(' ')}; Node ${machine.node}, ` +
      `tfjs ${machine.tfjs} (${machine.backend}); PyTorch ${info.torch}, BLAS ` +
      `${info.blas.map((b) => path.basename(b)).join(', ')}`,
    `fp32 matMul peak: tfjs-${backend} ${f(oursPeak)} GFLOP/s, PyTorch ${f(torchPeak)} GFLOP/s (ratio ` +
      `${f(torchPeak / oursPeak, 2)})`,
    '',
    mainTable,
    '',
    `ratio = ours / torch. GFLOP/s: matrix-product FLOPs of the step (forward + backward) per second (% of that ` +
      `side's peak). sampling: drawing one batch (ours), share of sampling + step. Losses after ${CHECK_STEPS} steps ` +
      `from the same initial weights on the same batches; agree = max relative difference over the steps <= ` +
      `${LOSS_RTOL}.`,
  ];
  if (curve.length) {
    out.push('', 'Cost curve (GPICL Transformer; batch and layers as (a)):', '');
    out.push(
      table(
        ['seqLen', 'dModel', 'ours ms', 'torch ms', 'ratio'],
        curve.map((c) => [String(c.seqLen), String(c.dModel), f(c.oursMs), f(c.torchMs), `${f(c.ratio, 2)}x`]),
      ),
    );
  }
  if (sweeps.length) {
    out.push('', 'Sweep throughput (metalab run, real scheduler and worker processes, one thread each):', '');
    out.push(
      table(
        ['workers', 'runs x steps', 'wall s', 'steps/s', 'speed-up', 'median step ms', 'peak MiB per worker'],
        sweeps.map((s) => [
          String(s.concurrency),
          `${s.runs} x ${s.stepsPerRun}`,
          f(s.wallS),
          f(s.stepsPerSec, 2),
          `${f(s.stepsPerSec / sweeps[0].stepsPerSec, 2)}x`,
          f(s.medianStepMs),
          s.workerPeakMiB.map((m) => f(m, 0)).join(', '),
        ]),
      ),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);

  const json = {
    date: new Date().toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    tiny,
    checkSteps: CHECK_STEPS,
    rounds: ROUNDS,
    lossRelTolerance: LOSS_RTOL,
    machine,
    configs: results,
    curve,
    sweeps,
    profiles,
  };
  fs.mkdirSync(path.dirname(opts.out!), { recursive: true });
  fs.writeFileSync(opts.out!, JSON.stringify(json, null, 2));
  log(`written ${opts.out}`);
  if (results.some((r) => !r.lossesAgree)) process.exitCode = 1;
}

void (async () => {
  try {
    await main();
  } catch (err) {
    log(`bench failed: ${(err as Error).stack ?? err}`);
    // Now: the PyTorch peer, still running, would keep the process alive.
    process.exit(1);
  }
})();
