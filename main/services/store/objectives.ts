// The store's learned objectives (table `objectives`, migration 7): the one a metagenrl run keeps updating as it
// meta-trains, imported ones, and the experiments whose specs refer to one by its sha256.
import type Database from 'better-sqlite3';
import type { ObjectiveLineage, StoredObjective } from '../../../shared/learnedObjective.js';
import type { LearnedObjectiveSpec } from '../../../shared/spec.js';
import type { LearnedObjectiveWeights } from '../../engine/train.js';
import { fitName, objectiveSha256, packWeights, paramCount, unpackWeights, type TensorLayout } from '../objectives.js';

interface ObjectiveRow {
  id: number;
  sha256: string;
  name: string;
  created_at: number;
  architecture: string;
  lineage: string;
  param_count: number;
}

const COLUMNS = 'id, sha256, name, created_at, architecture, lineage, param_count';

function toObjective(row: ObjectiveRow): StoredObjective {
  return {
    id: row.id,
    sha256: row.sha256,
    name: row.name,
    createdAt: row.created_at,
    architecture: JSON.parse(row.architecture) as LearnedObjectiveSpec,
    lineage: JSON.parse(row.lineage) as ObjectiveLineage,
    paramCount: row.param_count,
  };
}

/** An objective to store: what was sent or read, its lineage and name. */
export interface NewObjective {
  weights: LearnedObjectiveWeights;
  lineage: ObjectiveLineage;
  name: string;
}

export class ObjectiveTable {
  constructor(private readonly db: Database.Database) {}

  /** Newest first. */
  list(): StoredObjective[] {
    const rows = this.db
      .prepare(`SELECT ${COLUMNS} FROM objectives ORDER BY created_at DESC, id DESC`)
      .all() as ObjectiveRow[];
    return rows.map(toObjective);
  }

  get(id: number): StoredObjective | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM objectives WHERE id = ?`).get(id) as ObjectiveRow | undefined;
    return row && toObjective(row);
  }

  bySha(sha256: string): StoredObjective | undefined {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM objectives WHERE sha256 = ?`).get(sha256) as
      | ObjectiveRow
      | undefined;
    return row && toObjective(row);
  }

  newest(): StoredObjective | undefined {
    return this.list()[0];
  }

  /** The objective's architecture and tensors (in name order). */
  weights(id: number): LearnedObjectiveWeights | undefined {
    const row = this.db.prepare('SELECT architecture, tensors, weights FROM objectives WHERE id = ?').get(id) as
      | { architecture: string; tensors: string; weights: Buffer }
      | undefined;
    if (!row) return undefined;
    const tensors = unpackWeights(JSON.parse(row.tensors) as TensorLayout, row.weights);
    return { architecture: JSON.parse(row.architecture) as LearnedObjectiveSpec, tensors };
  }

  /** The experiments whose specs train an agent by this objective (oldest first). */
  referencedBy(sha256: string): { id: number; name: string }[] {
    return this.db
      .prepare(
        `SELECT id, name FROM experiments WHERE json_extract(spec, '$.task.algorithm.objective') = ? ORDER BY id`,
      )
      .all(sha256) as { id: number; name: string }[];
  }

  /**
   * Keeps what a run's worker sent as the run's objective (a run has at most one: the latest). Its row is updated
   * in place (same id) unless an experiment refers to the objective it held: that one stays, detached from the run
   * and named by its meta-step, and the run gets a new row. Returns whether anything changed: nothing does for
   * the weights it holds already (a new lineage aside), and where another row holds the same objective already
   * (a run repeating another's), that row is the one kept.
   */
  putForRun(runId: number, next: NewObjective): boolean {
    const sha256 = objectiveSha256(next.weights.architecture, next.weights.tensors);
    return this.db.transaction(() => {
      const own = this.db
        .prepare('SELECT id, sha256, name, lineage FROM objectives WHERE source_run_id = ?')
        .get(runId) as { id: number; sha256: string; name: string; lineage: string } | undefined;
      if (own?.sha256 === sha256) {
        this.db.prepare('UPDATE objectives SET lineage = ? WHERE id = ?').run(JSON.stringify(next.lineage), own.id);
        return false;
      }
      const held = this.bySha(sha256) !== undefined;
      if (own && this.referencedBy(own.sha256).length) {
        const { metaSteps } = JSON.parse(own.lineage) as ObjectiveLineage;
        this.db
          .prepare('UPDATE objectives SET source_run_id = NULL, name = ? WHERE id = ?')
          .run(fitName(own.name, ` (meta-step ${metaSteps})`), own.id);
      } else if (own && !held) {
        this.db
          .prepare(
            `UPDATE objectives SET sha256 = ?, created_at = ?, architecture = ?, lineage = ?, param_count = ?,
               tensors = ?, weights = ? WHERE id = ?`,
          )
          .run(sha256, Date.now(), ...this.contents(next), own.id);
        return true;
      } else if (own) {
        this.db.prepare('DELETE FROM objectives WHERE id = ?').run(own.id);
      }
      if (!held) this.insert(sha256, { ...next, name: own?.name ?? next.name }, runId);
      return own !== undefined || !held;
    })();
  }

  /** Stores an objective read from a file; one stored already (the same sha256) is returned as it is. */
  importObjective(next: NewObjective): StoredObjective {
    const sha256 = objectiveSha256(next.weights.architecture, next.weights.tensors);
    return this.db.transaction(() => {
      const stored = this.bySha(sha256);
      if (stored) return stored;
      return this.get(this.insert(sha256, next, null))!;
    })();
  }

  rename(id: number, name: string): void {
    this.db.prepare('UPDATE objectives SET name = ? WHERE id = ?').run(name, id);
  }

  /** Deletes the objective unless an experiment refers to it; returns those that do (then nothing was deleted). */
  deleteUnreferenced(id: number): { id: number; name: string }[] {
    return this.db.transaction(() => {
      const stored = this.get(id);
      if (!stored) return [];
      const users = this.referencedBy(stored.sha256);
      if (!users.length) this.db.prepare('DELETE FROM objectives WHERE id = ?').run(id);
      return users;
    })();
  }

  /** architecture, lineage, param_count, tensors, weights: the columns an objective's contents fill. */
  private contents(next: NewObjective): [string, string, number, string, Buffer] {
    const { layout, weights } = packWeights(next.weights.tensors);
    const count = paramCount(layout);
    return [
      JSON.stringify(next.weights.architecture),
      JSON.stringify(next.lineage),
      count,
      JSON.stringify(layout),
      weights,
    ];
  }

  private insert(sha256: string, next: NewObjective, runId: number | null): number {
    return Number(
      this.db
        .prepare(
          `INSERT INTO objectives (sha256, name, created_at, architecture, lineage, param_count, tensors, weights,
             source_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(sha256, next.name, Date.now(), ...this.contents(next), runId).lastInsertRowid,
    );
  }
}
