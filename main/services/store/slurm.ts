// The runs a lab submitted to SLURM: which submission folder holds each one's files, and how far the lab has read
// each file of worker messages (services/slurm/ingest.ts). An offset moves in the same transaction as the writes
// of the messages before it, so every message is stored exactly once, whichever lab reads it and however often
// one is restarted.
import type Database from 'better-sqlite3';

export class SlurmTable {
  constructor(private readonly db: Database.Database) {}

  /** The submission folder (relative to the data folder) of the run's current job; null where it has none. */
  dirOf(runId: number): string | null {
    return (this.db.prepare('SELECT slurm_dir FROM runs WHERE id = ?').pluck().get(runId) as string | null) ?? null;
  }

  /** Bytes of a message file already stored; 0 for one never read. */
  offset(runId: number, file: string): number {
    const row = this.db
      .prepare('SELECT offset FROM slurm_ingest WHERE run_id = ? AND file = ?')
      .pluck()
      .get(runId, file);
    return (row as number | undefined) ?? 0;
  }

  setOffset(runId: number, file: string, offset: number): void {
    this.db
      .prepare(
        `INSERT INTO slurm_ingest (run_id, file, offset) VALUES (?, ?, ?)
         ON CONFLICT (run_id, file) DO UPDATE SET offset = excluded.offset`,
      )
      .run(runId, file, offset);
  }

  /**
   * SLURM runs still queued or running whose lab is gone (`isAlive` false for their owner), with their job (null:
   * the lab stopped before SLURM gave it one).
   */
  orphans(isAlive: (pid: number) => boolean): { id: number; owner: number | null; job: string | null }[] {
    const rows = this.db
      .prepare(
        `SELECT id, owner_pid AS owner, slurm_job AS job FROM runs
         WHERE executor = 'slurm' AND status IN ('queued', 'running', 'stalled')`,
      )
      .all() as { id: number; owner: number | null; job: string | null }[];
    return rows.filter((r) => r.owner === null || !isAlive(r.owner));
  }

  /** Adds a line to what happened to the run's earlier jobs. */
  addHistory(runId: number, line: string): void {
    this.db
      .prepare("UPDATE runs SET slurm_history = json_insert(slurm_history, '$[#]', ?) WHERE id = ?")
      .run(line, runId);
  }

  /** Whether a cancel of the run was asked for (by any lab) since it was last queued. */
  cancelRequested(runId: number): boolean {
    return this.db.prepare('SELECT cancel_requested FROM runs WHERE id = ?').pluck().get(runId) === 1;
  }

  /** Takes over a run from the lab `from` (gone); false where another lab took it first. */
  adopt(runId: number, from: number | null, by: number): boolean {
    const change = this.db
      .prepare('UPDATE runs SET owner_pid = ? WHERE id = ? AND owner_pid IS ?')
      .run(by, runId, from);
    return change.changes === 1;
  }
}
