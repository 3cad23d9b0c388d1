// Forward-only schema migrations. Migration i (0-based) brings a database from user_version i to i + 1: SQL,
// or a function for a change of stored JSON. Never edit a released migration: append a new one.
import type Database from 'better-sqlite3';
import { PHASE_LABELS, type RunSummary } from '../../../shared/results.js';

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
