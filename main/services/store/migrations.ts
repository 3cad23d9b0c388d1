// Forward-only schema migrations. Migration i (0-based) brings a database from user_version i to i + 1.
// Never edit a released migration: append a new one.
export const MIGRATIONS: readonly string[] = [
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
    status TEXT NOT NULL CHECK (status IN ('queued','running','finished','failed','cancelled','interrupted','diverged')),
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
];
