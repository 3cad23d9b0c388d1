// Forward-only schema migrations. Migration i (0-based) brings a database from user_version i to i + 1: SQL,
// or a function for a change of stored JSON. Never edit a released migration: append a new one.
import type Database from 'better-sqlite3';
import { PHASE_LABELS, type RunSummary } from '../../../shared/results.js';
import { buildMetricLevels } from './metrics.js';

export type Migration = string | ((db: Database.Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  // 1: experiments, runs and per-step metric series
  `
  CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    sweep_index INTEGER NOT NULL,
    sweep_point TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL
      CHECK (status IN ('queued','running','finished','failed','cancelled','interrupted','diverged')),
    backend TEXT,
    seed INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER NOT NULL,
    examples_per_sec REAL,
    owner_pid INTEGER,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    error TEXT,
    checkpoint_path TEXT,
    checkpoint_step INTEGER
  ) STRICT;
  CREATE INDEX runs_by_experiment ON runs(experiment_id, sweep_index);
  CREATE INDEX runs_by_status ON runs(status);

  CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, key, step)
  ) STRICT, WITHOUT ROWID;
  `,
  // 2: evaluation curves (per-position arrays per eval step) and run summaries
  `
  CREATE TABLE eval_curves (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    split TEXT NOT NULL,
    metric TEXT NOT NULL,
    curve TEXT NOT NULL,
    PRIMARY KEY (run_id, step, split, metric)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE run_summaries (
    run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    figures TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;
  `,
  // 3: typed run summaries (shared/results.ts): missing values are null, not 'none', 'open' or 'never'; the
  // plateau is one object; the phase is a field of its own.
  (db) => {
    db.exec('ALTER TABLE run_summaries RENAME COLUMN figures TO summary');
    const rows = db.prepare('SELECT run_id, summary FROM run_summaries').all() as { run_id: number; summary: string }[];
    const update = db.prepare('UPDATE run_summaries SET summary = ? WHERE run_id = ?');
    for (const row of rows) update.run(JSON.stringify(typedSummary(JSON.parse(row.summary))), row.run_id);
  },
  // 4: ids are never reused (AUTOINCREMENT: a deleted run's id cannot name a new run, so no link, export or
  // worker still holding it can reach another run), each start of a run has its own attempt id (a worker of an
  // earlier attempt cannot write into the run), and a run can be `stalled`. SQLite changes a table's primary
  // key or CHECK only by rebuilding it; foreign keys are off while migrations run.
  `
  CREATE TABLE experiments_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  ) STRICT;
  INSERT INTO experiments_new SELECT id, name, spec, tags, notes, created_at FROM experiments;
  DROP TABLE experiments;
  ALTER TABLE experiments_new RENAME TO experiments;

  CREATE TABLE runs_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    sweep_index INTEGER NOT NULL,
    sweep_point TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL
      CHECK (status IN ('queued','running','stalled','finished','failed','cancelled','interrupted','diverged')),
    backend TEXT,
    seed INTEGER NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    total_steps INTEGER NOT NULL,
    examples_per_sec REAL,
    owner_pid INTEGER,
    attempt TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER,
    error TEXT,
    checkpoint_path TEXT,
    checkpoint_step INTEGER
  ) STRICT;
  INSERT INTO runs_new (id, experiment_id, sweep_index, sweep_point, spec, status, backend, seed, step, total_steps,
    examples_per_sec, owner_pid, created_at, started_at, finished_at, error, checkpoint_path, checkpoint_step)
  SELECT id, experiment_id, sweep_index, sweep_point, spec, status, backend, seed, step, total_steps,
    examples_per_sec, owner_pid, created_at, started_at, finished_at, error, checkpoint_path, checkpoint_step
  FROM runs;
  DROP TABLE runs;
  ALTER TABLE runs_new RENAME TO runs;
  CREATE INDEX runs_by_experiment ON runs(experiment_id, sweep_index);
  CREATE INDEX runs_by_status ON runs(status);
  `,
  // 5: a cancel asked for by a process that does not own the run's worker; its owner polls for it.
  'ALTER TABLE runs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0',
  // 6: recorded lifetimes of RL policies (shared/rollout.ts), one per evaluation step and split, as JSON.
  `
  CREATE TABLE rollouts (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    split TEXT NOT NULL,
    frames INTEGER NOT NULL,
    rollout TEXT NOT NULL,
    PRIMARY KEY (run_id, step, split)
  ) STRICT, WITHOUT ROWID;
  `,
  // 7: learned objectives (shared/learnedObjective.ts), kept apart from the runs that made them: lineage (with the
  // run's and experiment's ids and names as they were) is JSON of its own, so it survives deleting the run;
  // source_run_id is the live link a running metagenrl run updates its objective by, null once the run is deleted.
  // `tensors` lists names and shapes in name order; `weights` is their float32 values, little-endian, concatenated.
  `
  CREATE TABLE objectives (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    architecture TEXT NOT NULL,
    lineage TEXT NOT NULL,
    param_count INTEGER NOT NULL,
    tensors TEXT NOT NULL,
    weights BLOB NOT NULL,
    source_run_id INTEGER UNIQUE REFERENCES runs(id) ON DELETE SET NULL
  ) STRICT;
  CREATE INDEX objectives_by_age ON objectives(created_at);
  `,
  // 8: coarser levels of the metric series (min, max, count, last per 16, 256, 4,096 steps), see ./metrics.ts.
  buildMetricLevels,
  // 9: runs on a SLURM cluster (services/slurm/): the job array task, SLURM's last state, the submission's folder,
  // what happened to the run's earlier jobs (a list of lines), and how far the lab has read each file of messages
  // the run's workers wrote there (ingested exactly once).
  `
  ALTER TABLE runs ADD COLUMN executor TEXT NOT NULL DEFAULT 'local' CHECK (executor IN ('local','slurm'));
  ALTER TABLE runs ADD COLUMN slurm_job TEXT;
  ALTER TABLE runs ADD COLUMN slurm_state TEXT;
  ALTER TABLE runs ADD COLUMN slurm_dir TEXT;
  ALTER TABLE runs ADD COLUMN slurm_history TEXT NOT NULL DEFAULT '[]';
  CREATE TABLE slurm_ingest (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    file TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY (run_id, file)
  ) STRICT, WITHOUT ROWID;
  `,
];

/** A summary as stored before migration 3: every figure flat beside steps, backend, phase and the plateau's ends. */
function typedSummary(old: Record<string, number | string>): RunSummary {
  const { steps, backend, phase, plateau_start: start, plateau_end: end, ...rest } = old;
  const figures: Record<string, number | null> = {};
  // Numbers stay; the old sentinel strings ('never') mean "not measured".
  for (const [key, value] of Object.entries(rest)) figures[key] = typeof value === 'number' ? value : null;
  const length = figures.plateau_length;
  return {
    steps: Number(steps ?? 0),
    backend: String(backend ?? ''),
    phase: PHASE_LABELS.find((p) => p === phase) ?? null,
    plateau:
      typeof start === 'number' ? { start, end: typeof end === 'number' ? end : null, length: length ?? 0 } : null,
    figures,
  };
}
