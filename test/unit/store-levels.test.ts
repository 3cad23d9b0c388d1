// The metric levels (main/services/store/metrics.ts): kept equal to a brute-force computation through appends in any
// order, replaced points, resumes and deletes; getSeries read from them equal to the raw points' buckets; and
// migration 8 building them for a database written before them.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { MetricRow } from '../../shared/metrics';
import { expandExperiment } from '../../shared/spec';
import { MIGRATIONS } from '../../main/services/store/migrations';
import { bucketWidth, LEVEL_SHIFTS } from '../../main/services/store/metrics';
import { SCHEMA_VERSION, Store } from '../../main/services/store';
import { Rng } from '../../main/engine/rng';
import { bruteForce, bruteForceLevels } from '../helpers/series';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

type Points = Map<string, Map<number, number | null>>;

function storeWithRuns(runs: number): { store: Store; runIds: number[] } {
  const store = new Store(path.join(tempDir('metalab-levels-'), 'lab.db'));
  const r = expandExperiment(
    tinySpec({ sweep: { axes: [{ path: 'seed', values: Array.from({ length: runs }, (_, i) => i) }] } }),
  );
  if (!r.ok) throw new Error('bad spec');
  return { store, runIds: store.createExperiment(r.spec, r.runs).runIds };
}

/** Every series of a run as [step, value] rows in step order. */
const rowsOf = (points: Points, key: string) =>
  [...(points.get(key) ?? new Map()).entries()].sort((a, b) => a[0] - b[0]) as [number, number | null][];

function storedLevels(store: Store, runId: number) {
  return store.db
    .prepare(
      `SELECT key, level, bucket, min, max, count, last_step, last FROM metric_levels WHERE run_id = ?
       ORDER BY key, level, bucket`,
    )
    .raw()
    .all(runId);
}

function expectedLevels(points: Points) {
  return [...points.keys()].sort().flatMap((key) => bruteForceLevels(key, rowsOf(points, key)));
}

describe('metric levels', () => {
  it('equal a brute-force computation after random appends, replaced points, resumes and deletes', () => {
    const { store, runIds } = storeWithRuns(2);
    const [runId, other] = runIds;
    const rng = new Rng(7);
    const points: Points = new Map();
    const record = (rows: MetricRow[]) => {
      store.appendMetrics(runId, rows);
      for (const [key, step, value] of rows) {
        if (!points.has(key)) points.set(key, new Map());
        points.get(key)!.set(step, Number.isFinite(value) ? value : null);
      }
    };
    let step = 0;
    for (let batch = 0; batch < 60; batch++) {
      const rows: MetricRow[] = [];
      const n = 1 + rng.int(300);
      for (let i = 0; i < n; i++, step++) {
        rows.push(['loss', step, rng.next() < 0.02 ? Number.NaN : rng.next() * 10 - 5]);
        if (step % 50 === 0) rows.push(['eval/acc', step, rng.next()]);
      }
      if (batch % 2) {
        // Rewritten points (replaced values, anywhere in the history), in reverse order: the levels are rebuilt.
        for (let i = 0; i < 3; i++) rows.push(['loss', rng.int(step), rng.next() * 100 - 50]);
        record(rows.reverse());
      } else record(rows); // later than every stored point: merged into the newest buckets
      if (batch === 30) {
        // A resume from a checkpoint: what came after it is dropped, then recorded again.
        const checkpoint = step - 700;
        store.truncateAfter(runId, checkpoint);
        for (const series of points.values()) for (const s of [...series.keys()]) if (s > checkpoint) series.delete(s);
        expect(storedLevels(store, runId)).toEqual(expectedLevels(points));
        step = checkpoint + 1;
      }
    }
    expect(step).toBeGreaterThan(5000); // several buckets of the coarsest level (4,096 steps)
    expect(storedLevels(store, runId)).toEqual(expectedLevels(points));
    expect(store.metricKeys(runId)).toEqual(['eval/acc', 'loss']);

    store.appendMetrics(other, [['loss', 3, 1]]);
    store.deleteRun(runId);
    expect(storedLevels(store, runId)).toEqual([]);
    expect(storedLevels(store, other)).toHaveLength(LEVEL_SHIFTS.length);
    store.close();
  });

  it('getSeries from the levels equals the raw points of the same buckets, for random ranges and sizes', () => {
    const { store, runIds } = storeWithRuns(1);
    const [runId] = runIds;
    const rng = new Rng(11);
    const rows: [number, number | null][] = [];
    for (let step = 3; step < 70_000; step += 1 + (rng.next() < 0.1 ? rng.int(40) : 0)) {
      rows.push([step, rng.next() < 0.01 ? null : rng.next()]);
    }
    store.appendMetrics(
      runId,
      rows.map(([s, v]) => ['loss', s, v ?? Number.NaN]),
    );
    const levelsUsed = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const a = rng.int(72_000);
      const b = rng.next() < 0.3 ? a + rng.int(200) : rng.int(72_000);
      const [from, to] = [Math.min(a, b), Math.max(a, b)];
      const maxPoints = 2 + rng.int(i % 3 === 0 ? 20 : 3000);
      const options = { fromStep: from, toStep: to, maxPoints };
      const [levels] = store.getSeries([runId], ['loss'], options);
      const [raw] = store.metrics.getSeriesRaw([runId], ['loss'], options);
      const clipped: [number, number] = [Math.max(from, 3), Math.min(to, rows[rows.length - 1][0])];
      expect(levels).toEqual(raw);
      expect(levels).toMatchObject(bruteForce(rows, from, to, maxPoints, bucketWidth(...clipped, maxPoints).w));
      expect(levels.steps.length).toBeLessThanOrEqual(maxPoints);
      levelsUsed.add(bucketWidth(...clipped, maxPoints).level);
    }
    expect([...levelsUsed].sort()).toEqual([-1, 0, 1, 2]); // raw points only, and each level as the coarsest
    // The whole series: its last point is the newest step.
    const [whole] = store.getSeries([runId], ['loss'], { maxPoints: 2 });
    expect(whole.steps.at(-1)).toBe(rows[rows.length - 1][0]);
    store.close();
  });

  it('are built for a database written before them (migration 8), keeping every point', () => {
    const file = path.join(tempDir('metalab-levels-'), 'lab.db');
    const old = new Database(file);
    for (const m of MIGRATIONS.slice(0, 7)) {
      if (typeof m === 'string') old.exec(m);
      else m(old);
    }
    old.pragma('user_version = 7');
    old.prepare(`INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', 1)`).run();
    const insertRun = old.prepare(
      `INSERT INTO runs (id, experiment_id, sweep_index, sweep_point, spec, status, seed, total_steps, created_at)
       VALUES (?, 1, ?, '{}', '{}', 'finished', 0, 10, 1)`,
    );
    const insert = old.prepare('INSERT INTO metrics VALUES (?, ?, ?, ?)');
    const points = new Map<number, Points>();
    const rng = new Rng(3);
    for (const run of [1, 2]) {
      insertRun.run(run, run - 1);
      const series: Points = new Map([
        ['loss', new Map()],
        ['acc', new Map()],
      ]);
      old.transaction(() => {
        for (let step = 0; step < 9000; step += 1 + rng.int(3)) {
          for (const [key, values] of series) {
            const value = rng.next() < 0.01 ? null : rng.next();
            insert.run(run, key, step, value);
            values.set(step, value);
          }
        }
      })();
      points.set(run, series);
    }
    const before = old.prepare('SELECT * FROM metrics ORDER BY run_id, key, step').raw().all();
    old.close();

    const store = new Store(file);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.prepare('SELECT * FROM metrics ORDER BY run_id, key, step').raw().all()).toEqual(before);
    for (const [run, series] of points) expect(storedLevels(store, run)).toEqual(expectedLevels(series));
    store.close();
  });
});
