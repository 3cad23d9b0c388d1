// The local SQLite store: experiments, runs, metric series, evaluation curves and run summaries.
// One writer per process; WAL lets the page read while workers' metrics are being written.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EvalCurve, Experiment, Run, RunStatus, Series, SeriesOptions } from '../../../shared/api.js';
import type { MetricRow } from '../../../shared/metrics.js';
import { RunSummary } from '../../../shared/results.js';
import type { ExperimentSpec, RunSpec, SweepPoint } from '../../../shared/spec.js';
import { MIGRATIONS } from './migrations.js';

export const SCHEMA_VERSION = MIGRATIONS.length;
export const DEFAULT_MAX_POINTS = 1000;

export class StoreError extends Error {
  override name = 'StoreError';
}

/** Opens (creating if needed) and migrates the database file; refuses one written by a newer metalab. */
export function openDatabase(file: string): Database.Database {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `${file} has schema version ${version}, but this metalab knows versions up to ${SCHEMA_VERSION}: ` +
          'it was written by a newer metalab. ' +
          'Upgrade metalab, or set METALAB_HOME to another folder.',
      );
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (version < SCHEMA_VERSION) {
      if (version > 0) backup(db, file, version);
      db.transaction(() => {
        for (let v = version; v < SCHEMA_VERSION; v++) {
          const migration = MIGRATIONS[v];
          if (typeof migration === 'string') db.exec(migration);
          else migration(db);
        }
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
    }
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open the metalab database ${file}: ${(err as Error).message}`);
  }
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
  startedAt?: number | null;
  finishedAt?: number | null;
  error?: string | null;
  checkpointPath?: string | null;
  checkpointStep?: number | null;
}

const RUN_FIELD_COLUMNS: Record<keyof RunFields, string> = {
  backend: 'backend',
  step: 'step',
  examplesPerSec: 'examples_per_sec',
  ownerPid: 'owner_pid',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  error: 'error',
  checkpointPath: 'checkpoint_path',
  checkpointStep: 'checkpoint_step',
};

export class Store {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = openDatabase(file);
  }

  close(): void {
    this.db.close();
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
        `INSERT INTO runs (experiment_id, sweep_index, sweep_point, spec, status, seed, total_steps, created_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)`,
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

  /** Runs left `running` or `queued` by a process that no longer exists become `interrupted`. */
  markOrphansInterrupted(isAlive: (pid: number) => boolean): number[] {
    const rows = this.db.prepare(`SELECT id, owner_pid FROM runs WHERE status IN ('running', 'queued')`).all() as {
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
    const insert = this.db.prepare('INSERT OR REPLACE INTO metrics (run_id, key, step, value) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const [key, step, value] of rows) insert.run(runId, key, step, Number.isFinite(value) ? value : null);
    })();
  }

  /** Drops what a run recorded after `step`, and its summary: a run resumed from a checkpoint records them again. */
  truncateAfter(runId: number, step: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step);
      this.db.prepare('DELETE FROM eval_curves WHERE run_id = ? AND step > ?').run(runId, step);
      this.db.prepare('DELETE FROM run_summaries WHERE run_id = ?').run(runId);
    })();
  }

  metricKeys(runId: number): string[] {
    return (
      this.db.prepare('SELECT DISTINCT key FROM metrics WHERE run_id = ? ORDER BY key').all(runId) as { key: string }[]
    ).map((r) => r.key);
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

  /**
   * Downsamples each (run, key) series in SQL: the step range is cut into at most `maxPoints` equal buckets,
   * and each non-empty bucket yields its last step with the min, max and last value in it.
   */
  getSeries(runIds: readonly number[], keys: readonly string[], options: SeriesOptions = {}): Series[] {
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    const bounds = this.db.prepare('SELECT MIN(step) AS lo, MAX(step) AS hi FROM metrics WHERE run_id = ? AND key = ?');
    const query = this.db.prepare(`
      WITH p AS (SELECT CAST(@from AS INTEGER) AS lo, CAST(@to AS INTEGER) AS hi, CAST(@n AS INTEGER) AS n),
      s AS (
        -- integer bucket index: better-sqlite3 binds numbers as REAL, so the bounds are cast first
        SELECT step, value, (step - p.lo) * p.n / (p.hi - p.lo + 1) AS b
        FROM metrics, p WHERE run_id = @run AND key = @key AND step BETWEEN p.lo AND p.hi
      ), g AS (
        SELECT b, MIN(value) AS mn, MAX(value) AS mx, MAX(step) AS last_step FROM s GROUP BY b
      )
      SELECT g.last_step AS step, g.mn AS min, g.mx AS max, s.value AS last
      FROM g JOIN s ON s.step = g.last_step ORDER BY g.last_step`);
    const out: Series[] = [];
    for (const runId of runIds) {
      for (const key of keys) {
        const { lo, hi } = bounds.get(runId, key) as { lo: number | null; hi: number | null };
        if (lo === null || hi === null) {
          out.push({ runId, key, points: [] });
          continue;
        }
        const from = Math.max(options.fromStep ?? lo, lo);
        const to = Math.min(options.toStep ?? hi, hi);
        const points = to < from ? [] : (query.all({ run: runId, key, from, to, n: maxPoints }) as Series['points']);
        out.push({ runId, key, points });
      }
    }
    return out;
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
