// `npm run bench -- --store` (issue 17): builds a metric store through the Store's own API, filled as the lab's
// workers fill it (metric batches of ~2,000 rows, evaluation curves every 250 steps), then times the reads the pages
// make: getSeries from the levels beside getSeriesRaw (the same buckets from the raw points: what every read cost
// before the levels), which must return identical points; the same over the web host's WebSocket while 2 real runs
// train; Compare; the runs list; and the same reads on a variant of 100k-step runs. Prints a Markdown table and
// writes store.json. The databases live in a temporary folder, removed at the end unless `keep`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { createBirpc } from 'birpc';
import WebSocket from 'ws';
import type { EvalCurve, LabApi, LabEvents, Series, SeriesOptions } from '../shared/api.js';
import { evalMetricKey, type MetricRow, TRAINING_METRICS } from '../shared/metrics.js';
import { classification } from '../shared/objectives/classification.js';
import { SPLITS } from '../shared/objectives/index.js';
import { PHASE_LABELS, phaseCode, type RunSummary } from '../shared/results.js';
import { expandExperiment } from '../shared/spec.js';
import { decode, encode } from '../shared/wire.js';
import { Rng, seedFrom } from '../main/engine/rng.js';
import { type RunRecord, summarize } from '../main/engine/summarize.js';
import { Lab } from '../main/services/lab.js';
import { databaseFile, rendererDir, workerScript } from '../main/services/paths.js';
import { Store } from '../main/services/store/index.js';
import { forkLauncher } from '../main/services/workers.js';
import { startWebHost } from '../main/web/server.js';
import { table } from './table.js';

interface Shape {
  experiments: number;
  runsPerExperiment: number;
  steps: number;
}

const SHAPES: Record<'full' | 'tiny', { main: Shape; long: Shape; sampleRuns: number }> = {
  // The issue's store (24.1M points), and 64 runs of 100k steps: enough runs for the 64-run read (~39M points).
  full: {
    main: { experiments: 10, runsPerExperiment: 20, steps: 20_000 },
    long: { experiments: 4, runsPerExperiment: 16, steps: 100_000 },
    sampleRuns: 10,
  },
  tiny: {
    main: { experiments: 2, runsPerExperiment: 2, steps: 2_000 },
    long: { experiments: 1, runsPerExperiment: 2, steps: 20_000 },
    sampleRuns: 2,
  },
};

/** main/worker/index.ts sends a run's metrics once 2,000 rows are pending (or 250 ms passed): a fast run's batches. */
const FLUSH_ROWS = 2000;
/** The spec's default evaluation interval, and the GPICL example's sequence length (each curve's length). */
const EVAL_EVERY = 250;
const SEQ_LEN = 24;
/** What the pages request (CompareView: 64 runs at most, 800 points; run views and the issue's table: 1000). */
const COMPARE_POINTS = 800;
const CHART_POINTS = 1000;
const CHART_KEYS = [TRAINING_METRICS.loss.key, classification.stepMetrics[0].key, TRAINING_METRICS.gradNorm.key];

/** The issue's targets (on its 2-core machine; the WebSocket ones while 2 runs train). */
const TARGETS = {
  series: { stat: 'p50', ms: 30 },
  sixtyFour: { stat: 'p50', ms: 100 },
  webSocketSeries: { stat: 'p95', ms: 60 },
  webSocketList: { stat: 'p95', ms: 20 },
  rowsPerSec: 300_000,
  levelsGrowth: 0.15,
} as const;

const log = (line: string) => process.stderr.write(`${line}\n`);
const f32 = Math.fround;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ------------------------------------------------------------------------------------------- the data

interface RunSink {
  metrics(rows: MetricRow[]): void;
  evaluation(curves: EvalCurve[]): void;
}

/**
 * One GPICL classification run's records in the order its worker sends them (6 step metrics per step; every
 * EVAL_EVERY steps the curves of two splits, then their figures and the phase), float32 values as the engine's;
 * returns the summary the worker sends at the end.
 */
function simulateRun(seed: number, steps: number, sink: RunSink): RunSummary {
  const rng = new Rng(seed);
  const m = TRAINING_METRICS;
  const info = classification;
  const baseline = info.baselines[0].name;
  const learner = info.baselineFigures(baseline);
  let pending: MetricRow[] = [];
  const push = (rows: MetricRow[]) => {
    pending.push(...rows);
    if (pending.length >= FLUSH_ROWS) {
      sink.metrics(pending);
      pending = [];
    }
  };
  const losses: number[] = [];
  let lastEvaluation: RunRecord['lastEvaluation'] = null;
  for (let step = 1; step <= steps; step++) {
    const progress = 1 - Math.exp((-5 * step) / steps);
    const loss = f32(1.6 - 1.2 * progress + 0.08 * rng.normal());
    const ms = f32(18 + 4 * rng.next());
    losses.push(loss);
    push([
      [m.loss.key, step, loss],
      [info.stepMetrics[0].key, step, f32(0.2 + 0.6 * progress + 0.05 * rng.normal())],
      [m.learningRate.key, step, f32(0.001 * Math.min(1, step / 100))],
      [m.gradNorm.key, step, f32(0.5 + Math.abs(rng.normal()))],
      [m.stepTimeMs.key, step, ms],
      [m.examplesPerSec.key, step, f32((64 * SEQ_LEN * 1000) / ms)],
    ]);
    if (step % EVAL_EVERY !== 0 && step !== steps) continue;
    const curve = (height: number) => Array.from({ length: SEQ_LEN }, (_, t) => f32(height * (0.5 + t / SEQ_LEN)));
    const splits = [SPLITS.seen, SPLITS.unseen];
    sink.evaluation(
      splits.flatMap((split) => [
        { step, split, metric: info.curve.name, values: curve(progress) },
        { step, split, metric: info.extraCurves[0].name, values: curve(1 - progress) },
        // Baseline curves do not change with training: the first evaluation stores them, at step 0.
        ...(step === EVAL_EVERY ? [{ step: 0, split, metric: info.baselineCurve(baseline), values: curve(0.5) }] : []),
      ]),
    );
    const figures: Record<string, number> = {};
    for (const split of splits) {
      for (const name of [info.figures.last, info.figures.mean, info.figures.improvement, info.figures.others[0]]) {
        figures[evalMetricKey(split, name.name)] = f32(progress * rng.next());
      }
      for (const name of [learner.last, learner.improvement])
        figures[evalMetricKey(split, name.name)] = f32(rng.next());
    }
    const phase = PHASE_LABELS[Math.min(PHASE_LABELS.length - 1, Math.floor(progress * PHASE_LABELS.length))];
    push(
      [...Object.entries(figures), [m.phase.key, phaseCode(phase)] as const].map(([k, v]): MetricRow => [k, step, v]),
    );
    lastEvaluation = { figures, phase, confidence: 1 };
  }
  if (pending.length) sink.metrics(pending);
  return summarize({ steps, backend: 'wasm', paramCount: 105_413, stateSize: 0, losses, lastEvaluation });
}

/** A GPICL Transformer experiment of `runs` runs (a learning-rate sweep) of `steps` steps, expanded. */
function experimentSpec(name: string, runs: number, steps: number) {
  const result = expandExperiment({
    name,
    seed: 0,
    task: { family: 'gpicl-classification', dataset: 'mnist', classes: 5, inputDim: 16, seqLen: SEQ_LEN },
    model: { kind: 'transformer', dModel: 64, layers: 2, heads: 4 },
    training: { steps, batchSize: 64, learningRate: 0.001, warmupSteps: 100 },
    evaluation: { every: EVAL_EVERY, learnerBaseline: { optimizer: 'adam', learningRate: 0.03, stepsPerExample: 5 } },
    sweep: {
      axes: [{ path: 'training.learningRate', values: Array.from({ length: runs }, (_, i) => 0.001 * (1 + i / 10)) }],
    },
  });
  if (!result.ok) throw new Error(`bench spec: ${JSON.stringify(result.issues)}`);
  return result;
}

const runSeed = (experiment: number, run: number) => seedFrom('store bench', experiment, run);

interface BuildResult {
  shape: Shape;
  runs: number;
  points: number;
  evalCurves: number;
  /** Time inside appendMetrics (levels included) and putEvalCurves; the build's wall time (generation included). */
  appendS: number;
  evalS: number;
  wallS: number;
  rowsPerSec: number;
  fileBytes: number;
  walBytes: number;
  maxWalBytes: number;
  /** From SQLite's dbstat: every table's and index's pages, and those of metric_levels. */
  pageBytes: number;
  levelsBytes: number;
  /** metric_levels against everything else in the file. */
  levelsGrowth: number;
}

/** Fills a new database at `file` as the workers of finished runs would have; returns its run ids per experiment. */
function build(file: string, shape: Shape, name: string): { store: Store; runIds: number[][]; result: BuildResult } {
  const started = performance.now();
  const store = new Store(file);
  const wal = `${file}-wal`;
  let [points, evalCurves, appendMs, evalMs, maxWal] = [0, 0, 0, 0, 0];
  const runIds: number[][] = [];
  for (let e = 0; e < shape.experiments; e++) {
    const expanded = experimentSpec(`${name} ${e + 1}`, shape.runsPerExperiment, shape.steps);
    const ids = store.createExperiment(expanded.spec, expanded.runs).runIds;
    runIds.push(ids);
    for (const [r, runId] of ids.entries()) {
      store.setRunStatus(runId, 'running', { backend: 'wasm', startedAt: Date.now() });
      const summary = simulateRun(runSeed(e, r), shape.steps, {
        metrics(rows) {
          const t = performance.now();
          store.appendMetrics(runId, rows);
          appendMs += performance.now() - t;
          points += rows.length;
          maxWal = Math.max(maxWal, fs.statSync(wal).size);
        },
        evaluation(curves) {
          const t = performance.now();
          store.putEvalCurves(runId, curves);
          evalMs += performance.now() - t;
          evalCurves += curves.length;
        },
      });
      store.putSummary(runId, summary);
      store.setRunStatus(runId, 'finished', { step: shape.steps, finishedAt: Date.now() });
    }
    log(`  ${name}: experiment ${e + 1} of ${shape.experiments}, ${(points / 1e6).toFixed(1)}M points`);
  }
  const wallS = (performance.now() - started) / 1000;
  const walBytes = fs.statSync(wal).size;
  const pages = store.db.prepare('SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name').all() as {
    name: string;
    bytes: number;
  }[];
  const pageBytes = pages.reduce((s, p) => s + p.bytes, 0);
  const levelsBytes = pages.find((p) => p.name === 'metric_levels')?.bytes ?? 0;
  const result: BuildResult = {
    shape,
    runs: runIds.flat().length,
    points,
    evalCurves,
    appendS: appendMs / 1000,
    evalS: evalMs / 1000,
    wallS,
    rowsPerSec: points / (appendMs / 1000),
    fileBytes: fs.statSync(file).size,
    walBytes,
    maxWalBytes: maxWal,
    pageBytes,
    levelsBytes,
    levelsGrowth: levelsBytes / (pageBytes - levelsBytes),
  };
  return { store, runIds, result };
}

interface InsertSample {
  runs: number;
  points: number;
  /** rows/s: raw points only (appendMetrics before the levels), and appendMetrics with its levels. */
  beforeRowsPerSec: number;
  afterRowsPerSec: number;
}

/**
 * The same batches into two new databases, run by run alternately: one by the insert appendMetrics made before the
 * levels (INSERT OR REPLACE of each row in one transaction), one by appendMetrics.
 */
function insertSample(dir: string, runs: number, steps: number): InsertSample {
  const stores = ['before', 'after'].map((side) => new Store(path.join(dir, side, 'metalab.db')));
  const expanded = experimentSpec('insert sample', runs, steps);
  const [beforeIds, afterIds] = stores.map((s) => s.createExperiment(expanded.spec, expanded.runs).runIds);
  const raw = stores[0].db.prepare('INSERT OR REPLACE INTO metrics (run_id, key, step, value) VALUES (?, ?, ?, ?)');
  const insertRaw = stores[0].db.transaction((runId: number, rows: MetricRow[]) => {
    for (const [key, step, value] of rows) raw.run(runId, key, step, Number.isFinite(value) ? value : null);
  });
  let [points, beforeMs, afterMs] = [0, 0, 0];
  for (let r = 0; r < runs; r++) {
    const batches: MetricRow[][] = [];
    simulateRun(runSeed(0, r), steps, { metrics: (rows) => batches.push(rows), evaluation: () => undefined });
    let t = performance.now();
    for (const rows of batches) insertRaw(beforeIds[r], rows);
    beforeMs += performance.now() - t;
    t = performance.now();
    for (const rows of batches) stores[1].appendMetrics(afterIds[r], rows);
    afterMs += performance.now() - t;
    points += batches.reduce((s, b) => s + b.length, 0);
  }
  for (const s of stores) s.close();
  return { runs, points, beforeRowsPerSec: points / (beforeMs / 1000), afterRowsPerSec: points / (afterMs / 1000) };
}

// ------------------------------------------------------------------------------------------- timing

interface Stats {
  calls: number;
  p50: number;
  p95: number;
  max: number;
}

function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  return { calls: s.length, p50: at(0.5), p95: at(0.95), max: s[s.length - 1] };
}

interface Row {
  id: string;
  label: string;
  /** From the raw points (getSeriesRaw); null where the operation has no older form. */
  before: Stats | null;
  after: Stats;
  /** Whether both forms returned the same points. */
  identical: boolean | null;
  /** The answer as JSON (over the WebSocket: the frame). */
  payloadBytes: number | null;
  target: { readonly stat: 'p50' | 'p95'; readonly ms: number } | null;
  met: boolean | null;
}

/** The table's rows, in the issue's order, then the long-run store's. */
const ROW_ORDER = [
  'series-1x1',
  'series-10x3',
  'ws-series-10x3',
  'busy-series-10x3',
  'compare-20',
  'series-64',
  'runs-list',
  'ws-runs',
  'ws-runs-during-series',
  'long-series-1x1',
  'long-series-10x3',
  'long-series-64',
];

interface Timing {
  reps: number;
  /** Past this much time in the slow (raw) side, only the first `minReps` of its calls are made. */
  budgetMs: number;
  minReps: number;
  /** Before each call (see timePair). */
  pauseMs: number;
}

/**
 * Times `after` and `before` alternately, after one untimed call of each (whose answers are compared): `reps`
 * calls of `after`, and of `before` as many as its time budget allows. Each call waits `pauseMs` first, on a timer:
 * the host's event loop takes the training runs' messages meanwhile (back-to-back synchronous reads would hold them
 * up, and with them the workers, which wait for their metrics to be taken at every checkpoint).
 */
async function timePair<T>(
  timing: Timing,
  after: () => T | Promise<T>,
  before: (() => T | Promise<T>) | null,
): Promise<{ after: number[]; before: number[] | null; identical: boolean | null; answer: T }> {
  const answer = await after();
  const reference = before ? await before() : null;
  const identical = before ? encode(answer) === encode(reference) : null;
  const times = { after: [] as number[], before: [] as number[] };
  const timed = async (call: () => T | Promise<T>) => {
    await sleep(timing.pauseMs);
    const t = performance.now();
    await call();
    return performance.now() - t;
  };
  let spent = 0;
  for (let i = 0; i < timing.reps; i++) {
    times.after.push(await timed(after));
    if (!before || (i >= timing.minReps && spent > timing.budgetMs)) continue;
    times.before.push(await timed(before));
    spent += times.before.at(-1)!;
  }
  return { after: times.after, before: before ? times.before : null, identical, answer };
}

function row(
  id: string,
  label: string,
  measured: { after: number[]; before: number[] | null; identical: boolean | null },
  payloadBytes: number | null,
  target: Row['target'] = null,
): Row {
  const after = stats(measured.after);
  return {
    id,
    label,
    before: measured.before && stats(measured.before),
    after,
    identical: measured.identical,
    payloadBytes,
    target,
    met: target && after[target.stat] <= target.ms,
  };
}

/** getSeries of `runs` x `keys` at `maxPoints`, from the levels and from the raw points. */
async function seriesRow(
  store: Store,
  timing: Timing,
  id: string,
  query: { runs: number[]; keys: string[]; maxPoints: number; note?: string },
  target: Row['target'] = null,
): Promise<Row> {
  const { runs, keys, maxPoints } = query;
  const options: SeriesOptions = { maxPoints };
  const measured = await timePair(
    timing,
    () => store.getSeries(runs, keys, options),
    () => store.metrics.getSeriesRaw(runs, keys, options),
  );
  const plural = (n: number, what: string) => `${n} ${what}${n > 1 ? 's' : ''}`;
  const label = `getSeries ${plural(runs.length, 'run')} x ${plural(keys.length, 'key')} at ${maxPoints} points`;
  return row(id, `${label}${query.note ?? ''}`, measured, encode(measured.answer).length, target);
}

/**
 * The store's reads on the host's thread, nothing training: getSeries as the run views and Compare request it,
 * Compare's whole request, the runs list. `long`: the long-run store's shape, where only getSeries is timed (the
 * rest does not depend on the history's length).
 */
async function storeRows(store: Store, runIds: number[][], timing: Timing, long: Shape | null): Promise<Row[]> {
  const all = runIds.flat();
  const [prefix, note] = long ? ['long-', `, ${long.steps / 1000}k steps`] : ['', ''];
  const one = { runs: [runIds[runIds.length >> 1][0]], keys: CHART_KEYS.slice(0, 1), maxPoints: CHART_POINTS, note };
  const ten = { runs: all.slice(0, 10), keys: CHART_KEYS, maxPoints: CHART_POINTS, note };
  const compare = {
    runs: all.slice(0, 64),
    keys: [CHART_KEYS[0]],
    maxPoints: COMPARE_POINTS,
    note: `${note}, Compare's`,
  };
  const rows = [
    await seriesRow(store, timing, `${prefix}series-1x1`, one),
    await seriesRow(store, timing, `${prefix}series-10x3`, ten, TARGETS.series),
    await seriesRow(store, timing, `${prefix}series-64`, compare, TARGETS.sixtyFour),
  ];
  if (long) return rows;
  const twenty = all.slice(-20);
  const curves = () => twenty.map((id) => store.getEvalCurves(id));
  const options = { maxPoints: COMPARE_POINTS };
  const measured = await timePair(
    timing,
    () => [store.getSeries(twenty, compare.keys, options), curves()],
    () => [store.metrics.getSeriesRaw(twenty, compare.keys, options), curves()],
  );
  const label = `Compare, ${twenty.length} runs (getSeries 1 key at ${COMPARE_POINTS} points, each run's eval curves)`;
  rows.push(row('compare-20', label, measured, encode(measured.answer).length));
  const listed = await timePair(timing, () => store.listRuns(), null);
  rows.push(row('runs-list', `runs list, ${all.length} runs`, listed, encode(listed.answer).length));
  return rows;
}

// ------------------------------------------------------------------------------------------- over the WebSocket

/** The lab with getSeries switchable to the raw points, read on the host's thread: what every read cost before. */
class BenchLab extends Lab {
  raw: Store | null = null;

  override async getSeries(runIds: number[], keys: string[], options?: SeriesOptions): Promise<Series[]> {
    return this.raw ? this.raw.metrics.getSeriesRaw(runIds, keys, options) : super.getSeries(runIds, keys, options);
  }
}

/**
 * A client of the web host as the page is one: birpc over the WebSocket, JSON frames. `frames.largest`: the largest
 * frame received since it was last reset (an answer: the events pushed meanwhile are small).
 */
async function connect(port: number, token: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc?token=${token}`);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const frames = { largest: 0 };
  const rpc = createBirpc<LabApi, LabEvents>(
    { event: () => undefined },
    {
      post: (d) => ws.send(d),
      on: (fn) =>
        ws.on('message', (d: Buffer) => {
          frames.largest = Math.max(frames.largest, d.length);
          fn(d.toString());
        }),
      serialize: encode,
      deserialize: decode,
      timeout: -1,
    },
  );
  return { ws, rpc, frames };
}

/** A linear-regression MLP of 2 runs that would train for hours: what trains while the WebSocket rows are timed. */
const TRAINING_SPEC = {
  name: 'training meanwhile',
  seed: 3,
  backend: 'wasm',
  task: { family: 'linear-regression', dim: 4, seqLen: 8, numTasks: 4 },
  model: { kind: 'mlp', hidden: [16] },
  training: { steps: 10_000_000, batchSize: 16, learningRate: 0.01 },
  evaluation: { sequences: 32 },
  sweep: { axes: [{ path: 'seed', values: [1, 2] }] },
};

/**
 * The web host on the main store, its lab training 2 small runs all along (real workers writing to the same
 * database): getSeries 10 x 3 over the WebSocket and on this thread, the runs list over the WebSocket; then the runs
 * list requested at random moments while a second connection asks for getSeries 10 x 3 back to back (a page
 * refreshing its charts).
 */
async function webSocketRows(home: string, store: Store, runIds: number[][], timing: Timing): Promise<Row[]> {
  const lab = new BenchLab({ home, concurrency: 2, host: 'web', launch: forkLauncher(workerScript()) });
  const host = await startWebHost({ lab, rendererDir: rendererDir() });
  const clients = [await connect(host.port, host.token), await connect(host.port, host.token)];
  const training: number[] = [];
  try {
    const appended = new Set<number>();
    const off = lab.subscribe((e) => void (e.type === 'metrics-appended' && appended.add(e.runId)));
    training.push(...(await clients[0].rpc.createExperiment(TRAINING_SPEC)).runIds);
    for (let waited = 0; appended.size < training.length; waited += 100) {
      if (waited > 120_000) throw new Error('the 2 training runs recorded no metrics within 2 minutes');
      await sleep(100);
    }
    off();
    log('  2 runs training; timing over the WebSocket');

    const runs = runIds.flat().slice(0, 10);
    const options = { maxPoints: CHART_POINTS };
    const series = (raw: boolean, client = clients[0]) => {
      lab.raw = raw ? store : null;
      return client.rpc.getSeries(runs, CHART_KEYS, options);
    };
    const list = () => clients[0].rpc.listRuns();
    const frame = async (call: () => Promise<unknown>) => {
      clients[0].frames.largest = 0;
      await call();
      return clients[0].frames.largest;
    };
    // 50 ms between calls: the host takes the metrics that arrived during the previous one (~1 s of a raw read).
    const spaced = { ...timing, pauseMs: 50 };
    const measured = await timePair(
      spaced,
      () => series(false),
      () => series(true),
    );
    const what = `getSeries ${runs.length} x ${CHART_KEYS.length}`;
    // The same read on this thread, without the WebSocket: what the training costs it (the cores are shared).
    const direct = await timePair(
      spaced,
      () => store.getSeries(runs, CHART_KEYS, options),
      () => store.metrics.getSeriesRaw(runs, CHART_KEYS, options),
    );
    const listed = await timePair(spaced, list, null);
    const bytes = await frame(() => series(false));
    const rows = [
      row('ws-series-10x3', `${what} over the WebSocket, 2 runs training`, measured, bytes, TARGETS.webSocketSeries),
      row('busy-series-10x3', `${what} on the host's thread, 2 runs training, no WebSocket`, direct, null),
      row('ws-runs', 'runs list over the WebSocket, 2 runs training', listed, await frame(list), TARGETS.webSocketList),
    ];
    const rng = new Rng(seedFrom('store bench', 'list'));
    const during = async (raw: boolean) => {
      const times: number[] = [];
      let done = false;
      const lists = (async () => {
        while (!done) {
          await sleep(rng.next() * 50);
          const t = performance.now();
          await list();
          times.push(performance.now() - t);
        }
      })();
      const started = performance.now();
      const enough = (i: number) =>
        i >= timing.reps || (i >= timing.minReps && performance.now() - started > timing.budgetMs);
      for (let i = 0; !enough(i) || times.length < timing.minReps; i++) await series(raw, clients[1]);
      done = true;
      await lists;
      return times;
    };
    const busy = { before: await during(true), after: await during(false), identical: null };
    const label = `the same, ${what} requested back to back meanwhile`;
    rows.push(row('ws-runs-during-series', label, busy, null, TARGETS.webSocketList));
    return rows;
  } finally {
    lab.raw = null;
    for (const c of clients) c.ws.close();
    await host.close();
    for (const id of training) await lab.cancelRun(id);
    await lab.close();
  }
}

// ------------------------------------------------------------------------------------------- report

const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const size = (bytes: number) =>
  bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB` : `${(bytes / 2 ** 10).toFixed(0)} KiB`;
const thousands = (x: number) => `${Math.round(x / 1000)}k`;
const verdict = (met: boolean) => (met ? 'met' : 'MISSED');

/** The two tables (the stores; their reads) and the lines around them. */
function report(
  heading: string,
  sample: InsertSample,
  builds: { main: BuildResult; long: BuildResult },
  rows: Row[],
): string {
  const stores = table(
    ['store', 'points', 'insert rows/s (levels kept)', 'file', 'metric_levels (growth)', 'WAL at end (max)'],
    [builds.main, builds.long].map((b) => {
      const growth = `+${(100 * b.levelsGrowth).toFixed(1)}%: ${verdict(b.levelsGrowth <= TARGETS.levelsGrowth)}`;
      return [
        `${b.shape.experiments} x ${b.shape.runsPerExperiment} runs x ${b.shape.steps / 1000}k steps`,
        `${(b.points / 1e6).toFixed(2)}M`,
        `${thousands(b.rowsPerSec)}${b === builds.main ? ` (${verdict(b.rowsPerSec >= TARGETS.rowsPerSec)})` : ''}`,
        size(b.fileBytes),
        `${size(b.levelsBytes)} (${growth})`,
        `${size(b.walBytes)} (${size(b.maxWalBytes)})`,
      ];
    }),
  );
  const reads = table(
    ['operation', 'raw points (before)', 'levels (after)', 'speed-up', 'payload', 'target'],
    rows.map((r) => {
      const cell = (s: Stats | null) =>
        !s
          ? '-'
          : /^(ws|busy)-/.test(r.id)
            ? `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.max)}`
            : `${ms(s.p50)} / ${ms(s.max)}`;
      return [
        r.label,
        cell(r.before),
        cell(r.after),
        r.before ? `${(r.before.p50 / r.after.p50).toFixed(1)}x` : '',
        r.payloadBytes === null ? '' : size(r.payloadBytes),
        r.target ? `${r.target.stat} <= ${r.target.ms} ms: ${verdict(r.met!)}` : '',
      ];
    }),
  );
  const load = os.loadavg().map((l) => l.toFixed(2));
  return [
    heading,
    `machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, load ${load.join(' ')}; ` +
      `Node ${process.version}; SQLite ${sqliteVersion()}`,
    '',
    stores,
    '',
    `Insert, the same ${sample.runs} runs' batches (${(sample.points / 1e6).toFixed(2)}M rows) into new databases: ` +
      `${thousands(sample.beforeRowsPerSec)} rows/s raw points only (before the levels), ` +
      `${thousands(sample.afterRowsPerSec)} with the levels.`,
    '',
    reads,
    '',
    'Times in ms: median / max; with 2 runs training p50 / p95 / max. Speed-up: of the medians. Payload: the ' +
      'answer as JSON (over the WebSocket: its frame).',
    '',
  ].join('\n');
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  const version = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return version;
}

export async function runStoreBench(options: { tiny: boolean; keep: boolean; out: string }): Promise<void> {
  const started = performance.now();
  const loadBefore = os.loadavg();
  const shapes = SHAPES[options.tiny ? 'tiny' : 'full'];
  const timing: Timing = options.tiny
    ? { reps: 5, budgetMs: Infinity, minReps: 3, pauseMs: 0 }
    : { reps: 30, budgetMs: 20_000, minReps: 3, pauseMs: 0 };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalab-store-bench-'));
  const homes = { main: path.join(dir, 'main'), long: path.join(dir, 'long') };
  try {
    log(`store bench in ${dir}`);
    const sample = insertSample(path.join(dir, 'sample'), shapes.sampleRuns, shapes.main.steps);
    log(
      `insert sample, ${sample.points} rows: ${thousands(sample.beforeRowsPerSec)} rows/s raw points only, ` +
        `${thousands(sample.afterRowsPerSec)} with the levels`,
    );
    const main = build(databaseFile(homes.main), shapes.main, 'main');
    log(`main store built: ${main.result.points} points in ${main.result.wallS.toFixed(0)} s; timing its reads`);
    const rows = await storeRows(main.store, main.runIds, timing, null);
    rows.push(...(await webSocketRows(homes.main, main.store, main.runIds, timing)));
    main.store.close();
    const long = build(databaseFile(homes.long), shapes.long, 'long');
    log(`long store built: ${long.result.points} points in ${long.result.wallS.toFixed(0)} s; timing its reads`);
    rows.push(...(await storeRows(long.store, long.runIds, timing, shapes.long)));
    long.store.close();
    rows.sort((a, b) => ROW_ORDER.indexOf(a.id) - ROW_ORDER.indexOf(b.id));

    const builds = { main: main.result, long: long.result };
    const wallS = (performance.now() - started) / 1000;
    const heading = `metalab bench --store${options.tiny ? ' --tiny' : ''}: the metric store, ${wallS.toFixed(0)} s`;
    process.stdout.write(report(heading, sample, builds, rows));
    const json = {
      date: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`,
      tiny: options.tiny,
      wallS,
      machine: {
        cpu: os.cpus()[0]?.model ?? 'unknown',
        cores: os.cpus().length,
        loadAverageBefore: loadBefore.map((l) => Number(l.toFixed(2))),
        loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
        node: process.version,
        sqlite: sqliteVersion(),
      },
      /** How metric_levels' share of the file was measured. */
      sizeMethod: 'dbstat',
      insertSample: sample,
      builds,
      rows,
    };
    fs.mkdirSync(path.dirname(options.out), { recursive: true });
    fs.writeFileSync(options.out, JSON.stringify(json, null, 2));
    log(`written ${options.out}`);
    const mismatched = rows.filter((r) => r.identical === false);
    for (const r of mismatched) log(`MISMATCH: ${r.label}: the levels and the raw points returned different points`);
    if (mismatched.length) process.exitCode = 1;
  } finally {
    if (options.keep) log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}
