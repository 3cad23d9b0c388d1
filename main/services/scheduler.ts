// The run scheduler: a FIFO of queued runs, at most `concurrency` worker processes at a time, one per run.
// Everything a worker reports is written to the store as it arrives; a worker that dies without saying
// why is detected by its exit, and its run is marked failed with the exit reason.
import os from 'node:os';
import type { LabEvent, RunStatus } from '../../shared/api.js';
import { RETRYABLE } from '../../shared/api.js';
import { TRAINING_METRICS } from '../../shared/metrics.js';
import type { FromWorker } from '../worker/protocol.js';
import { firstSentence, logRunError } from './logs.js';
import { checkpointDir, datasetsDir } from './paths.js';
import type { Store } from './store/index.js';
import type { WorkerHandle, WorkerLauncher } from './workers.js';

export interface SchedulerOptions {
  home: string;
  launch: WorkerLauncher;
  /** Runs at once; default: one single-threaded run per core. */
  concurrency?: number;
  /** How long a cancelled worker may take to stop and flush before it is killed. */
  cancelGraceMs?: number;
  emit?: (event: LabEvent) => void;
}

interface ActiveRun {
  runId: number;
  experimentId: number;
  worker: WorkerHandle;
  totalSteps: number;
  startedAt: number;
  fromStep: number;
  /** Set once the worker said how the run ended (finished / cancelled / diverged / failed). */
  outcome: { status: RunStatus; error: string | null } | null;
  cancelRequested: boolean;
  killTimer: NodeJS.Timeout | null;
  exited: Promise<void>;
}

export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}

export class Scheduler {
  readonly concurrency: number;
  private readonly queue: number[] = [];
  private readonly active = new Map<number, ActiveRun>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly options: SchedulerOptions,
  ) {
    this.concurrency = options.concurrency ?? defaultConcurrency();
  }

  /** Queues runs (already stored as `queued`) and starts as many as concurrency allows. */
  enqueue(runIds: readonly number[]): void {
    for (const id of runIds) {
      this.store.updateRun(id, { ownerPid: process.pid });
      if (!this.queue.includes(id) && !this.active.has(id)) this.queue.push(id);
    }
    this.pump();
  }

  isActive(runId: number): boolean {
    return this.active.has(runId) || this.queue.includes(runId);
  }

  /**
   * Stops a run: a queued one at once; a running one between two steps (it checkpoints), or killed after the grace
   * period.
   */
  cancel(runId: number): void {
    const queued = this.queue.indexOf(runId);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.setStatus(runId, 'cancelled', { finishedAt: Date.now() });
      this.notifyIfIdle();
      return;
    }
    const run = this.active.get(runId);
    if (!run || run.cancelRequested) return;
    run.cancelRequested = true;
    run.worker.send({ type: 'cancel' });
    run.killTimer = setTimeout(() => run.worker.kill(), this.options.cancelGraceMs ?? 2000);
  }

  /** Requeues a stopped run; it resumes from its last checkpoint, or starts over if it has none. */
  retry(runId: number): void {
    const run = this.store.getRun(runId);
    if (!run) throw new Error(`run ${runId} does not exist`);
    if (!RETRYABLE.includes(run.status))
      throw new Error(`run ${runId} is ${run.status}; only ${RETRYABLE.join(', ')} runs can be retried`);
    const checkpoint = this.store.checkpointOf(runId);
    this.store.truncateAfter(runId, checkpoint?.step ?? 0);
    this.setStatus(runId, 'queued', { step: checkpoint?.step ?? 0, error: null, finishedAt: null });
    this.enqueue([runId]);
  }

  /** Kills a run's worker (if any) and waits for it to be gone. */
  async stop(runId: number): Promise<void> {
    const queued = this.queue.indexOf(runId);
    if (queued >= 0) this.queue.splice(queued, 1);
    const run = this.active.get(runId);
    if (run) {
      run.cancelRequested = true;
      run.worker.kill();
      await run.exited;
    }
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.queue.length && !this.active.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Kills every worker and leaves their runs interrupted (resumable). Used when the app quits. */
  async shutdown(): Promise<void> {
    for (const id of this.queue.splice(0))
      this.setStatus(id, 'interrupted', { error: 'the app quit before this run started' });
    await Promise.all(
      [...this.active.values()].map((run) => {
        run.outcome ??= { status: 'interrupted', error: 'the app quit while this run was active' };
        run.worker.kill();
        return run.exited;
      }),
    );
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.queue.length) this.start(this.queue.shift()!);
  }

  private start(runId: number): void {
    const run = this.store.getRun(runId);
    if (!run) return;
    const checkpoint = this.store.checkpointOf(runId);
    let worker: WorkerHandle;
    try {
      worker = this.options.launch();
    } catch (err) {
      this.setStatus(runId, 'failed', {
        error: `cannot start a worker: ${(err as Error).message}`,
        finishedAt: Date.now(),
      });
      return;
    }
    let markExited!: () => void;
    const active: ActiveRun = {
      runId,
      experimentId: run.experimentId,
      worker,
      totalSteps: run.totalSteps,
      startedAt: Date.now(),
      fromStep: checkpoint?.step ?? 0,
      outcome: null,
      cancelRequested: false,
      killTimer: null,
      exited: new Promise((resolve) => (markExited = resolve)),
    };
    this.active.set(runId, active);
    this.setStatus(runId, 'running', { ownerPid: process.pid, startedAt: run.startedAt ?? Date.now(), error: null });
    worker.onMessage((message) => {
      try {
        this.handle(active, message);
      } catch (err) {
        // A message the store cannot take (e.g. the run was deleted meanwhile) must not crash the app.
        active.outcome ??= { status: 'failed', error: `cannot store the worker's results: ${(err as Error).message}` };
        worker.kill();
      }
    });
    worker.onExit((reason) => {
      if (active.killTimer) clearTimeout(active.killTimer);
      this.active.delete(runId);
      const outcome =
        active.outcome ??
        (active.cancelRequested
          ? { status: 'cancelled' as const, error: null }
          : { status: 'failed' as const, error: `worker ${reason}` });
      if (this.store.getRun(runId))
        this.setStatus(runId, outcome.status, { error: outcome.error, finishedAt: Date.now() });
      markExited();
      this.pump();
      this.notifyIfIdle();
    });
    worker.send({
      type: 'start',
      runId,
      spec: run.spec,
      checkpointDir: checkpointDir(this.options.home, runId),
      dataDir: datasetsDir(this.options.home),
      resumeFrom: checkpoint?.path ?? null,
      lossHistory: checkpoint
        ? this.store.series(runId, TRAINING_METRICS.loss.key, checkpoint.step).map(([, loss]) => loss)
        : [],
    });
  }

  private handle(run: ActiveRun, message: FromWorker): void {
    const { runId } = run;
    switch (message.type) {
      case 'started': {
        run.fromStep = message.fromStep;
        this.store.updateRun(runId, { backend: message.backend });
        // The run's row changed (its backend is known now): pages listing it refetch.
        const experimentId = this.store.getRun(runId)?.experimentId;
        if (experimentId !== undefined) this.options.emit?.({ type: 'experiment-changed', experimentId });
        break;
      }
      case 'metrics': {
        this.store.appendMetrics(runId, message.rows);
        const keys = [...new Set(message.rows.map((r) => r[0]))];
        const lastStep = message.rows.reduce((m, r) => Math.max(m, r[1]), 0);
        this.options.emit?.({ type: 'metrics-appended', runId, keys, lastStep });
        break;
      }
      case 'eval':
        this.store.putEvalCurves(runId, message.curves);
        break;
      case 'progress': {
        this.store.updateRun(runId, { step: message.step, examplesPerSec: message.examplesPerSec });
        const done = message.step - run.fromStep;
        const elapsed = (Date.now() - run.startedAt) / 1000;
        const etaSeconds = done > 0 ? ((run.totalSteps - message.step) * elapsed) / done : null;
        this.options.emit?.({
          type: 'run-progress',
          runId,
          step: message.step,
          totalSteps: run.totalSteps,
          examplesPerSec: message.examplesPerSec,
          etaSeconds,
        });
        break;
      }
      case 'checkpoint':
        this.store.updateRun(runId, { checkpointPath: message.path, checkpointStep: message.step });
        break;
      case 'summary':
        this.store.putSummary(runId, message.summary);
        break;
      case 'finished':
        run.outcome = { status: message.status, error: message.error };
        break;
      case 'failed': {
        const log = logRunError(this.options.home, runId, message.detail);
        run.outcome = { status: 'failed', error: `${firstSentence(message.error)} (details: ${log})` };
        break;
      }
    }
  }

  private setStatus(runId: number, status: RunStatus, fields: Parameters<Store['setRunStatus']>[2] = {}): void {
    this.store.setRunStatus(runId, status, fields);
    const run = this.store.getRun(runId);
    if (run)
      this.options.emit?.({ type: 'run-state', runId, experimentId: run.experimentId, status, error: run.error });
  }

  private notifyIfIdle(): void {
    if (this.queue.length || this.active.size) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
