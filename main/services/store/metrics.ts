// The store's metric series: raw points (table `metrics`, one row per run, key and step) and coarser levels of them
// (table `metric_levels`, migration 8): for every bucket of 16, 256 and 4,096 steps its min, max, count and last
// value, rebuilt from the level below with every write, in the same transaction. getSeries cuts the requested range
// into at most maxPoints buckets aligned to multiples of their width, and reads each from the coarsest level whose
// buckets fit inside it (finer levels and raw points only at the range's two ends), so its cost follows maxPoints,
// not the length of the history; min, max and last per bucket are exact (equal to `getSeriesRaw`, which reads the
// raw points of the same buckets: the reference the tests and the store benchmark compare with).
import type Database from 'better-sqlite3';
import type { Series, SeriesOptions } from '../../../shared/api.js';
import type { MetricRow } from '../../../shared/metrics.js';

export const DEFAULT_MAX_POINTS = 1000;

/** log2 of each level's bucket size, finest first (16, 256 and 4,096 steps); each holds 16 buckets of the one below. */
export const LEVEL_SHIFTS = [4, 8, 12] as const;
const FANOUT_SHIFT = 4;

/** Steps summarised: the last one, min and max over their values (null: no finite value), count, the last value. */
interface Cell {
  lastStep: number;
  min: number | null;
  max: number | null;
  count: number;
  last: number | null;
}

/** Buckets as getSeries returns them: columns. */
type Columns = Omit<Series, 'runId' | 'key'>;

/** Cells in step order as columns. */
function columns(cells: readonly Cell[]): Columns {
  return {
    steps: cells.map((c) => c.lastStep),
    min: cells.map((c) => c.min),
    max: cells.map((c) => c.max),
    last: cells.map((c) => c.last),
  };
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/** Adds cell c (of steps disjoint from those of `into`) into `into`, or starts a new one. */
function merge(into: Cell | undefined, c: Cell): Cell {
  if (!into) return { ...c };
  into.min = minOf(into.min, c.min);
  into.max = maxOf(into.max, c.max);
  into.count += c.count;
  if (c.lastStep > into.lastStep) {
    into.lastStep = c.lastStep;
    into.last = c.last;
  }
  return into;
}

/**
 * The buckets getSeries cuts [from, to] into: width w, aligned to its multiples, so that at most maxPoints of them
 * meet the range; w is a multiple of the coarsest level's bucket size not above it (`level`: an index into
 * LEVEL_SHIFTS, -1 for none), so that every bucket of that level and the finer ones lies inside one of them.
 */
export function bucketWidth(from: number, to: number, maxPoints: number): { w: number; level: number } {
  // ceil(span / w) + 1 aligned buckets at most can meet a span of steps, hence maxPoints - 1.
  const least = Math.max(1, Math.ceil((to - from + 1) / (maxPoints - 1)));
  let level = -1;
  LEVEL_SHIFTS.forEach((shift, i) => {
    if (1 << shift <= least) level = i;
  });
  const unit = level < 0 ? 1 : 1 << LEVEL_SHIFTS[level];
  return { w: Math.ceil(least / unit) * unit, level };
}

type CellRow = [
  bucket: number,
  min: number | null,
  max: number | null,
  count: number,
  lastStep: number,
  last: number | null,
];

export class MetricTable {
  private readonly insert: Database.Statement;
  private readonly rawRange: Database.Statement;
  private readonly cellRange: Database.Statement;
  private readonly dropCells: Database.Statement;
  private readonly putCell: Database.Statement;
  private readonly firstStep: Database.Statement;
  private readonly lastStep: Database.Statement;
  private readonly grouped: Database.Statement;
  private readonly newestStep: Database.Statement;
  private readonly upsertCell: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare('INSERT OR REPLACE INTO metrics (run_id, key, step, value) VALUES (?, ?, ?, ?)');
    this.rawRange = db
      .prepare('SELECT step, value FROM metrics WHERE run_id = ? AND key = ? AND step BETWEEN ? AND ? ORDER BY step')
      .raw();
    this.cellRange = db
      .prepare(
        `SELECT bucket, min, max, count, last_step, last FROM metric_levels
         WHERE run_id = ? AND key = ? AND level = ? AND bucket BETWEEN ? AND ? ORDER BY bucket`,
      )
      .raw();
    this.dropCells = db.prepare(
      'DELETE FROM metric_levels WHERE run_id = ? AND key = ? AND level = ? AND bucket BETWEEN ? AND ?',
    );
    this.putCell = db.prepare(
      `INSERT INTO metric_levels (run_id, key, level, bucket, min, max, count, last_step, last)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.upsertCell = db.prepare(
      `INSERT OR REPLACE INTO metric_levels (run_id, key, level, bucket, min, max, count, last_step, last)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.newestStep = db
      .prepare(
        'SELECT last_step FROM metric_levels WHERE run_id = ? AND key = ? AND level = ? ORDER BY bucket DESC LIMIT 1',
      )
      .pluck();
    // Two queries: SQLite reads MIN or MAX alone off the primary key, both at once by scanning the series.
    this.firstStep = db.prepare('SELECT step FROM metrics WHERE run_id = ? AND key = ? ORDER BY step LIMIT 1').pluck();
    this.lastStep = db
      .prepare('SELECT step FROM metrics WHERE run_id = ? AND key = ? ORDER BY step DESC LIMIT 1')
      .pluck();
    // A level's whole buckets grouped into output buckets of `per` of them; last from the last cell of each (CROSS
    // JOIN keeps g the outer loop: SQLite otherwise walks the level and scans g for each of its rows).
    this.grouped = db
      .prepare(
        `WITH g AS (
          SELECT bucket / CAST(@per AS INTEGER) AS k, MIN(min) AS mn, MAX(max) AS mx, SUM(count) AS n,
                 MAX(bucket) AS lb
          FROM metric_levels
          WHERE run_id = @run AND key = @key AND level = @level AND bucket BETWEEN @lo AND @hi GROUP BY k)
        SELECT g.k, g.mn, g.mx, g.n, l.last_step, l.last FROM g CROSS JOIN metric_levels l
          ON l.run_id = @run AND l.key = @key AND l.level = @level AND l.bucket = g.lb`,
      )
      .raw();
  }

  /**
   * Stores the rows (non-finite values as null) and brings the levels up to date: a key whose rows all come after
   * its last stored step (a worker's usual batch) by merging them into its newest buckets, any other by rebuilding
   * the buckets its rows fall in.
   */
  append(runId: number, rows: readonly MetricRow[]): void {
    const byKey = new Map<string, Cell[]>();
    this.db.transaction(() => {
      for (const [key, step, value] of rows) {
        const v = Number.isFinite(value) ? value : null;
        this.insert.run(runId, key, step, v);
        const list = byKey.get(key) ?? [];
        list.push({ lastStep: step, min: v, max: v, count: 1, last: v });
        byKey.set(key, list);
      }
      for (const [key, points] of byKey) {
        const newest = this.newestStep.get(runId, key, LEVEL_SHIFTS[0]) as number | undefined;
        const ascending = points.every((p, i) => i === 0 || p.lastStep > points[i - 1].lastStep);
        if (ascending && (newest === undefined || points[0].lastStep > newest)) this.extend(runId, key, points, newest);
        else {
          const steps = points.map((p) => p.lastStep);
          this.rebuild(
            runId,
            key,
            steps.reduce((a, b) => Math.min(a, b)),
            steps.reduce((a, b) => Math.max(a, b)),
          );
        }
      }
    })();
  }

  /**
   * Adds points later than every stored one of a series (`newest`: the latest stored step) to each level: only the
   * bucket holding `newest` existed before; it is merged with them, the later ones are new.
   */
  private extend(runId: number, key: string, points: readonly Cell[], newest: number | undefined): void {
    for (const shift of LEVEL_SHIFTS) {
      const cells = new Map<number, Cell>();
      for (const p of points) cells.set(p.lastStep >> shift, merge(cells.get(p.lastStep >> shift), p));
      if (newest !== undefined && cells.has(newest >> shift)) {
        const [old] = this.cells(runId, key, shift, newest >> shift, newest >> shift);
        cells.set(newest >> shift, merge(old, cells.get(newest >> shift)!));
      }
      for (const [bucket, c] of cells) {
        this.upsertCell.run(runId, key, shift, bucket, c.min, c.max, c.count, c.lastStep, c.last);
      }
    }
  }

  /** Drops the points after `step` (a run resumed from a checkpoint records them again); call in a transaction. */
  truncateAfter(runId: number, step: number): void {
    const keys = this.keys(runId);
    this.db.prepare('DELETE FROM metrics WHERE run_id = ? AND step > ?').run(runId, step);
    this.db.prepare('DELETE FROM metric_levels WHERE run_id = ? AND bucket > (? >> level)').run(runId, step);
    for (const key of keys) this.rebuild(runId, key, step, step);
  }

  /** The keys a run has points for (read off the coarsest level: one row per 4,096 steps). */
  keys(runId: number): string[] {
    const top = LEVEL_SHIFTS[LEVEL_SHIFTS.length - 1];
    return this.db
      .prepare('SELECT DISTINCT key FROM metric_levels WHERE run_id = ? AND level = ? ORDER BY key')
      .pluck()
      .all(runId, top) as string[];
  }

  /**
   * Rebuilds every level's buckets that meet steps [from, to] of a series, each level from the one below (the
   * finest from the raw points): buckets left empty (after a delete) disappear.
   */
  private rebuild(runId: number, key: string, from: number, to: number): void {
    LEVEL_SHIFTS.forEach((shift, i) => {
      const [lo, hi] = [from >> shift, to >> shift];
      const below =
        i === 0
          ? (this.rawRange.all(runId, key, lo << shift, ((hi + 1) << shift) - 1) as [number, number | null][]).map(
              ([step, value]) => ({ lastStep: step, min: value, max: value, count: 1, last: value }),
            )
          : this.cells(runId, key, LEVEL_SHIFTS[i - 1], lo << FANOUT_SHIFT, (hi << FANOUT_SHIFT) + 15);
      const cells = new Map<number, Cell>();
      for (const c of below) cells.set(c.lastStep >> shift, merge(cells.get(c.lastStep >> shift), c));
      this.dropCells.run(runId, key, shift, lo, hi);
      for (const [bucket, c] of cells) {
        this.putCell.run(runId, key, shift, bucket, c.min, c.max, c.count, c.lastStep, c.last);
      }
    });
  }

  /** A level's buckets [lo, hi] of a series. */
  private cells(runId: number, key: string, shift: number, lo: number, hi: number): Cell[] {
    return (this.cellRange.all(runId, key, shift, lo, hi) as CellRow[]).map(([, min, max, count, lastStep, last]) => ({
      lastStep,
      min,
      max,
      count,
      last,
    }));
  }

  /** The step range a series covers, or null when it has no points. */
  private bounds(runId: number, key: string): [number, number] | null {
    const lo = this.firstStep.get(runId, key) as number | undefined;
    return lo === undefined ? null : [lo, this.lastStep.get(runId, key) as number];
  }

  /** Each (run, key) series in at most `maxPoints` buckets of its range: the last step, min, max and last value. */
  getSeries(runIds: readonly number[], keys: readonly string[], options: SeriesOptions = {}): Series[] {
    return this.eachSeries(runIds, keys, options, (run, key, from, to, maxPoints) =>
      this.fromLevels(run, key, from, to, maxPoints),
    );
  }

  /** The same buckets as getSeries, from the raw points: the reference for tests and the store benchmark. */
  getSeriesRaw(runIds: readonly number[], keys: readonly string[], options: SeriesOptions = {}): Series[] {
    const query = this.db.prepare(`
      WITH s AS (
        SELECT step, value, step / CAST(@w AS INTEGER) AS k FROM metrics
        WHERE run_id = @run AND key = @key AND step BETWEEN @from AND @to
      ), g AS (SELECT k, MIN(value) AS mn, MAX(value) AS mx, MAX(step) AS last_step FROM s GROUP BY k)
      SELECT g.last_step AS step, g.mn AS min, g.mx AS max, s.value AS last
      FROM g CROSS JOIN s ON s.step = g.last_step ORDER BY g.last_step`);
    return this.eachSeries(runIds, keys, options, (run, key, from, to, maxPoints) => {
      const { w } = bucketWidth(from, to, maxPoints);
      const rows = query.raw().all({ run, key, from, to, w }) as [
        number,
        number | null,
        number | null,
        number | null,
      ][];
      return columns(rows.map(([lastStep, min, max, last]) => ({ lastStep, min, max, last, count: 1 })));
    });
  }

  private eachSeries(
    runIds: readonly number[],
    keys: readonly string[],
    options: SeriesOptions,
    read: (run: number, key: string, from: number, to: number, maxPoints: number) => Columns,
  ): Series[] {
    const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
    return runIds.flatMap((runId) =>
      keys.map((key) => {
        const range = this.bounds(runId, key);
        const from = range ? Math.max(options.fromStep ?? range[0], range[0]) : 0;
        const to = range ? Math.min(options.toStep ?? range[1], range[1]) : -1;
        return { runId, key, ...(to < from ? columns([]) : read(runId, key, from, to, maxPoints)) };
      }),
    );
  }

  /**
   * Steps [from, to] in buckets of width w: whole buckets of the coarsest usable level grouped in SQL, the
   * range's ends from finer levels (fewer than 16 buckets of each on each side) and raw points (fewer than 16).
   */
  private fromLevels(runId: number, key: string, from: number, to: number, maxPoints: number): Columns {
    const { w, level } = bucketWidth(from, to, maxPoints);
    const out = new Map<number, Cell>();
    const add = (c: Cell) => out.set(Math.floor(c.lastStep / w), merge(out.get(Math.floor(c.lastStep / w)), c));
    const cover = (a: number, b: number, i: number): void => {
      if (a > b) return;
      if (i < 0) {
        for (const [step, value] of this.rawRange.all(runId, key, a, b) as [number, number | null][]) {
          add({ lastStep: step, min: value, max: value, count: 1, last: value });
        }
        return;
      }
      const shift = LEVEL_SHIFTS[i];
      const lo = Math.ceil(a / (1 << shift)); // whole buckets of this level inside [a, b]
      const hi = Math.floor((b + 1) / (1 << shift)) - 1;
      if (lo > hi) {
        cover(a, b, i - 1);
        return;
      }
      cover(a, lo * (1 << shift) - 1, i - 1);
      if (i === level) {
        const rows = this.grouped.all({ run: runId, key, level: shift, lo, hi, per: w >> shift }) as CellRow[];
        for (const [, min, max, count, lastStep, last] of rows) add({ lastStep, min, max, count, last });
      } else for (const c of this.cells(runId, key, shift, lo, hi)) add(c);
      cover((hi + 1) * (1 << shift), b, i - 1);
    };
    cover(from, to, level);
    return columns([...out.entries()].sort((x, y) => x[0] - y[0]).map(([, c]) => c));
  }
}

/**
 * Migration 8: the levels of every series already stored, each level from the one below in SQL, run by run (with a
 * line of progress on stderr for large databases).
 */
export function buildMetricLevels(db: Database.Database): void {
  db.exec(`
  CREATE TABLE metric_levels (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    level INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    min REAL,
    max REAL,
    count INTEGER NOT NULL,
    last_step INTEGER NOT NULL,
    last REAL,
    PRIMARY KEY (run_id, key, level, bucket)
  ) STRICT, WITHOUT ROWID;`);
  const points = db.prepare('SELECT COUNT(*) FROM metrics').pluck().get() as number;
  const runs = db.prepare('SELECT DISTINCT run_id FROM metrics ORDER BY run_id').pluck().all() as number[];
  const finest = db.prepare(`
    INSERT INTO metric_levels (run_id, key, level, bucket, min, max, count, last_step, last)
    SELECT g.run_id, g.key, ${LEVEL_SHIFTS[0]}, g.b, g.mn, g.mx, g.n, g.ls, m.value FROM (
      SELECT run_id, key, step >> ${LEVEL_SHIFTS[0]} AS b, MIN(value) AS mn, MAX(value) AS mx, COUNT(*) AS n,
             MAX(step) AS ls
      FROM metrics WHERE run_id = @run GROUP BY key, b) g
    CROSS JOIN metrics m ON m.run_id = g.run_id AND m.key = g.key AND m.step = g.ls`);
  const coarser = LEVEL_SHIFTS.slice(1).map((shift, i) =>
    db.prepare(`
    INSERT INTO metric_levels (run_id, key, level, bucket, min, max, count, last_step, last)
    SELECT g.run_id, g.key, ${shift}, g.b, g.mn, g.mx, g.n, c.last_step, c.last FROM (
      SELECT run_id, key, bucket >> ${FANOUT_SHIFT} AS b, MIN(min) AS mn, MAX(max) AS mx, SUM(count) AS n,
             MAX(bucket) AS lb
      FROM metric_levels WHERE run_id = @run AND level = ${LEVEL_SHIFTS[i]} GROUP BY key, b) g
    CROSS JOIN metric_levels c
      ON c.run_id = g.run_id AND c.key = g.key AND c.level = ${LEVEL_SHIFTS[i]} AND c.bucket = g.lb`),
  );
  const loud = points > 1_000_000;
  runs.forEach((run, i) => {
    finest.run({ run });
    for (const statement of coarser) statement.run({ run });
    if (loud) process.stderr.write(`metalab: building metric levels: run ${i + 1} of ${runs.length}\n`);
  });
}
