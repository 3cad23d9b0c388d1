// The run scheduler: a FIFO of queued runs, at most `concurrency` worker processes at a time, one per run.
// Everything a worker reports is written to the store as it arrives, as the run's current attempt (a worker of
// an earlier attempt, or of a run deleted meanwhile, is stopped, never written); a worker that dies without
// saying why is detected by its exit, and one that falls silent by a watchdog: `stalled`, then stopped.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { LabEvent, RetryFrom, RunStatus } from '../../shared/api.js';
import { removeCheckpoints } from './paths.js';
import { storeReport, type ReportedRun } from './reports.js';
import { startMessage } from './startMessage.js';
import type { StartMessage } from '../worker/protocol.js';
import { requeueForRetry } from './resume.js';
import { StaleAttemptError, type Store } from './store/index.js';
import type { WorkerHandle, WorkerLauncher } from './workers.js';

export interface SchedulerOptions {
  home: string;
  launch: WorkerLauncher;
  /** Runs at once; default: one single-threaded run per core. */
  concurrency?: number;
  /** How long a cancelled worker may take to stop and flush before it is killed. */
  cancelGraceMs?: number;
  /**
   * A worker silent for longer than `stallSteps` of its recent step time (and at least `stallMinMs`) is shown as
   * `stalled`; silent for `stallKillMs`, it is stopped and its run fails (resumable from its checkpoint).
   */
  stallSteps?: number;
  stallMinMs?: number;
  stallKillMs?: number;
  emit?: (event: LabEvent) => void;
}

const STALL_DEFAULTS = { stallSteps: 20, stallMinMs: 15_000, stallKillMs: 300_000 } as const;

/**
 * The stall limits from the environment: METALAB_STALL_AFTER_S (the least silence shown as stalled) and
 * METALAB_STALL_KILL_S (the silence after which the worker is stopped), in seconds.
 */
export function stallLimitsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<SchedulerOptions, 'stallMinMs' | 'stallKillMs'> {
  const seconds = (name: string) => {
    const v = Number(env[name]);
    return env[name] !== undefined && Number.isFinite(v) && v > 0 ? v * 1000 : undefined;
  };
  return { stallMinMs: seconds('METALAB_STALL_AFTER_S'), stallKillMs: seconds('METALAB_STALL_KILL_S') };
}
const WATCH_MS = 1000;

interface ActiveRun extends ReportedRun {
  /** This start of the run (stored with it): only this attempt's worker writes into the run. */
  attempt: string;
  worker: WorkerHandle;
  cancelRequested: boolean;
  /** The run is no longer this attempt's (deleted, or started again elsewhere): its status is not ours to set. */
  superseded: boolean;
  killTimer: NodeJS.Timeout | null;
  exited: Promise<void>;
  /** When the worker last said anything, for the watchdog. */
  lastHeardAt: number;
  stalled: boolean;
}

export function defaultConcurrency(): number {
  return Math.max(1, os.availableParallelism());
}

export class Scheduler {
  private runsAtOnce: number;
  private readonly queue: number[] = [];
  private readonly active = new Map<number, ActiveRun>();
  private idleWaiters: (() => void)[] = [];
  private watchdog: NodeJS.Timeout | null = null;
  private readonly limits: Record<keyof typeof STALL_DEFAULTS, number>;

  constructor(
    private readonly store: Store,
    private readonly options: SchedulerOptions,
  ) {
    this.runsAtOnce = options.concurrency ?? defaultConcurrency();
    this.limits = {
      stallSteps: options.stallSteps ?? STALL_DEFAULTS.stallSteps,
      stallMinMs: options.stallMinMs ?? STALL_DEFAULTS.stallMinMs,
      stallKillMs: options.stallKillMs ?? STALL_DEFAULTS.stallKillMs,
    };
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

  /**
   * Requeues a stopped run from the checkpoint `from` names (checked first: a damaged one is refused with the
   * choices left), or from the start (no checkpoint, or `from: 'start'`).
   */
  retry(runId: number, from: RetryFrom = 'latest'): void {
    this.options.emit?.(requeueForRetry(this.store, this.options.home, runId, from));
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

  get concurrency(): number {
    return this.runsAtOnce;
  }

  /** Runs at once from now on: more start queued runs at once; fewer let the running ones finish. */
  setConcurrency(concurrency: number): void {
    this.runsAtOnce = concurrency;
    this.pump();
  }

  private pump(): void {
    while (this.active.size < this.runsAtOnce && this.queue.length) this.start(this.queue.shift()!);
  }

  private start(runId: number): void {
    const run = this.store.getRun(runId);
    if (!run) return;
    const checkpoint = this.store.checkpointOf(runId);
    let start: StartMessage;
    let worker: WorkerHandle;
    try {
      start = startMessage(this.store, this.options.home, runId);
    } catch (err) {
      this.setStatus(runId, 'failed', { error: (err as Error).message, finishedAt: Date.now() });
      return;
    }
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
      attempt: randomUUID(),
      experimentId: run.experimentId,
      worker,
      totalSteps: run.totalSteps,
      startedAt: Date.now(),
      fromStep: checkpoint?.step ?? 0,
      outcome: null,
      cancelRequested: false,
      superseded: false,
      killTimer: null,
      exited: new Promise((resolve) => (markExited = resolve)),
      lastHeardAt: Date.now(),
      stepMs: null,
      lastProgress: null,
      stalled: false,
    };
    this.active.set(runId, active);
    this.watch();
    const startedAt = run.startedAt ?? Date.now();
    this.setStatus(runId, 'running', { ownerPid: process.pid, attempt: active.attempt, startedAt, error: null });
    worker.onMessage((message) => {
      active.lastHeardAt = Date.now();
      try {
        this.store.asAttempt(runId, active.attempt, () => {
          if (active.stalled) {
            active.stalled = false;
            this.setStatus(runId, 'running');
          }
          storeReport({ store: this.store, home: this.options.home, emit: this.options.emit }, active, message);
        });
      } catch (err) {
        if (err instanceof StaleAttemptError) active.superseded = true;
        // A message the store cannot take must not crash the app.
        else
          active.outcome ??= {
            status: 'failed',
            error: `cannot store the worker's results: ${(err as Error).message}`,
          };
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
      try {
        const attempt = this.store.attemptOf(runId);
        // Deleted by another process while this worker trained: what it checkpointed since goes too.
        if (attempt === undefined) removeCheckpoints(this.options.home, runId);
        if (!active.superseded && attempt === active.attempt) {
          this.setStatus(runId, outcome.status, { error: outcome.error, finishedAt: Date.now() });
        }
      } catch (err) {
        // The store cannot take it (a full disk): the run stays as stored, and is marked interrupted (resumable)
        // when the lab next opens the folder; the lab itself carries on.
        const why = `cannot record that r${runId} ended (${outcome.status}): ${(err as Error).message}`;
        this.options.emit?.({
          type: 'run-state',
          runId,
          experimentId: active.experimentId,
          status: outcome.status,
          error: why,
        });
      }
      markExited();
      this.pump();
      this.notifyIfIdle();
    });
    worker.send(start);
  }

  private setStatus(runId: number, status: RunStatus, fields: Parameters<Store['setRunStatus']>[2] = {}): void {
    this.store.setRunStatus(runId, status, fields);
    const run = this.store.getRun(runId);
    if (run)
      this.options.emit?.({ type: 'run-state', runId, experimentId: run.experimentId, status, error: run.error });
  }

  /** Runs the watchdog (silence, cancel requests from other processes) while any worker is active. */
  private watch(): void {
    this.watchdog ??= setInterval(() => {
      try {
        this.watchdogTick();
      } catch {
        // The store is unavailable for the moment (busy, a full disk): the next tick tries again.
      }
    }, WATCH_MS);
    this.watchdog.unref();
  }

  /**
   * Cancels the runs another process asked to cancel; marks silent workers stalled, and stops those silent past
   * the limit (their runs fail, resumable).
   */
  private watchdogTick(): void {
    for (const id of this.store.takeCancelRequests([...this.active.keys(), ...this.queue])) this.cancel(id);
    const o = this.limits;
    const now = Date.now();
    for (const run of this.active.values()) {
      const silentMs = now - run.lastHeardAt;
      if (silentMs >= o.stallKillMs && !run.outcome) {
        const seconds = Math.round(silentMs / 1000);
        run.outcome = {
          status: 'failed',
          error:
            `the worker did not answer for ${seconds} s (stalled) and was stopped; ` +
            'retry resumes from its checkpoint',
        };
        run.worker.kill();
      } else if (!run.stalled && silentMs >= Math.max(o.stallMinMs, o.stallSteps * (run.stepMs ?? 0))) {
        run.stalled = true;
        if (this.store.attemptOf(run.runId) === run.attempt) this.setStatus(run.runId, 'stalled');
      }
    }
    if (!this.active.size && this.watchdog) {
      clearInterval(this.watchdog);
      this.watchdog = null;
    }
  }

  private notifyIfIdle(): void {
    if (this.queue.length || this.active.size) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
