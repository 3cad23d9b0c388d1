import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { expandExperiment } from '../../shared/spec';
import { MIGRATIONS } from '../../main/services/store/migrations';
import { SCHEMA_VERSION, StaleAttemptError, Store, StoreError } from '../../main/services/store';
import { bruteForce } from '../helpers/series';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

function newStoreWithRun(file: string): { store: Store; runId: number } {
  const store = new Store(file);
  const r = expandExperiment(tinySpec());
  if (!r.ok) throw new Error('bad spec');
  const { runIds } = store.createExperiment(r.spec, r.runs);
  return { store, runId: runIds[0] };
}

describe('store', () => {
  it('creates a fresh database in WAL mode at the current schema version', () => {
    const file = path.join(tempDir(), 'lab.db');
    const store = new Store(file);
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
    store.close();
    expect(fs.readdirSync(path.dirname(file)).filter((f) => f.endsWith('.bak'))).toEqual([]);
  });

  it('converts run summaries stored before typed results: sentinels become null, the plateau one object', () => {
    const file = path.join(tempDir(), 'lab.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0] as string);
    old.exec(MIGRATIONS[1] as string);
    old.pragma('user_version = 2');
    old.prepare(`INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', 1)`).run();
    const insertRun = old.prepare(
      `INSERT INTO runs (id, experiment_id, sweep_index, sweep_point, spec, status, seed, total_steps, created_at)
       VALUES (?, 1, 0, '{}', '{}', 'finished', 0, 10, 1)`,
    );
    const stored = {
      1: {
        steps: 60,
        final_loss: 0.3,
        param_count: 5,
        backend: 'wasm',
        'eval/unseen/last_mse': 3.5,
        phase: 'memorization',
        plateau_start: 6,
        plateau_end: 'open',
        plateau_length: 54,
        loss_escape_step: 'never',
      },
      2: {
        steps: 60,
        final_loss: 0.3,
        backend: 'wasm',
        phase: 'task identification',
        plateau_start: 'none',
        plateau_end: 'none',
        plateau_length: 0,
        loss_escape_step: 12,
      },
    };
    for (const [id, summary] of Object.entries(stored)) {
      insertRun.run(Number(id));
      old
        .prepare('INSERT INTO run_summaries (run_id, figures, updated_at) VALUES (?, ?, 1)')
        .run(Number(id), JSON.stringify(summary));
    }
    old.close();

    const store = new Store(file);
    expect(store.getRun(1)?.summary).toEqual({
      steps: 60,
      backend: 'wasm',
      phase: 'memorization',
      plateau: { start: 6, end: null, length: 54 },
      figures: {
        final_loss: 0.3,
        param_count: 5,
        'eval/unseen/last_mse': 3.5,
        plateau_length: 54,
        loss_escape_step: null,
      },
    });
    expect(store.getRun(2)?.summary).toEqual({
      steps: 60,
      backend: 'wasm',
      phase: 'task identification',
      plateau: null,
      figures: { final_loss: 0.3, plateau_length: 0, loss_escape_step: 12 },
    });
    store.close();
  });

  it('never reuses an id: a deleted newest run or experiment leaves its id unused', () => {
    const { store, runId } = newStoreWithRun(path.join(tempDir(), 'lab.db'));
    const spec = expandExperiment(tinySpec());
    if (!spec.ok) throw new Error('bad spec');
    const second = store.createExperiment(spec.spec, spec.runs);
    store.deleteRun(second.runIds[0]);
    store.deleteExperiment(second.experimentId);
    const third = store.createExperiment(spec.spec, spec.runs);
    expect(third.runIds[0]).toBe(second.runIds[0] + 1);
    expect(third.experimentId).toBe(second.experimentId + 1);
    expect(runId).toBe(1);
    store.close();
  });

  it("writes a worker's results only while its attempt is the run's current one", () => {
    const { store, runId } = newStoreWithRun(path.join(tempDir(), 'lab.db'));
    store.setRunStatus(runId, 'running', { attempt: 'a1' });
    store.asAttempt(runId, 'a1', () => store.appendMetrics(runId, [['loss', 1, 0.5]]));
    store.setRunStatus(runId, 'running', { attempt: 'a2' });
    expect(() => store.asAttempt(runId, 'a1', () => store.appendMetrics(runId, [['loss', 2, 0.4]]))).toThrow(
      StaleAttemptError,
    );
    store.deleteRun(runId);
    expect(() => store.asAttempt(runId, 'a2', () => undefined)).toThrow(/run r1 was deleted/);
    store.close();
  });

  it('refuses a damaged database naming the file, and writes nothing to it', () => {
    const file = path.join(tempDir(), 'lab.db');
    const { store } = newStoreWithRun(file);
    const spec = expandExperiment(tinySpec());
    if (!spec.ok) throw new Error('bad spec');
    for (let i = 0; i < 20; i++) store.createExperiment(spec.spec, spec.runs);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    const bytes = fs.readFileSync(file);
    // An invalid page type at the start of page 3 (a table's B-tree page; page 1 holds the schema).
    bytes[4096 * 2] = 0x55;
    fs.writeFileSync(file, bytes);
    expect(() => new Store(file)).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*(damaged|malformed)`),
    );
    expect(fs.readFileSync(file).equals(bytes)).toBe(true);
  });

  it('stores an experiment with the tags its spec names, in one step', () => {
    const store = new Store(path.join(tempDir(), 'lab.db'));
    const r = expandExperiment(tinySpec({ tags: ['paper', 'gpicl'] }));
    if (!r.ok) throw new Error('bad spec');
    const { experimentId } = store.createExperiment(r.spec, r.runs);
    expect(store.getExperiment(experimentId)?.tags).toEqual(['paper', 'gpicl']);
    store.close();
  });

  it('migrates an older database forward, keeping its data and a backup of the old file', () => {
    const dir = tempDir();
    const file = path.join(dir, 'lab.db');
    const old = new Database(file);
    old.exec(MIGRATIONS[0] as string);
    old.pragma('user_version = 1');
    old.prepare(`INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', 1)`).run();
    old
      .prepare(
        `INSERT INTO runs (id, experiment_id, sweep_index, sweep_point, spec, status, seed, total_steps, created_at)
         VALUES (1, 1, 0, '{}', '{}', 'finished', 0, 10, 1)`,
      )
      .run();
    old.prepare(`INSERT INTO metrics VALUES (1, 'loss', 5, 0.5)`).run();
    old.close();

    const store = new Store(file);
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.prepare('SELECT value FROM metrics WHERE run_id = 1').pluck().get()).toBe(0.5);
    const summary = { steps: 10, backend: 'wasm', phase: null, plateau: null, figures: { final_loss: 0.5 } };
    store.putSummary(1, summary);
    expect(store.getRun(1)?.summary).toEqual(summary);
    store.close();

    const backup = new Database(path.join(dir, 'lab.db.v1.bak'), { readonly: true });
    expect(backup.pragma('user_version', { simple: true })).toBe(1);
    expect(backup.prepare('SELECT COUNT(*) FROM metrics').pluck().get()).toBe(1);
    backup.close();
  });

  it('refuses a database written by a newer metalab and leaves it untouched', () => {
    const file = path.join(tempDir(), 'lab.db');
    const newer = new Database(file);
    newer.exec('CREATE TABLE future (x INTEGER)');
    newer.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    newer.close();
    const before = fs.readFileSync(file);
    expect(() => new Store(file)).toThrow(StoreError);
    expect(() => new Store(file)).toThrow(/newer metalab/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('gives a clear error for a file that is not a database', () => {
    const file = path.join(tempDir(), 'lab.db');
    fs.writeFileSync(file, 'this is not sqlite'.repeat(100));
    expect(() => new Store(file)).toThrow(/cannot open the metalab database .*lab\.db: file is not a database/);
  });

  it('downsamples exactly as a brute-force computation does', () => {
    const { store, runId } = newStoreWithRun(path.join(tempDir(), 'lab.db'));
    const rows: [number, number | null][] = [];
    let x = 1;
    for (let step = 1; step <= 5000; step++) {
      if (step % 7 === 3) continue; // gaps
      x = (x * 48271) % 2147483647;
      rows.push([step, step % 97 === 0 ? null : (x % 10_000) / 100]);
    }
    store.appendMetrics(
      runId,
      rows.map(([s, v]) => ['loss', s, v ?? NaN]),
    );
    for (const [from, to, n] of [
      [1, 5000, 100],
      [1, 5000, 7],
      [250, 1300, 64],
      [1, 5000, 10_000],
      [4990, 5000, 3],
    ]) {
      const [series] = store.getSeries([runId], ['loss'], { fromStep: from, toStep: to, maxPoints: n });
      expect(series).toEqual({ runId, key: 'loss', ...bruteForce(rows, from, to, n) });
      expect(series.steps.length).toBeLessThanOrEqual(n);
    }
    const [whole] = store.getSeries([runId], ['loss']);
    expect(whole.steps.length).toBeLessThanOrEqual(1000);
    expect(whole.steps.at(-1)).toBe(5000);
    expect(store.getSeries([runId], ['missing'])[0]).toEqual({
      runId,
      key: 'missing',
      steps: [],
      min: [],
      max: [],
      last: [],
    });
  });

  it('stores evaluation curves and drops what came after a checkpoint', () => {
    const { store, runId } = newStoreWithRun(path.join(tempDir(), 'lab.db'));
    store.appendMetrics(runId, [
      ['loss', 1, 1],
      ['loss', 2, 0.5],
      ['loss', 3, 0.25],
    ]);
    store.putEvalCurves(runId, [
      { step: 2, split: 'seen', metric: 'mse', values: [1, 0.5, NaN] },
      { step: 3, split: 'seen', metric: 'mse', values: [1, 0.4, 0.3] },
    ]);
    expect(store.getEvalCurves(runId)[0].values).toEqual([1, 0.5, null]);
    store.putSummary(runId, { steps: 3, backend: 'wasm', phase: null, plateau: null, figures: { final_loss: 0.25 } });
    store.truncateAfter(runId, 2);
    expect(store.allMetrics(runId).map((m) => m.step)).toEqual([1, 2]);
    expect(store.getEvalCurves(runId).map((c) => c.step)).toEqual([2]);
    expect(store.getRun(runId)?.summary).toBeNull();
  });

  it('stores rollouts by step and split, and drops those after a checkpoint', () => {
    const { store, runId } = newStoreWithRun(path.join(tempDir(), 'lab.db'));
    const rollout = (step: number, split: string) => ({
      step,
      split,
      env: 'CartPole-v1' as const,
      params: { length: 0.5 },
      stateSize: 4,
      actionCount: 2,
      frames: 2,
      states: [0, 0, 0.01, 0, 0.01, 0.2, 0.02, -0.3],
      actions: [1, 0],
      rewards: [1, 1],
      episodes: [0, 0],
      probs: [0.4, 0.6, 0.7, 0.3],
    });
    store.putRollout(runId, rollout(10, 'seen'));
    store.putRollout(runId, rollout(10, 'unseen'));
    store.putRollout(runId, rollout(20, 'seen'));
    expect(store.listRollouts(runId)).toEqual([
      { step: 10, split: 'seen', frames: 2 },
      { step: 10, split: 'unseen', frames: 2 },
      { step: 20, split: 'seen', frames: 2 },
    ]);
    expect(store.getRollout(runId, 10, 'unseen')).toEqual({ ...rollout(10, 'unseen'), runId });
    expect(store.getRollout(runId, 30, 'seen')).toBeNull();
    store.truncateAfter(runId, 10);
    expect(store.listRollouts(runId).map((r) => r.step)).toEqual([10, 10]);
    store.deleteRun(runId);
    expect(store.listRollouts(runId)).toEqual([]);
  });

  it('deletes a run with its metrics, and marks runs of dead owners interrupted', () => {
    const { store, runId } = newStoreWithRun(path.join(tempDir(), 'lab.db'));
    store.appendMetrics(runId, [['loss', 1, 1]]);
    store.setRunStatus(runId, 'running', { ownerPid: 999_999 });
    expect(store.markOrphansInterrupted((pid) => pid !== 999_999)).toEqual([runId]);
    expect(store.getRun(runId)?.status).toBe('interrupted');
    store.deleteRun(runId);
    expect(store.db.prepare('SELECT COUNT(*) FROM metrics').pluck().get()).toBe(0);
  });
});
