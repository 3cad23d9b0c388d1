// The SLURM executor: an experiment's runs as one job array, each task the same worker script local runs use,
// started on a node with the submission's folder (shared filesystem). The lab that submitted the array (a
// `metalab run` or `metalab serve` on the login node) follows it: every POLL_MS it reads the tasks' message files
// into the store (exactly once: each file's offset moves in the transaction that stores what it read) and asks
// SLURM for the tasks' states, which decide what a run becomes (the table in docs/cluster.md). Job ids, folders and
// offsets are in the store, so a lab that opens the data folder after the submitting one died takes its runs over.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LabEvent, RetryFrom, Run, RunStatus } from '../../../shared/api.js';
import { readFrames } from '../../worker/messageFile.js';
import type { FromWorker, StartMessage } from '../../worker/protocol.js';
import { folderNames, logFile, messageFiles, writeTaskStart } from '../../worker/slurmTask.js';
import { storeReport, type ReportedRun } from '../reports.js';
import { requeueForRetry } from '../resume.js';
import { startMessage } from '../startMessage.js';
import { StaleAttemptError, type Store } from '../store/index.js';
import { cancel, jobStates, submit, type TaskState } from './commands.js';
import { readProfile } from './profile.js';
import { jobScript } from './script.js';

export interface SlurmExecutorOptions {
  home: string;
  /** The worker script a node runs, and the node program where the profile names none. */
  workerScript: string;
  nodeProgram: string;
  emit?: (event: LabEvent) => void;
  /** How often the lab reads messages and asks SLURM for states; default 2 s. */
  pollMs?: number;
  /** Take over the runs of labs that are gone. */
  adopt: boolean;
}

interface Tracked extends ReportedRun {
  attempt: string;
  /** `1234_5`, the submission's folder (absolute) and the task's index in it. */
  job: string;
  dir: string;
  index: number;
  /** The newest start of the task whose messages were read (SLURM counts restarts); -1 before any. */
  restart: number;
  /** The checkpoint step the submission resumed from: a task at its time limit is resubmitted only past it. */
  submittedFrom: number;
  /** Submitted by this lab (not taken over): `idle()` waits for these. */
  own: boolean;
  /** The last state written to the store, to write only changes. */
  shown: string | null;
}

const POLL_MS = 2000;
/** The state of a run between writing its task's files and SLURM's answer with the job id. */
const SUBMITTING = 'submitting';
/** SLURM states of a task that waits for a node. */
const WAITING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESV_DEL_HOLD', 'CONFIGURING']);
/** States of a task that has ended. */
const ENDED = new Set([
  'COMPLETED',
  'CANCELLED',
  'FAILED',
  'TIMEOUT',
  'PREEMPTED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'BOOT_FAIL',
  'DEADLINE',
  'REVOKED',
  'SPECIAL_EXIT',
]);

export class SlurmExecutor {
  private readonly tracked = new Map<number, Tracked>();
  /**
   * Runs this lab is submitting (sbatch not yet answered). They are this process's, so not orphans, though
   * `isAlive` says no to its own pid (a run this pid owns and does not follow is a previous life's).
   */
  private readonly submitting = new Set<number>();
  private readonly timer: NodeJS.Timeout;
  private ticking: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly options: SlurmExecutorOptions,
    private readonly isAlive: (pid: number) => boolean,
  ) {
    // Keeps the process alive only while it follows runs (a `metalab run` waiting for its array, say).
    this.timer = setInterval(() => {
      void this.tick();
      if (this.tracked.size) this.timer.ref();
      else this.timer.unref();
    }, options.pollMs ?? POLL_MS);
    this.timer.unref();
    void this.tick();
  }

  /** Whether this lab is submitting the run or follows it (as the scheduler's `isActive`, for SLURM). */
  isActive(runId: number): boolean {
    return this.submitting.has(runId) || this.tracked.has(runId);
  }

  /** Resolves when no run this lab submitted is queued or running. */
  idle(): Promise<void> {
    if (![...this.tracked.values()].some((t) => t.own)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops following the runs (they go on in SLURM; the next lab to open the data folder takes them over). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.ticking;
    for (const id of this.tracked.keys()) this.store.updateRun(id, { ownerPid: null });
  }

  /**
   * Submits queued runs as one job array. Runs that cannot be submitted (no SLURM here, a broken profile, a learned
   * objective no longer stored) fail with the reason.
   */
  async submit(runIds: readonly number[]): Promise<void> {
    const { home } = this.options;
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    const dir = path.join(home, 'slurm', `${stamp}-${randomUUID().slice(0, 8)}`);
    const runs: { runId: number; attempt: string; from: number }[] = [];
    for (const runId of runIds) this.submitting.add(runId);
    try {
      const profile = readProfile(home);
      fs.mkdirSync(dir, { recursive: true });
      for (const runId of runIds) {
        let start: StartMessage;
        try {
          start = startMessage(this.store, home, runId);
        } catch (err) {
          this.setStatus(runId, 'failed', { error: (err as Error).message, finishedAt: Date.now() });
          continue;
        }
        const attempt = randomUUID();
        const from = this.store.checkpointOf(runId)?.step ?? 0;
        writeTaskStart(dir, runs.length, { start, fromStep: from, attempt });
        runs.push({ runId, attempt, from });
        this.store.updateRun(runId, {
          ownerPid: process.pid,
          attempt,
          slurmDir: path.relative(home, dir),
          slurmState: SUBMITTING,
        });
      }
      if (!runs.length) return;
      const experiment = this.store.getRun(runs[0].runId)?.experimentId;
      const script = path.join(dir, 'job.sh');
      fs.writeFileSync(
        script,
        jobScript(profile, {
          dir,
          count: runs.length,
          name: `metalab-e${experiment}`,
          workerScript: this.options.workerScript,
          nodeProgram: this.options.nodeProgram,
        }),
      );
      const jobId = await submit(script);
      for (const [index, { runId, attempt, from }] of runs.entries()) {
        const job = `${jobId}_${index}`;
        this.store.updateRun(runId, { slurmJob: job, slurmState: 'PENDING' });
        const run = this.store.getRun(runId);
        if (!run) continue;
        this.follow(run, { attempt, job, dir, from, own: true, shown: 'PENDING' });
        this.options.emit?.({
          type: 'run-state',
          runId,
          experimentId: run.experimentId,
          status: 'queued',
          error: null,
        });
      }
      // Cancelled (by this lab or another) while sbatch was answering: a failed scancel is told on the run.
      for (const [i, { runId }] of runs.entries()) {
        if (!this.store.slurm.cancelRequested(runId)) continue;
        await cancel([`${jobId}_${i}`]).catch((err: Error) => {
          this.store.slurm.addHistory(runId, `${jobId}_${i}: not cancelled: ${err.message}`);
          this.emitState(runId);
        });
      }
    } catch (err) {
      const error = `cannot submit to SLURM: ${(err as Error).message}`;
      for (const { runId } of runs.length ? runs : runIds.map((runId) => ({ runId })))
        if (!this.tracked.has(runId)) this.setStatus(runId, 'failed', { error, finishedAt: Date.now() });
    } finally {
      for (const runId of runIds) this.submitting.delete(runId);
      // A resubmission that failed leaves nothing to wait for.
      this.notifyIfIdle();
    }
  }

  /** scancel: SLURM ends the task (SIGTERM, then SIGKILL); its state says when it is gone. */
  async cancel(runId: number): Promise<void> {
    const run = this.store.getRun(runId);
    if (!run) return;
    this.store.requestCancel(runId);
    // One being submitted has no job yet (or its last one, ended): its task is cancelled when sbatch answers.
    if (!this.submitting.has(runId) && run.slurm) await cancel([run.slurm.job]);
  }

  /** Queues a stopped run again as a job of its own, from the checkpoint `from` names. */
  async retry(runId: number, from: RetryFrom): Promise<void> {
    this.options.emit?.(requeueForRetry(this.store, this.options.home, runId, from));
    await this.submit([runId]);
  }

  /** Cancels the run's task and stops following it (its run is being deleted). */
  async stop(runId: number): Promise<void> {
    const job = this.tracked.get(runId)?.job ?? this.store.getRun(runId)?.slurm?.job;
    this.forget(runId);
    if (job) await cancel([job]).catch(() => undefined);
  }

  private tick(): Promise<void> {
    this.ticking ??= this.poll()
      .catch((err: Error) => {
        // SLURM or the store unavailable for the moment: shown on the runs, tried again at the next tick.
        for (const t of this.tracked.values()) this.show(t, `cannot reach SLURM: ${err.message}`);
      })
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    if (this.options.adopt) this.adoptOrphans();
    // One listing per submission folder, whatever the number of its tasks (a big array on NFS).
    const listings = new Map<string, string[]>();
    for (const t of [...this.tracked.values()]) {
      if (!listings.has(t.dir)) listings.set(t.dir, folderNames(t.dir));
      this.ingest(t, listings.get(t.dir));
    }
    const jobs = [...new Set([...this.tracked.values()].map((t) => t.job.split('_')[0]))];
    if (!jobs.length) return;
    const states = await jobStates(jobs);
    for (const t of [...this.tracked.values()]) {
      if (this.closed) return;
      if (this.tracked.get(t.runId) !== t) continue;
      await this.apply(t, states.get(t.job));
    }
  }

  /** Takes over the SLURM runs of labs that are gone; those stopped before SLURM gave them a job are interrupted. */
  private adoptOrphans(): void {
    for (const orphan of this.store.slurm.orphans(this.isAlive)) {
      if (this.tracked.has(orphan.id) || this.submitting.has(orphan.id)) continue;
      if (!this.store.slurm.adopt(orphan.id, orphan.owner, process.pid)) continue;
      const run = this.store.getRun(orphan.id);
      const dir = this.store.slurm.dirOf(orphan.id);
      const attempt = this.store.attemptOf(orphan.id);
      if (!run || !orphan.job || !dir || !attempt || run.slurm?.state === SUBMITTING) {
        this.setStatus(orphan.id, 'interrupted', {
          error: 'the lab stopped while submitting this run to SLURM; retry submits it again',
        });
        continue;
      }
      const from = run.checkpointStep ?? 0;
      const shown = run.slurm?.state ?? null;
      this.follow(run, { attempt, job: orphan.job, dir: path.join(this.options.home, dir), from, own: false, shown });
    }
  }

  /** Starts following a run's task. */
  private follow(
    run: Run,
    task: { attempt: string; job: string; dir: string; from: number; own: boolean; shown: string | null },
  ): void {
    this.timer.ref();
    this.tracked.set(run.id, {
      runId: run.id,
      experimentId: run.experimentId,
      totalSteps: run.totalSteps,
      startedAt: Date.now(),
      fromStep: task.from,
      outcome: null,
      lastProgress: null,
      stepMs: null,
      attempt: task.attempt,
      job: task.job,
      dir: task.dir,
      index: Number(task.job.split('_')[1]),
      restart: -1,
      submittedFrom: task.from,
      own: task.own,
      shown: task.shown,
    });
  }

  /**
   * Stores the messages the task's workers wrote since the last read, file by file in the order of the task's
   * starts. A worker's own end (finished, diverged, failed) ends the run in the same transaction; `cancelled` waits
   * for SLURM's state (scancel, the time limit and a requeue all stop a worker the same way). `names`: the submission
   * folder's listing, where the caller has a fresh one.
   */
  private ingest(t: Tracked, names?: string[]): void {
    const context = { store: this.store, home: this.options.home, emit: this.options.emit };
    for (const { file, restart } of messageFiles(t.dir, t.index, names)) {
      if (restart < t.restart || !this.tracked.has(t.runId)) continue;
      const name = path.relative(this.options.home, file);
      const frames = readFrames<FromWorker>(file, this.store.slurm.offset(t.runId, name));
      if (!frames.length) continue;
      let ended: RunStatus | null = null;
      let started = false;
      try {
        this.store.asAttempt(t.runId, t.attempt, () => {
          if (restart > t.restart) {
            t.restart = restart;
            t.outcome = null;
            t.lastProgress = null;
          }
          started = this.markRunning(t.runId);
          for (const { message } of frames) {
            // A start (a requeued task's too) records again from the step it resumed from.
            if (message.type === 'started') this.store.truncateAfter(t.runId, message.fromStep);
            storeReport(context, t, message);
          }
          this.store.slurm.setOffset(t.runId, name, frames[frames.length - 1].end);
          if (t.outcome && t.outcome.status !== 'cancelled') {
            ended = t.outcome.status;
            this.store.setRunStatus(t.runId, ended, { error: t.outcome.error, finishedAt: Date.now() });
          }
        });
      } catch (err) {
        if (!(err instanceof StaleAttemptError)) throw err;
        // Deleted, or retried by another lab: its messages are no longer this run's.
        this.forget(t.runId);
        return;
      }
      if (ended) {
        // Before SLURM has seen the task end: what the lab knows.
        this.show(t, `ended (${ended})`);
        this.end(t, ended, t.outcome?.error ?? null);
        return;
      }
      if (started) this.emitState(t.runId, 'running');
    }
  }

  /** A queued run (its task started, or SLURM says it runs) becomes running; true where it changed. */
  private markRunning(runId: number): boolean {
    const run = this.store.getRun(runId);
    if (run?.status !== 'queued') return false;
    this.store.setRunStatus(runId, 'running', { startedAt: run.startedAt ?? Date.now() });
    return true;
  }

  /** What SLURM says of the task: the run waits, runs, or has ended (and how). */
  private async apply(t: Tracked, task: TaskState | undefined): Promise<void> {
    if (!task) {
      this.ingest(t);
      if (!this.tracked.has(t.runId)) return;
      // scancel takes a pending task out of its array's record, leaving it no record of its own.
      if (this.store.slurm.cancelRequested(t.runId)) {
        this.show(t, 'CANCELLED while pending');
        return this.end(t, 'cancelled', null);
      }
      const error = `SLURM no longer knows job ${t.job} (it ended more than MinJobAge ago, or was purged)`;
      this.show(t, 'unknown to SLURM');
      return this.end(t, 'interrupted', `${error}; retry resumes from its checkpoint`);
    }
    const reason = task.reason && task.reason !== 'None' ? ` (${task.reason})` : '';
    if (WAITING.has(task.state)) {
      this.show(t, `${task.state}${reason}`);
      if (this.store.getRun(t.runId)?.status === 'running') this.setStatus(t.runId, 'queued');
      return;
    }
    if (!ENDED.has(task.state)) {
      if (this.markRunning(t.runId)) this.emitState(t.runId, 'running');
      this.show(t, `${task.state}${task.node ? ` on ${task.node}` : ''}`);
      return;
    }
    // The task's last words, written before it ended, first.
    this.ingest(t);
    if (!this.tracked.has(t.runId)) return;
    const said = describe(task);
    this.show(t, said.replace(/^SLURM: /, ''));
    const step = this.store.checkpointOf(t.runId)?.step ?? 0;
    const resumes = step ? `retry resumes from its checkpoint (step ${step})` : 'retry starts it again';
    const log = path.relative(this.options.home, logFile(t.dir, t.index));
    switch (task.state) {
      case 'COMPLETED':
        return this.end(
          t,
          t.outcome?.status ?? 'failed',
          t.outcome ? null : `${said}, but its worker did not say how the run ended (log: ${log})`,
        );
      case 'CANCELLED':
        return this.end(
          t,
          'cancelled',
          this.store.slurm.cancelRequested(t.runId) ? null : `${said} (scancel outside the lab?); ${resumes}`,
        );
      case 'TIMEOUT': {
        const again = readProfile(this.options.home).resubmitOnTimeout && step > t.submittedFrom;
        if (!again) return this.end(t, 'interrupted', `${said}: it reached its time limit; ${resumes}`);
        this.store.slurm.addHistory(t.runId, `${t.job}: TIMEOUT at step ${step}, resubmitted from its checkpoint`);
        this.end(t, 'interrupted', `${said} at step ${step}`, true);
        try {
          await this.retry(t.runId, 'latest');
        } catch (err) {
          // Its checkpoint is damaged, say: the run stays interrupted, with the choices retry gives.
          this.setStatus(t.runId, 'interrupted', { error: `${said}; not resubmitted: ${(err as Error).message}` });
          this.notifyIfIdle();
        }
        return;
      }
      case 'PREEMPTED':
        return this.end(t, 'interrupted', `${said}; ${resumes}`);
      default:
        return this.end(t, 'failed', `${said}; ${resumes} (log: ${log})`);
    }
  }

  private end(t: Tracked, status: RunStatus, error: string | null, again = false): void {
    this.forget(t.runId, again);
    const run = this.store.getRun(t.runId);
    if (!run) return;
    if (run.status !== status || run.error !== error)
      this.store.setRunStatus(t.runId, status, { error, finishedAt: Date.now() });
    if (status !== 'finished' && status !== 'interrupted')
      this.store.slurm.addHistory(t.runId, `${t.job}: ${status}${error ? ` (${error})` : ''}`);
    this.emitState(t.runId, status);
  }

  /** Stops following the run; `again`: it is being submitted again (a lab waiting for its runs goes on waiting). */
  private forget(runId: number, again = false): void {
    this.tracked.delete(runId);
    if (!again) this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if ([...this.tracked.values()].some((t) => t.own)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Writes SLURM's word on the task where it changed. */
  private show(t: Tracked, state: string): void {
    if (t.shown === state) return;
    t.shown = state;
    this.store.updateRun(t.runId, { slurmState: state });
    this.emitState(t.runId);
  }

  private setStatus(runId: number, status: RunStatus, fields: Parameters<Store['setRunStatus']>[2] = {}): void {
    this.store.setRunStatus(runId, status, fields);
    this.emitState(runId, status);
  }

  private emitState(runId: number, status?: RunStatus): void {
    const run = this.store.getRun(runId);
    if (run)
      this.options.emit?.({
        type: 'run-state',
        runId,
        experimentId: run.experimentId,
        status: status ?? run.status,
        error: run.error,
      });
  }
}

/** `SLURM: FAILED, killed by signal 9 (SIGKILL), on node1`: a task's end as SLURM reports it. */
export function describe(task: TaskState): string {
  const [code, signal] = task.exitCode.split(':').map(Number);
  const exit = signal
    ? `killed by signal ${signal}${signal === 9 ? ' (SIGKILL)' : ''}`
    : code
      ? `exit code ${code}`
      : '';
  const reason = task.reason && task.reason !== 'None' ? `reason ${task.reason}` : '';
  return [`SLURM: ${task.state}`, exit, reason, task.node && `on ${task.node}`].filter(Boolean).join(', ');
}
