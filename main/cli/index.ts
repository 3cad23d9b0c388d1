// The `metalab` command: run specs headless, list, show and export runs, draw figures, serve the lab,
// start the app.
import { parseArgs } from 'node:util';
import { ACTIVE, EXPORT_FORMATS, LabError, SpecError, parseRunRef, type Run } from '../../shared/api.js';
import { flatSummary } from '../../shared/figures/data.js';
import { figureOf, majorityText, runPhaseText } from '../../shared/figures/phases.js';
import { figureSpread, formatSpread, seedGroups } from '../../shared/figures/seeds.js';
import { RUN_FIGURES, parseEvalKey } from '../../shared/metrics.js';
import { objectiveOf } from '../../shared/objectives/index.js';
import type { RunSummary } from '../../shared/results.js';
import {
  compileRunQuery,
  fieldsOf,
  matchesRecord,
  resolveField,
  runRecord,
  type FieldValue,
  type QueryError,
  type RunRecord,
} from '../../shared/query.js';
import { backendName } from '../../shared/spec.js';
import { EXECUTORS, type ClusterProfile, type Executor } from '../../shared/cluster.js';
import { databaseFile, defaultHome, rendererDir } from '../services/paths.js';
import { rememberAddress, rememberedAddress } from '../web/address.js';
import { appendHostLog, hostLogFile } from '../web/hostLog.js';
import { startWebHost } from '../web/server.js';
import { UsageError, positiveInt } from './args.js';
import { CLUSTER_USAGE, commandCluster } from './cluster.js';
import { CONNECT_USAGE, commandConnect } from './connect.js';
import { openLab } from './lab.js';
import { commandObjectives, OBJECTIVES_USAGE } from './objectives.js';
import { readSpecFile } from './specFile.js';
import { startApp } from './start.js';
import { formatDuration, formatNumber, table } from './table.js';
import { formatTime, runSeconds } from '../../shared/figures/format.js';

const USAGE = `metalab — a lab for meta-learning general-purpose in-context learners

Usage:
  metalab run <spec.json> [--backend B] [--concurrency N] [--on local|slurm]
                               run an experiment headless (progress on stderr, summary on stdout);
                               B: auto, tfjs-node-gpu, tfjs-node, webgpu, wasm or cpu; --on slurm
                               submits it as one job array with the cluster profile (metalab
                               cluster) and follows it (docs/cluster.md)
  metalab runs [--where QUERY] [--columns F,F...]
                               list stored runs; --where keeps those a query matches (the page's
                               search box): task.numTasks >= 256 and phase = learn, model.kind =
                               lstm or not status = finished, tag = gpicl; operators = != < <= >
                               >= ~ (contains), and or not ( ); fields: spec paths (or their last
                               part), summary figures, id experiment status phase backend tag
                               duration (10m) created started finished. --columns adds fields
  metalab show <runId|e3>      show one run (or an experiment's runs): spec, status, summary, latest metrics;
                               a sweep over seed ends with each point's figures as mean ± s.e. over seeds
  metalab export <runId|experimentId> [--format csv|json]
                               print a run's (12, r12) or an experiment's (e3) metrics
  metalab import <name> --train-images F --train-labels F [--test-images F --test-labels F] [--classes N]
                               import IDX files (gzipped or not) as dataset <name>; without test
                               files the last 1/6 of each class is held out for testing
  metalab figure <kind> <experiment> [options] --out FILE.svg
                               draw stored runs as an SVG figure with the page's charts:
    heatmap e3 [--x PATH] [--y PATH] [--figure F]
                               F over two sweep axes, cells labelled with the phase
                               (defaults: the Phases view's axes, eval/unseen/improvement)
    phase-plot e3 [--x PATH]   within-sequence improvement along an axis (default: the
                               number of tasks), one line per split, phases shaded
    vs e3 --x PATH --figure F [--figure F...] [--by PATH] [--log-x] [--log-y]
                               summary figures along a sweep axis, one line per figure
                               (and per value of --by)
    scatter e3[,e4...] --x F --y F [--color F] [--log-x] [--log-y]
                               one point per run, labelled; one series per experiment
    lines e3 --metric KEY [--runs r1,r2] [--smooth W] [--log-x] [--log-y]
                               a step metric (loss, acc, eval/unseen/last_acc...) per run
    context e3 --split S [--runs r1,r2] [--step N|last] [--baselines] [--log-y]
                               in-context learning curve (accuracy or MSE by position) per
                               run; --baselines adds ridge and dMMSE, or the learner; RL runs:
                               return by episode of the lifetime (random, bandit algorithms)
    every kind: [--where PATH=V]... (keep the runs with these axis values; axes a figure
    does not draw are held at their largest value) [--title T] [--width 720] [--height 420]
    [--theme light|dark]; a sweep over seed is drawn as each point's mean ± s.e. over its
    seeds (a band around lines, mean ± s.e. in cells) unless --single-runs (not scatter)
${OBJECTIVES_USAGE}
${CLUSTER_USAGE}
  metalab serve [--port N]     serve the lab on http://127.0.0.1 for a browser
${CONNECT_USAGE}
  metalab start                open the desktop window, or serve the lab where Electron cannot run

Data lives in $METALAB_HOME (now: ${defaultHome()}). A worker silent for METALAB_STALL_AFTER_S seconds (default 15,
or 20 of its steps if longer) is shown stalled; silent for METALAB_STALL_KILL_S (default 300), it is stopped.`;

/** A run as `metalab run` follows it; `ending`: its last state as the lab announced it. */
interface RunProgress {
  step: number;
  total: number;
  done: boolean;
  ending?: { status: string; error: string | null };
}

function progressLine(runs: Map<number, RunProgress>, started: number, examplesPerSec: number): string {
  let step = 0;
  let total = 0;
  let done = 0;
  for (const r of runs.values()) {
    step += r.step;
    total += r.total;
    if (r.done) done++;
  }
  const fraction = total ? step / total : 0;
  const width = 30;
  const filled = Math.round(fraction * width);
  const elapsed = (Date.now() - started) / 1000;
  const eta = fraction > 0 ? (elapsed * (1 - fraction)) / fraction : null;
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}%`;
  const speed = `${formatNumber(Math.round(examplesPerSec))} ex/s`;
  return `${bar}  runs ${done}/${runs.size}  ${speed}  elapsed ${formatDuration(elapsed)}  eta ${formatDuration(eta)}`;
}

async function commandRun(args: string[]): Promise<number> {
  const options = { backend: { type: 'string' }, concurrency: { type: 'string' }, on: { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
  if (positionals.length !== 1) throw new UsageError('metalab run takes one spec file');
  const concurrency = positiveInt(values.concurrency, '--concurrency');
  if (values.backend !== undefined && !backendName.safeParse(values.backend).success)
    return refuse([`--backend ${values.backend}: expected one of ${backendName.options.join(', ')}`]);
  if (values.on !== undefined && !EXECUTORS.includes(values.on as Executor))
    return refuse([`--on ${values.on}: expected one of ${EXECUTORS.join(', ')}`]);
  const file = readSpecFile(positionals[0], {
    ...(values.backend ? { backend: values.backend } : {}),
    ...(values.on ? { executor: values.on } : {}),
  });
  if (!file.ok) return refuse(file.errors);
  const lab = openLab(concurrency, 'cli', true);
  let created: { experimentId: number; runIds: number[] };
  try {
    created = await lab.createExperiment(file.spec);
  } catch (err) {
    await lab.close();
    if (err instanceof SpecError) return refuse(err.issues.map(file.locate));
    throw err;
  }
  const { experimentId, runIds } = created;
  const started = Date.now();
  const progress = new Map<number, RunProgress>();
  for (const run of await lab.listRuns({ experimentId }))
    progress.set(run.id, { step: run.step, total: run.totalSteps, done: false });
  let examplesPerSec = 0;
  const tty = process.stderr.isTTY;
  let lastDraw = 0;
  let lastPercent = -1;
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    const line = progressLine(progress, started, examplesPerSec);
    if (tty) process.stderr.write(`\r${line}`);
    else {
      const percent = Math.floor(Number(/(\d+\.\d)%/.exec(line)?.[1] ?? 0) / 10) * 10;
      if (percent !== lastPercent || force) process.stderr.write(`${line}\n`);
      lastPercent = percent;
    }
  };
  const rate = new Map<number, number>();
  lab.subscribe((e) => {
    const entry = 'runId' in e ? progress.get(e.runId) : undefined;
    if (!entry) return;
    if (e.type === 'run-progress') {
      entry.step = e.step;
      rate.set(e.runId, e.examplesPerSec ?? 0);
    } else if (e.type === 'run-state' && !ACTIVE.includes(e.status)) {
      entry.done = true;
      entry.ending = { status: e.status, error: e.error };
      rate.delete(e.runId);
    }
    examplesPerSec = [...rate.values()].reduce((a, b) => a + b, 0);
    draw();
  });
  const onSignal = () => {
    process.stderr.write('\ncancelling… (the runs checkpoint and stop)\n');
    for (const id of progress.keys()) void lab.cancelRun(id);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const span = runIds.length > 1 ? `..r${runIds[runIds.length - 1]}` : '';
  const { concurrency: atOnce, home } = await lab.getInfo();
  const first = await lab.getRun(runIds[0]).catch(() => null);
  const where = first?.slurm
    ? `on SLURM as job array ${first.slurm.job.split('_')[0]} (${submissionNote(await lab.getClusterProfile())})`
    : first?.executor === 'slurm'
      ? 'on SLURM: not submitted'
      : `${atOnce} at a time`;
  process.stderr.write(
    `experiment e${experimentId}: ${plural(runIds.length, 'run')} (r${runIds[0]}${span}), ${where}\n`,
  );
  await lab.idle();
  draw(true);
  if (tty) process.stderr.write('\n');
  const runs = (await lab.listRuns({ experimentId })).reverse();
  process.stdout.write(`${[summaryTable(runs), seedTable(runs)].filter(Boolean).join('\n\n')}\n`);
  const wall = formatDuration((Date.now() - started) / 1000);
  process.stdout.write(`stored in ${databaseFile(home)} as experiment e${experimentId}; wall time ${wall}\n`);
  await lab.close();
  const failed = runs.filter((r) => r.status !== 'finished');
  for (const r of failed) {
    // How the run ended as this process saw it, where the store could not record it (a full disk).
    const { status, error } = ACTIVE.includes(r.status) ? (progress.get(r.id)?.ending ?? r) : r;
    process.stderr.write(`r${r.id} ${status}${error ? `: ${error}` : ''}\n`);
  }
  const deleted = runIds.filter((id) => !runs.some((r) => r.id === id));
  for (const id of deleted) process.stderr.write(`r${id} was deleted (by another process sharing ${home})\n`);
  return failed.length || deleted.length ? 1 : 0;
}

/** What a submission asks SLURM for, in short: `throttle 2, 1 CPU, 4G, 4:00:00`. */
function submissionNote(profile: ClusterProfile): string {
  return [
    profile.partition && `partition ${profile.partition}`,
    profile.throttle ? `${profile.throttle} at a time` : '',
    plural(profile.cpus, 'CPU'),
    profile.memory,
    profile.gpus,
    `time limit ${profile.timeLimit}`,
  ]
    .filter(Boolean)
    .join(', ');
}

function refuse(errors: readonly string[]): number {
  for (const e of errors) process.stderr.write(`error: ${e}\n`);
  process.stderr.write('nothing was run or stored.\n');
  return 2;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * Per split, the figures a summary table shows: the objective's last-position score and within-sequence improvement.
 */
function summaryKeys(runs: readonly Run[]): string[] {
  const keys = runs.flatMap((r) => {
    const { last, improvement } = objectiveOf(r.spec.task).figures;
    const shown = [last.name, improvement.name];
    return Object.keys(r.summary?.figures ?? {}).filter((k) => shown.includes(parseEvalKey(k)?.name ?? ''));
  });
  return [...new Set(keys)].sort();
}

function summaryTable(runs: Run[]): string {
  const evalKeys = summaryKeys(runs);
  const shortKey = (k: string) => k.slice(k.indexOf('/') + 1);
  return table(
    ['run', 'status', 'sweep point', 'steps', 'final loss', ...evalKeys.map(shortKey), 'phase', 'plateau', 'backend'],
    runs.map((r) => [
      `r${r.id}`,
      r.status,
      Object.entries(r.sweepPoint)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '-',
      `${r.step}/${r.totalSteps}`,
      formatNumber(figureOf(r, RUN_FIGURES.finalLoss.key)),
      ...evalKeys.map((k) => formatNumber(figureOf(r, k))),
      runPhaseText(r) ?? '-',
      (r.summary && flatSummary(r.summary).plateau) ?? '-',
      r.backend ?? '-',
    ]),
  );
}

/** Each sweep point's seeds in one row: their figures as mean ± s.e. (n), the phase most of them end in. */
function seedTable(runs: Run[]): string | null {
  const groups = seedGroups(runs).filter((g) => g.runs.length > 1);
  if (!groups.length) return null;
  const keys = [RUN_FIGURES.finalLoss.key, ...summaryKeys(runs)];
  return `mean ± s.e. over seeds:\n${table(
    ['sweep point', 'runs', ...keys.map((k) => k.slice(k.indexOf('/') + 1)), 'phase'],
    groups.map((g) => [
      Object.entries(g.point)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '-',
      g.runs.map((r) => `r${r.id}`).join(' '),
      ...keys.map((k) => figureSpread(g.runs, k)).map((s) => (s ? formatSpread(s) : '-')),
      majorityText(g.runs, false) ?? '-',
    ]),
  )}`;
}

/** A field's value in a terminal column: several values joined, numbers short, missing as '-'. */
function formatField(v: FieldValue): string {
  if (Array.isArray(v)) return v.map(String).join(' ') || '-';
  return v === null || v === undefined ? '-' : formatNumber(v as number | string);
}

/** An error in a query or column list, with the text and a caret under where it is. */
function refuseQuery(flag: string, text: string, error: QueryError): number {
  process.stderr.write(`error: ${flag}: ${error.message}\n  ${text}\n  ${' '.repeat(error.position)}^\n`);
  return 2;
}

/** The fields `--columns a,b` names, or the first it cannot resolve with where it is in the list. */
function columnFields(list: string, known: readonly string[]): { fields: string[] } | { error: QueryError } {
  const fields: string[] = [];
  let position = 0;
  for (const name of list.split(',')) {
    const r = resolveField(name.trim(), known);
    const at = position + name.length - name.trimStart().length;
    if ('error' in r) return { error: { message: `column ${at + 1}: ${r.error}`, position: at } };
    fields.push(r.field);
    position += name.length + 1;
  }
  return { fields };
}

const RUNS_HEADER = ['run', 'experiment', 'status', 'progress', 'final loss', 'backend', 'created', 'started'];

function runsTable(runs: readonly Run[], columns: readonly string[], records: Map<number, RunRecord>, now: number) {
  return table(
    [...RUNS_HEADER, 'duration', ...columns],
    runs.map((r) => [
      `r${r.id}`,
      `e${r.experimentId} ${r.experimentName}`,
      r.status,
      `${r.step}/${r.totalSteps}`,
      formatNumber(figureOf(r, RUN_FIGURES.finalLoss.key)),
      r.backend ?? '-',
      formatTime(r.createdAt),
      formatTime(r.startedAt),
      formatDuration(runSeconds(r, now)),
      ...columns.map((c) => formatField(records.get(r.id)!.get(c))),
    ]),
  );
}

async function commandRuns(args: string[]): Promise<number> {
  const options = { where: { type: 'string' }, columns: { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
  if (positionals.length) throw new UsageError('metalab runs takes no run ids (filter with --where)');
  const lab = openLab();
  try {
    const [all, experiments] = await Promise.all([lab.listRuns(), lab.listExperiments()]);
    const tags = new Map(experiments.map((e) => [e.id, e.tags]));
    const now = Date.now();
    const records = new Map(all.map((r) => [r.id, runRecord(r, { tags: tags.get(r.experimentId) ?? [], now })]));
    const known = fieldsOf(records.values());
    const query = values.where === undefined ? null : compileRunQuery(values.where, known);
    if (query && !query.ok) return refuseQuery('--where', values.where!, query.error);
    const columns = values.columns === undefined ? { fields: [] } : columnFields(values.columns, known);
    if ('error' in columns) return refuseQuery('--columns', values.columns!, columns.error);
    const runs = query ? all.filter((r) => matchesRecord(query.query, records.get(r.id)!)) : all;
    const none = all.length ? 'no runs match --where' : 'no runs yet: try `metalab run examples/tiny-regression.json`';
    process.stdout.write(`${runs.length ? runsTable(runs, columns.fields, records, now) : none}\n`);
    return 0;
  } finally {
    await lab.close();
  }
}

/** A summary in one line: steps, backend, phase, plateau, then every figure. */
function summaryLine(summary: RunSummary | null): string {
  if (!summary) return '-';
  return Object.entries(flatSummary(summary))
    .map(([k, v]) => `${k}=${formatNumber(v)}`)
    .join('  ');
}

async function commandShow(args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError('metalab show takes one run id');
  const lab = openLab();
  try {
    const ref = parseRunRef(args[0]);
    const runs =
      ref.kind === 'run'
        ? [await lab.getRun(ref.id)]
        : (await lab.listRuns({ experimentId: (await lab.getExperiment(ref.id)).id })).reverse();
    for (const run of runs) {
      const keys = await lab.listMetricKeys(run.id);
      const latest = keys.length ? await lab.getSeries([run.id], keys, { maxPoints: 2 }) : [];
      const checkpoint = run.checkpointStep !== null ? `, checkpoint at step ${run.checkpointStep}` : '';
      process.stdout.write(
        [
          `run r${run.id} of experiment e${run.experimentId} (${run.experimentName})`,
          `status     ${run.status}${run.error ? ` — ${run.error}` : ''}`,
          `progress   ${run.step}/${run.totalSteps} steps${checkpoint}`,
          `backend    ${run.backend ?? '-'}`,
          ...(run.slurm
            ? [
                `slurm      job ${run.slurm.job}: ${run.slurm.state ?? '-'}`,
                ...run.slurm.history.map((line) => `           earlier: ${line}`),
              ]
            : []),
          `seed       ${run.seed}`,
          `sweep      ${JSON.stringify(run.sweepPoint)}`,
          `summary    ${summaryLine(run.summary)}`,
          'latest metrics:',
          table(
            ['key', 'step', 'value'],
            latest
              .filter((s) => s.steps.length)
              .map((s) => [s.key, s.steps.at(-1)!, formatNumber(s.last.at(-1) ?? null)]),
          ),
          'spec:',
          JSON.stringify(run.spec, null, 2),
          '',
        ].join('\n'),
      );
    }
    const seeds = ref.kind === 'run' ? null : seedTable(runs);
    if (seeds) process.stdout.write(`${seeds}\n`);
    return 0;
  } finally {
    await lab.close();
  }
}

async function commandExport(args: string[]): Promise<number> {
  const options = { format: { type: 'string', default: 'csv' } } as const;
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
  if (positionals.length !== 1) throw new UsageError('metalab export takes one run or experiment id');
  const format = EXPORT_FORMATS.find((f) => f === values.format);
  if (!format) throw new UsageError(`--format must be ${EXPORT_FORMATS.join(' or ')}, not '${values.format}'`);
  const lab = openLab();
  try {
    process.stdout.write(await lab.exportRuns(positionals[0], format));
    return 0;
  } finally {
    await lab.close();
  }
}

async function commandImport(args: string[]): Promise<number> {
  const options = {
    'train-images': { type: 'string' },
    'train-labels': { type: 'string' },
    'test-images': { type: 'string' },
    'test-labels': { type: 'string' },
    classes: { type: 'string' },
  } as const;
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options });
  if (positionals.length !== 1) throw new UsageError('metalab import takes one dataset name');
  if (!values['train-images'] || !values['train-labels'])
    throw new UsageError('metalab import needs --train-images and --train-labels');
  const lab = openLab();
  try {
    const { manifest: m, folder } = lab.importDataset({
      name: positionals[0],
      trainImages: values['train-images'],
      trainLabels: values['train-labels'],
      testImages: values['test-images'],
      testLabels: values['test-labels'],
      maxClasses: positiveInt(values.classes, '--classes'),
    });
    const test = m.testSplit === 'files' ? 'test' : 'test (held out: the last 1/6 of each class)';
    const images = `${m.trainCount} training and ${m.testCount} ${test} images of ${m.width}x${m.height}`;
    process.stdout.write(`imported '${m.name}': ${images}, ${m.numClasses} classes\nstored in ${folder}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof LabError)) throw err;
    process.stderr.write(`error: ${err.message}\nnothing was imported.\n`);
    return 2;
  } finally {
    await lab.close();
  }
}

/**
 * Serves the lab until SIGINT/SIGTERM. An uncaught exception or unhandled rejection does not end it: its stack
 * goes to logs/host.log and the lab keeps serving.
 */
export async function serve(port: number | undefined, announce: (url: string) => void): Promise<number> {
  const lab = openLab(undefined, 'web');
  const { home } = await lab.getInfo();
  const lastResort = (err: unknown) => {
    appendHostLog(home, `uncaught error, still serving: ${(err as Error)?.stack ?? String(err)}`);
    process.stderr.write(`metalab: an internal error was logged to ${hostLogFile(home)}; still serving\n`);
  };
  process.on('uncaughtException', lastResort);
  process.on('unhandledRejection', lastResort);
  try {
    // The address this folder's host had before, so its open pages reconnect; another if that port is taken.
    const saved = rememberedAddress(home);
    const start = (at: number | undefined) =>
      startWebHost({ lab, rendererDir: rendererDir(), port: at, token: saved.token });
    const host = await start(port ?? saved.port).catch((err: NodeJS.ErrnoException) => {
      if (port !== undefined || err.code !== 'EADDRINUSE') throw err;
      return start(undefined);
    });
    rememberAddress(home, { port: host.port, token: host.token });
    // Listening before the address is out: a signal sent as soon as it is read must not find the default action.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    announce(host.url);
    await stopped;
    await host.close();
    await lab.close();
    return 0;
  } finally {
    process.off('uncaughtException', lastResort);
    process.off('unhandledRejection', lastResort);
  }
}

async function commandServe(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: 'string' } } });
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535))
    throw new UsageError(`--port must be 0..65535, not '${values.port}'`);
  return serve(port, (url) => process.stdout.write(`metalab is serving the lab at ${url}\n(press Ctrl+C to stop)\n`));
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  run: commandRun,
  runs: commandRuns,
  show: commandShow,
  export: commandExport,
  import: commandImport,
  objectives: commandObjectives,
  // Loaded when asked for: ECharts is a large module the other commands do not need.
  figure: async (args) => (await import('./figure.js')).commandFigure(args),
  serve: commandServe,
  connect: commandConnect,
  cluster: commandCluster,
  start: () => startApp(serve),
};

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const handler = COMMANDS[command];
  if (!handler) throw new UsageError(`unknown command '${command}'`);
  return handler(args);
}

/**
 * Exits once everything written has reached stdout: a pipe takes writes asynchronously, and exiting at once cuts them
 * at 64 KiB.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

main(process.argv.slice(2)).then(exitAfterFlush, (err: Error) => {
  process.stderr.write(`error: ${err.message}\n`);
  if (err instanceof UsageError) process.stderr.write(`run 'metalab help' for usage\n`);
  exitAfterFlush(err instanceof UsageError ? 2 : 1);
});
