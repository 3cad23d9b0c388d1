// Training worker entry: one process per run. Receives `start`, runs the engine, and streams metrics,
// evaluations and checkpoints to the parent, which stores them. Metrics are flushed in batches at least
// every FLUSH_MS, and always before a checkpoint is announced, so a checkpoint never points past stored metrics.
// The same script, sent `plan` instead, measures what planned runs cost (see engine/plan.ts) and exits.
// Started as `--slurm-task <folder>` it is a task of a SLURM job array instead (./slurmTask.ts): its start message
// and its channel to the lab are files in that folder.
import path from 'node:path';
import { TRAINING_METRICS, type MetricRow } from '../../shared/metrics.js';
import { measureConfig, sizeConfig } from '../engine/plan.js';
import { isRlSpec } from '../engine/rl/types.js';
import { runExperiment, type RunSink } from '../engine/train.js';
import { threadedCandidates } from './candidates.js';
import { connectToParent } from './channel.js';
import { taskChannel, taskStart } from './slurmTask.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { ToWorker } from './protocol.js';

const FLUSH_MS = 250;
/** Seconds from this process's start until its modules (tfjs among them) were loaded: part of every run's setup. */
const startupSeconds = process.uptime();
const FLUSH_ROWS = 2000;

const slurmFlag = process.argv.indexOf('--slurm-task');
const slurm =
  slurmFlag >= 0
    ? {
        dir: process.argv[slurmFlag + 1] ?? '',
        index: Number(process.env.SLURM_ARRAY_TASK_ID ?? 0),
        restart: Number(process.env.SLURM_RESTART_COUNT ?? 0),
      }
    : null;
const parent = slurm ? taskChannel(slurm.dir, slurm.index, slurm.restart) : connectToParent();
const HEARTBEAT_MS = 1000;
/** How often the worker records its CPU use and memory. */
const RESOURCES_MS = 5000;
const abort = new AbortController();
if (!slurm) {
  // The lab that started this worker is gone (killed, crashed): nothing would store what it computes.
  process.on('disconnect', () => process.exit(2));
  setInterval(() => void parent.send({ type: 'heartbeat' }).catch(() => undefined), HEARTBEAT_MS).unref();
}

async function run(start: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  let pending: MetricRow[] = [];
  let lastFlush = Date.now();
  let lastProgress = 0;
  // The first sample, at the first step, covers the process's life until then (its setup).
  let resources = { at: 0, cpu: { user: 0, system: 0 } };
  /** This process's CPU use since the last sample (100: one core busy; its threads count too) and its memory. */
  const sampleResources = (step: number): MetricRow[] => {
    const now = { at: performance.now(), cpu: process.cpuUsage() };
    const cpuMs = (now.cpu.user - resources.cpu.user + now.cpu.system - resources.cpu.system) / 1000;
    const percent = (100 * cpuMs) / Math.max(1, now.at - resources.at);
    resources = now;
    return [
      [TRAINING_METRICS.workerCpu.key, step, Math.round(percent)],
      [TRAINING_METRICS.workerMemory.key, step, Math.round(process.memoryUsage.rss() / 2 ** 20)],
    ];
  };
  const flush = async () => {
    if (pending.length) {
      const rows = pending;
      pending = [];
      await parent.send({ type: 'metrics', rows });
    }
    lastFlush = Date.now();
  };
  // Checkpoints are named in messages as the data folder holds them: checkpoints/run-N/step-S.json.
  const home = path.dirname(path.dirname(start.checkpointDir));
  const resume = start.resumeFrom
    ? { ...loadCheckpoint(start.resumeFrom, path.relative(home, start.resumeFrom)), losses: start.lossHistory }
    : undefined;

  const sink: RunSink = {
    started: (info) => void parent.send({ type: 'started', ...info, fromStep: resume?.step ?? 0 }),
    metrics(rows) {
      pending.push(...rows);
      if (pending.length >= FLUSH_ROWS || Date.now() - lastFlush >= FLUSH_MS) void flush();
    },
    evaluation: (curves) => void parent.send({ type: 'eval', curves }),
    progress(step, examplesPerSec) {
      if (!resources.at || performance.now() - resources.at >= RESOURCES_MS) sink.metrics(sampleResources(step));
      const now = Date.now();
      if (now - lastProgress >= FLUSH_MS || step === start.spec.training.steps) {
        lastProgress = now;
        void parent.send({ type: 'progress', step, examplesPerSec });
      }
    },
    async checkpoint(state) {
      // The metrics first: a checkpoint that cannot be written (a full disk) loses none of them.
      await flush();
      const file = saveCheckpoint(start.checkpointDir, state);
      await parent.send({ type: 'checkpoint', step: state.step, path: path.relative(home, file) });
    },
    summary: (summary) => void parent.send({ type: 'summary', summary }),
    rollout: (rollout) => void parent.send({ type: 'rollout', rollout }),
    // Each tensor in a buffer of its own: a view into a larger one (wasm memory) would be sent whole.
    objective: (objective) =>
      void parent.send({
        type: 'objective',
        objective: { ...objective, tensors: objective.tensors.map((t) => ({ ...t, values: t.values.slice() })) },
      }),
  };

  const { spec } = start;
  const threads = isRlSpec(spec) && spec.task.algorithm.kind === 'es' ? spec.task.algorithm.threads : 1;
  const candidates =
    threads > 1 && isRlSpec(spec)
      ? // Beside this script; in a desktop package outside the asar archive (threads cannot load from it).
        threadedCandidates(
          path.join(__dirname, 'candidate-thread.cjs').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1'),
          spec,
          threads,
        )
      : undefined;
  const outcome = await runExperiment(spec, sink, {
    signal: abort.signal,
    resume,
    dataDir: start.dataDir,
    objective: start.objective ?? undefined,
    candidates,
  }).finally(() => candidates?.close());
  await flush();
  await parent.send({
    type: 'finished',
    status: outcome.status,
    error: outcome.status === 'diverged' ? outcome.error : null,
  });
}

/** Answers each config as soon as it is measured, so the parent keeps what was done if it gives up waiting. */
async function plan(request: Extract<ToWorker, { type: 'plan' }>): Promise<void> {
  for (const [index, config] of request.configs.entries()) {
    const measured = index < request.timed ? await measureConfig(config, request.dataDir) : null;
    const cost = measured && { ...measured, setupSeconds: startupSeconds + measured.setupSeconds };
    const size = cost ?? (await sizeConfig(config, request.dataDir));
    await parent.send({
      type: 'plan-config',
      index,
      size: { backend: size.backend, paramCount: size.paramCount, stateSize: size.stateSize },
      cost,
    });
  }
}

function exitAfter(work: Promise<void>): void {
  work
    .then(() => process.exit(0))
    .catch(async (err: Error) => {
      await parent
        .send({ type: 'failed', error: err.message, detail: err.stack ?? err.message })
        .catch(() => undefined);
      process.exit(1);
    });
}

if (slurm) {
  // scancel, the time limit and a requeue all send SIGTERM first: stop between two steps, at a checkpoint. What the
  // run becomes is SLURM's state for the task (the lab reads it), not this worker's `cancelled`.
  process.on('SIGTERM', () => abort.abort());
  exitAfter(Promise.resolve().then(() => run(taskStart(slurm.dir, slurm.index, slurm.restart))));
} else {
  parent.onMessage((message) => {
    if (message.type === 'cancel') abort.abort();
    if (message.type === 'start') exitAfter(run(message));
    if (message.type === 'plan') exitAfter(plan(message));
  });
}
