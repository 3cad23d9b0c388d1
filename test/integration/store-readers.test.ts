// Metric reads in worker threads (main/services/store/readers.ts): the same series as the main thread's store reads,
// and a large read does not hold up metric appends on the main thread meanwhile.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricRow } from '../../shared/metrics';
import { expandExperiment } from '../../shared/spec';
import { Store } from '../../main/services/store';
import { SeriesReaders } from '../../main/services/store/readers';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

let store: Store;
let readers: SeriesReaders;
let runIds: number[];
const KEYS = ['loss', 'accuracy'];
const STEPS = 40_000;

beforeAll(() => {
  store = new Store(path.join(tempDir('metalab-readers-', 'file'), 'lab.db'));
  const r = expandExperiment(tinySpec({ sweep: { axes: [{ path: 'seed', values: [1, 2, 3, 4, 5, 6, 7, 8, 9] }] } }));
  if (!r.ok) throw new Error('bad spec');
  runIds = store.createExperiment(r.spec, r.runs).runIds;
  for (const runId of runIds.slice(0, 8)) {
    for (let from = 0; from < STEPS; from += 5000) {
      const rows: MetricRow[] = [];
      for (let step = from; step < from + 5000; step++) for (const key of KEYS) rows.push([key, step, Math.sin(step)]);
      store.appendMetrics(runId, rows);
    }
  }
  readers = new SeriesReaders(store.db.name);
});
afterAll(async () => {
  await readers.close();
  store.close();
});

describe('metric reader threads', () => {
  it('read what the main thread reads, and refuse a database that is gone with a clear error', async () => {
    for (const options of [{}, { maxPoints: 50 }, { fromStep: 1234, toStep: 30_000, maxPoints: 700 }]) {
      expect(await readers.getSeries(runIds, KEYS, options)).toEqual(store.getSeries(runIds, KEYS, options));
    }
    const gone = new SeriesReaders(path.join(tempDir('metalab-readers-'), 'missing.db'));
    await expect(gone.getSeries([1], ['loss'])).rejects.toThrow(/metric reader .*missing\.db/);
    await gone.close();
  });

  it('do not hold up metric appends on the main thread during a large read', async () => {
    // 8 runs x 2 keys at 10,000 points read every raw point (640k rows): hundreds of ms on the main thread.
    const options = { maxPoints: 10_000 };
    const t0 = performance.now();
    const expected = store.getSeries(runIds.slice(0, 8), KEYS, options);
    const blocking = performance.now() - t0;

    let done = false;
    const read = readers.getSeries(runIds.slice(0, 8), KEYS, options).finally(() => {
      done = true;
    });
    const latencies: number[] = [];
    let step = 0;
    while (!done) {
      const t = performance.now();
      store.appendMetrics(runIds[8], [['loss', step++, 1]]);
      latencies.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await read).toEqual(expected);
    expect(blocking).toBeGreaterThan(50);
    expect(latencies.length).toBeGreaterThan(5);
    // Each append takes its own ~1 ms (more when the machine is loaded), never the read's time.
    const sorted = latencies.sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(5);
    expect(sorted.at(-1)).toBeLessThan(blocking / 3);
    expect(store.getSeries([runIds[8]], ['loss'])[0].steps.at(-1)).toBe(step - 1);
  });
});
