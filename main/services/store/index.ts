// The local SQLite store: experiments, runs, metric series, evaluation curves, run summaries and learned objectives.
// One writer per process; WAL lets the page read while workers' metrics are being written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EvalCurve, Experiment, Run, RunStatus, Series, SeriesOptions } from '../../../shared/api.js';
import type { Executor } from '../../../shared/cluster.js';
import type { Rollout, RolloutRef } from '../../../shared/rollout.js';
import type { MetricRow } from '../../../shared/metrics.js';
import { RunSummary } from '../../../shared/results.js';
import type { ExperimentSpec, RunSpec, SweepPoint } from '../../../shared/spec.js';
import { MIGRATIONS } from './migrations.js';
import { ObjectiveTable } from './objectives.js';
import { MetricTable } from './metrics.js';
import { SlurmTable } from './slurm.js';

export const SCHEMA_VERSION = MIGRATIONS.length;

export class StoreError extends Error {
  override name = 'StoreError';
}

/** A write for an attempt of a run that is no longer its current one (the run was deleted or started again). */
export class StaleAttemptError extends StoreError {
  override name = 'StaleAttemptError';
}

/** How a database is opened: read-write (created and migrated as needed), or read-only (a folder we may not write). */
export type OpenMode = 'read-write' | 'read-only';

/** Whether this process may write the database file (and the folder beside it, for WAL files and checkpoints). */
export function writable(file: string): boolean {
  // The folder may not exist yet: then whether it can be made, in the nearest folder that does.
  let dir = path.dirname(file);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    if (fs.existsSync(file)) fs.accessSync(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Opens (creating if needed) and migrates the database file, or opens it read-only where the folder cannot be
 * written. Refuses a file written by a newer metalab, and a damaged one (PRAGMA quick_check), naming the file,
 * before anything is written to it.
 */
export function openDatabase(file: string, mode: OpenMode): Database.Database {
  if (mode === 'read-write') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(mode === 'read-only' ? readableCopy(file) : file, { readonly: mode === 'read-only' });
  try {
    db.pragma('busy_timeout = 5000');
    const damaged = db.pragma('quick_check', { simple: true });
    if (damaged !== 'ok') {
      throw new StoreError(
        `${file} is damaged (SQLite quick_check: ${String(damaged)}); nothing was written to it. ` +
          'Restore it from a backup (or a metalab.db.v*.bak beside it), or set METALAB_HOME to another folder.',
      );
    }
    checkVersion(file, db.pragma('user_version', { simple: true }) as number);
    if (mode === 'read-only') return db;
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    migrate(db, file);
    db.pragma('foreign_keys = ON');
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open the metalab database ${file}: ${(err as Error).message}`);
  }
}

/**
 * A copy of a database in a read-only folder, in a temporary folder, with its write-ahead log: SQLite opens a
 * WAL database only where it can create the -shm index beside it (this SQLite build takes no URI options such as
 * immutable=1). Removed when the store closes.
 */
function readableCopy(file: string): string {
  if (!fs.existsSync(file)) throw new StoreError(`no metalab database at ${file}, and its folder is read-only`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalab-read-only-'));
  const copy = path.join(dir, path.basename(file));
  fs.copyFileSync(file, copy);
  if (fs.existsSync(`${file}-wal`)) fs.copyFileSync(`${file}-wal`, `${copy}-wal`);
  return copy;
}

function checkVersion(file: string, version: number): void {
  if (version <= SCHEMA_VERSION) return;
  throw new StoreError(
    `${file} has schema version ${version}, but this metalab knows versions up to ${SCHEMA_VERSION}: ` +
      'it was written by a newer metalab. Upgrade metalab, or set METALAB_HOME to another folder.',
  );
}

/**
 * Brings the schema up to date under BEGIN IMMEDIATE, reading the version inside the transaction, so processes
 * opening one folder at once migrate it exactly once. Foreign keys are off meanwhile (migrations rebuild tables).
 */
function migrate(db: Database.Database, file: string): void {
  const before = db.pragma('user_version', { simple: true }) as number;
  if (before === SCHEMA_VERSION) return;
  // VACUUM INTO cannot run inside a transaction: the backup is taken first (a concurrent opener may take one too).
  if (before > 0) backup(db, file, before);
  db.pragma('foreign_keys = OFF');
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    checkVersion(file, version);
    for (let v = version; v < SCHEMA_VERSION; v++) {
      const migration = MIGRATIONS[v];
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
    }
    const broken = db.pragma('foreign_key_check') as unknown[];
    if (broken.length) throw new StoreError(`${file}: migrating broke ${broken.length} foreign keys; nothing changed`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

function backup(db: Database.Database, file: string, version: number): void {
  let target = `${file}.v${version}.bak`;
  if (fs.existsSync(target)) target = `${file}.v${version}.${Date.now()}.bak`;
  db.prepare('VACUUM INTO ?').run(target);
}

interface RunRow {
  id: number;
  experiment_id: number;
  experiment_name: string;
  sweep_index: number;
  sweep_point: string;
  spec: string;
  status: RunStatus;
  backend: string | null;
  seed: number;
  step: number;
  total_steps: number;
  examples_per_sec: number | null;
  owner_pid: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  checkpoint_path: string | null;
  checkpoint_step: number | null;
  summary: string | null;
  executor: Executor;
  slurm_job: string | null;
  slurm_state: string | null;
  slurm_history: string;
}

interface ExperimentRow {
  id: number;
  name: string;
  spec: string;
  tags: string;
  notes: string;
  created_at: number;
  run_count: number;
}

const EXPERIMENT_SELECT = `
  SELECT e.*, (SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id) AS run_count
  FROM experiments e`;

const RUN_SELECT = `
  SELECT r.*, e.name AS experiment_name, s.summary
  FROM runs r JOIN experiments e ON e.id = r.experiment_id
  LEFT JOIN run_summaries s ON s.run_id = r.id`;

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    experimentId: row.experiment_id,
    experimentName: row.experiment_name,
    sweepIndex: row.sweep_index,
    sweepPoint: JSON.parse(row.sweep_point) as SweepPoint,
    spec: JSON.parse(row.spec) as RunSpec,
    status: row.status,
    backend: row.backend,
    seed: row.seed,
    step: row.step,
    totalSteps: row.total_steps,
    examplesPerSec: row.examples_per_sec,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
    checkpointStep: row.checkpoint_step,
    summary: row.summary ? RunSummary.parse(JSON.parse(row.summary)) : null,
    executor: row.executor,
    slurm: row.slurm_job
      ? { job: row.slurm_job, state: row.slurm_state, history: JSON.parse(row.slurm_history) as string[] }
      : null,
  };
}

function toExperiment(row: ExperimentRow): Experiment {
  return {
    id: row.id,
    name: row.name,
    spec: JSON.parse(row.spec) as ExperimentSpec,
    tags: JSON.parse(row.tags) as string[],
    notes: row.notes,
    createdAt: row.created_at,
    runCount: row.run_count,
  };
}

export interface RunFields {
  backend?: string | null;
  step?: number;
  examplesPerSec?: number | null;
  ownerPid?: number | null;
  attempt?: string | null;
  cancelRequested?: 0 | 1;
  startedAt?: number | null;
  finishedAt?: number | null;
  error?: string | null;
  checkpointPath?: string | null;
  checkpointStep?: number | null;
  slurmJob?: string | null;
  slurmState?: string | null;
  slurmDir?: string | null;
}

const RUN_FIELD_COLUMNS: Record<keyof RunFields, string> = {
  backend: 'backend',
  step: 'step',
  examplesPerSec: 'examples_per_sec',
  ownerPid: 'owner_pid',
  attempt: 'attempt',
  cancelRequested: 'cancel_requested',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  error: 'error',
  checkpointPath: 'checkpoint_path',
  checkpointStep: 'checkpoint_step',
  slurmJob: 'slurm_job',
  slurmState: 'slurm_state',
  slurmDir: 'slurm_dir',
};

export class Store {
  readonly db: Database.Database;

  /** Read-only where the data folder cannot be written: every write is refused with a StoreError. */
  readonly mode: OpenMode;

  /** Learned objectives (MetaGenRL): those runs made and those imported. */
  readonly objectives: ObjectiveTable;
  /** Metric series and their levels. */
  readonly metrics: MetricTable;
  /** What the lab knows of the runs it submitted to SLURM. */
  readonly slurm: SlurmTable;

  constructor(
    readonly file: string,
    mode?: OpenMode,
  ) {
    this.mode = mode ?? (writable(file) ? 'read-write' : 'read-only');
    this.db = openDatabase(file, this.mode);
    this.objectives = new ObjectiveTable(this.db);
    this.slurm = new SlurmTable(this.db);
    this.metrics = new MetricTable(this.db);
  }

  close(): void {
    this.db.close();
    // The temporary copy a read-only store reads (see readableCopy).
    if (this.mode === 'read-only') fs.rmSync(path.dirname(this.db.name), { recursive: true, force: true });
  }

  /** The experiment (its tags from the spec) and its runs, queued, in one transaction. */
  createExperiment(
    spec: ExperimentSpec,
    runs: { point: SweepPoint; spec: RunSpec }[],
  ): { experimentId: number; runIds: number[] } {
    const now = Date.now();
    return this.db.transaction(() => {
      const experimentId = Number(
        this.db
          .prepare('INSERT INTO experiments (name, spec, tags, created_at) VALUES (?, ?, ?, ?)')
          .run(spec.name, JSON.stringify(spec), JSON.stringify(spec.tags ?? []), now).lastInsertRowid,
      );
      const insert = this.db.prepare(
        `INSERT INTO runs (experiment_id, sweep_index, sweep_point, spec, status, seed, total_steps, created_at,
           executor)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
      );
      const runIds = runs.map((r, i) =>
        Number(
          insert.run(
            experimentId,
            i,
            JSON.stringify(r.point),
            JSON.stringify(r.spec),
            r.spec.seed,
            r.spec.training.steps,
            now,
            spec.executor ?? 'local',
          ).lastInsertRowid,
        ),
      );
      return { experimentId, runIds };
    })();
  }

  listExperiments(): Experiment[] {
    const rows = this.db.prepare(`${EXPERIMENT_SELECT} ORDER BY e.id DESC`).all() as ExperimentRow[];
    return rows.map(toExperiment);
  }

  getExperiment(id: number): Experiment | undefined {
    const row = this.db.prepare(`${EXPERIMENT_SELECT} WHERE e.id = ?`).get(id) as ExperimentRow | undefined;
    return row && toExperiment(row);
  }

  updateExperiment(id: number, patch: { name?: string; tags?: string[]; notes?: string }): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    if (patch.name !== undefined) {
      sets.push('name = ?');
      values.push(patch.name);
    }
    if (patch.tags !== undefined) {
      sets.push('tags = ?');
      values.push(JSON.stringify(patch.tags));
    }
    if (patch.notes !== undefined) {
      sets.push('notes = ?');
      values.push(patch.notes);
    }
    if (sets.length) this.db.prepare(`UPDATE experiments SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  deleteExperiment(id: number): void {
    this.db.prepare('DELETE FROM experiments WHERE id = ?').run(id);
  }

  listRuns(filter: { experimentId?: number; statuses?: RunStatus[] } = {}): Run[] {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.experimentId !== undefined) {
      where.push('r.experiment_id = ?');
      values.push(filter.experimentId);
    }
    if (filter.statuses) {
      where.push(`r.status IN (${filter.statuses.map(() => '?').join(',')})`);
      values.push(...filter.statuses);
    }
    const sql = `${RUN_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC`;
    return (this.db.prepare(sql).all(...values) as RunRow[]).map(toRun);
  }

  getRun(id: number): Run | undefined {
    const row = this.db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as RunRow | undefined;
    return row && toRun(row);
  }

  checkpointOf(id: number): { path: string; step: number } | null {
    const row = this.db.prepare('SELECT checkpoint_path, checkpoint_step FROM runs WHERE id = ?').get(id) as
      | { checkpoint_path: string | null; checkpoint_step: number | null }
      | undefined;
    return row?.checkpoint_path != null && row.checkpoint_step != null
      ? { path: row.checkpoint_path, step: row.checkpoint_step }
      : null;
  }

  setRunStatus(id: number, status: RunStatus, fields: RunFields = {}): void {
    this.updateRun(id, fields, status);
  }

  updateRun(id: number, fields: RunFields, status?: RunStatus): void {
    const sets: string[] = [];
    const values: unknown[] = [];
    if (status) {
      sets.push('status = ?');
      values.push(status);
    }
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      sets.push(`${RUN_FIELD_COLUMNS[k as keyof RunFields]} = ?`);
      values.push(v);
    }
    if (sets.length) this.db.prepare(`UPDATE runs SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
  }

  deleteRun(id: number): void {
    this.db.prepare('DELETE FROM runs WHERE id = ?').run(id);
  }

  /** The process that queued or runs the run (null: none recorded). */
  ownerOf(runId: number): number | null {
    return (this.db.prepare('SELECT owner_pid FROM runs WHERE id = ?').pluck().get(runId) as number | null) ?? null;
  }

  /** Asks the process that owns a run's worker to cancel it (see takeCancelRequests). */
  requestCancel(runId: number): void {
    this.db.prepare('UPDATE runs SET cancel_requested = 1 WHERE id = ?').run(runId);
  }

  /** Which of these runs another process asked to cancel; the requests are taken (cleared). */
  takeCancelRequests(runIds: readonly number[]): number[] {
    if (!runIds.length) return [];
    const marks = runIds.map(() => '?').join(',');
    return this.db.transaction(() => {
      const ids = this.db
        .prepare(`SELECT id FROM runs WHERE cancel_requested = 1 AND id IN (${marks})`)
        .pluck()
        .all(...runIds) as number[];
      if (ids.length) this.db.prepare(`UPDATE runs SET cancel_requested = 0 WHERE id IN (${marks})`).run(...runIds);
      return ids;
    })();
  }

  /** Changes whenever another connection (another process) commits to the database. */
  dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  /** The run's current attempt (null before its first start; undefined: no such run). */
  attemptOf(runId: number): string | null | undefined {
    const row = this.db.prepare('SELECT attempt FROM runs WHERE id = ?').get(runId) as
      | { attempt: string | null }
      | undefined;
    return row?.attempt;
  }

  /**
   * Runs `write` in one transaction (taking the write lock at once) if `attempt` is still the run's current one;
   * otherwise throws StaleAttemptError and writes nothing.
   */
  asAttempt<T>(runId: number, attempt: string, write: () => T): T {
    return this.db
      .transaction(() => {
        const current = this.attemptOf(runId);
        if (current !== attempt) {
          throw new StaleAttemptError(`run r${runId} ${current === undefined ? 'was deleted' : 'was started again'}`);
        }
        return write();
      })
      .immediate();
  }

  /**
   * Local runs left active (`running`, `stalled` or `queued`) by a process that no longer exists become
   * `interrupted`. (A SLURM run goes on without the lab that submitted it: the next lab re-attaches to it.)
   */
  markOrphansInterrupted(isAlive: (pid: number) => boolean): number[] {
    const rows = this.db
      .prepare(`SELECT id, owner_pid FROM runs WHERE status IN ('running', 'stalled', 'queued') AND executor = 'local'`)
      .all() as {
      id: number;
      owner_pid: number | null;
    }[];
    const orphans = rows.filter((r) => r.owner_pid === null || !isAlive(r.owner_pid)).map((r) => r.id);
    const mark = this.db.prepare(
      `UPDATE runs SET status = 'interrupted', error = 'the app stopped while this run was active' WHERE id = ?`,
    );
    this.db.transaction(() => {
      for (const id of orphans) mark.run(id);
    })();
    return orphans;
  }

  appendMetrics(runId: number, rows: readonly MetricRow[]): void {
    this.metrics.append(runId, rows);
  }

  /** Drops what a run recorded after `step`, and its summary: a run resumed from a checkpoint records them again. */
  truncateAfter(runId: number, step: number): void {
    this.db.transaction(() => {
      this.metrics.truncateAfter(runId, step);
      this.db.prepare('DELETE FROM eval_curves WHERE run_id = ? AND step > ?').run(runId, step);
      this.db.prepare('DELETE FROM rollouts WHERE run_id = ? AND step > ?').run(runId, step);
      this.db.prepare('DELETE FROM run_summaries WHERE run_id = ?').run(runId);
    })();
  }

  metricKeys(runId: number): string[] {
    return this.metrics.keys(runId);
  }

  /** One series of a run in step order, without missing values, up to `toStep`. */
  series(runId: number, key: string, toStep = Number.MAX_SAFE_INTEGER): [step: number, value: number][] {
    return this.db
      .prepare(
        `SELECT step, value FROM metrics
         WHERE run_id = ? AND key = ? AND step <= ? AND value IS NOT NULL ORDER BY step`,
      )
      .raw()
      .all(runId, key, toStep) as [number, number][];
  }

  /** Every stored value of a run, for export. */
  allMetrics(runId: number): { key: string; step: number; value: number | null }[] {
    return this.db.prepare('SELECT key, step, value FROM metrics WHERE run_id = ? ORDER BY key, step').all(runId) as {
      key: string;
      step: number;
      value: number | null;
    }[];
  }

  /** Each series in at most `maxPoints` buckets (./metrics.ts). */
  getSeries(runIds: readonly number[], keys: readonly string[], options: SeriesOptions = {}): Series[] {
    return this.metrics.getSeries(runIds, keys, options);
  }

  putEvalCurves(runId: number, curves: readonly EvalCurve[]): void {
    const insert = this.db.prepare(
      'INSERT OR REPLACE INTO eval_curves (run_id, step, split, metric, curve) VALUES (?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const c of curves)
        insert.run(
          runId,
          c.step,
          c.split,
          c.metric,
          JSON.stringify(c.values.map((v) => (v !== null && Number.isFinite(v) ? v : null))),
        );
    })();
  }

  putRollout(runId: number, rollout: Omit<Rollout, 'runId'>): void {
    this.db
      .prepare('INSERT OR REPLACE INTO rollouts (run_id, step, split, frames, rollout) VALUES (?, ?, ?, ?, ?)')
      .run(runId, rollout.step, rollout.split, rollout.frames, JSON.stringify(rollout));
  }

  listRollouts(runId: number): RolloutRef[] {
    return this.db
      .prepare('SELECT step, split, frames FROM rollouts WHERE run_id = ? ORDER BY step, split')
      .all(runId) as RolloutRef[];
  }

  getRollout(runId: number, step: number, split: string): Rollout | null {
    const row = this.db
      .prepare('SELECT rollout FROM rollouts WHERE run_id = ? AND step = ? AND split = ?')
      .get(runId, step, split) as { rollout: string } | undefined;
    return row ? { ...(JSON.parse(row.rollout) as Omit<Rollout, 'runId'>), runId } : null;
  }

  getEvalCurves(runId: number): EvalCurve[] {
    const rows = this.db
      .prepare('SELECT step, split, metric, curve FROM eval_curves WHERE run_id = ? ORDER BY step, split, metric')
      .all(runId) as {
      step: number;
      split: string;
      metric: string;
      curve: string;
    }[];
    return rows.map((r) => ({
      step: r.step,
      split: r.split,
      metric: r.metric,
      values: JSON.parse(r.curve) as (number | null)[],
    }));
  }

  putSummary(runId: number, summary: RunSummary): void {
    this.db
      .prepare('INSERT OR REPLACE INTO run_summaries (run_id, summary, updated_at) VALUES (?, ?, ?)')
      .run(runId, JSON.stringify(RunSummary.parse(summary)), Date.now());
  }
}
