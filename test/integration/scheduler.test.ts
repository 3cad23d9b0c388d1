// Real worker processes (dist/main/worker.cjs, built by `npm run build`) against a real SQLite file.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Lab } from '../../main/services/lab';
import type { Store } from '../../main/services/store/index';
import { encodeIdx } from '../../main/engine/data/idx';
import { runExperiment } from '../../main/engine/train';
import { collectingSink } from '../helpers/collect';
import { testLab, waitForEvent } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

function steps(store: Store, runId: number, key = 'loss'): number[] {
  return store
    .allMetrics(runId)
    .filter((m) => m.key === key)
    .map((m) => m.step);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The most runs of `lab` running at once so far (from its run-state events). */
function peakRunning(lab: Lab): () => number {
  let running = 0;
  let peak = 0;
  lab.subscribe((e) => {
    if (e.type !== 'run-state') return;
    if (e.status === 'running') peak = Math.max(peak, ++running);
    else if (e.status !== 'queued') running--;
  });
  return () => peak;
}

describe('scheduler with worker processes', () => {
  it('never runs more workers than its concurrency, and finishes every run', async () => {
    const { lab, store, events } = testLab(tempDir(), 2);
    const peak = peakRunning(lab);
    const { runIds } = await lab.createExperiment(
      tinySpec({ sweep: { axes: [{ path: 'training.learningRate', values: [0.01, 0.005, 0.002] }] } }),
    );
    await lab.idle();
    expect(peak()).toBe(2);
    for (const id of runIds) {
      const run = store.getRun(id)!;
      expect(run.status).toBe('finished');
      expect(run.backend).toBe('wasm');
      expect(steps(store, id)).toEqual(range(1, 60));
      expect(run.summary?.figures.final_loss).toBeTypeOf('number');
      expect(store.getEvalCurves(id).filter((c) => c.metric === 'mse').length).toBe(4);
      // The worker's resources, sampled at its first step at least: CPU in percent of a core, memory in MiB.
      const [cpu] = store.allMetrics(id).filter((m) => m.key === 'worker_cpu');
      const [memory] = store.allMetrics(id).filter((m) => m.key === 'worker_memory');
      expect(cpu.step).toBe(1);
      expect(cpu.value).toBeGreaterThan(5);
      expect(cpu.value).toBeLessThan(400);
      expect(memory.value).toBeGreaterThan(30);
      expect(memory.value).toBeLessThan(4096);
      expect(steps(store, id, 'resumed')).toEqual([]);
    }
    expect(events.some((e) => e.type === 'run-progress')).toBe(true);
    // Created, then each run's row again once its worker says which backend it runs on.
    expect(events.filter((e) => e.type === 'experiment-changed')).toHaveLength(1 + runIds.length);
    await lab.close();
    store.close();
  });

  it('changes its concurrency while runs wait: more starts queued runs at once, fewer stops none', async () => {
    const { lab, store } = testLab(tempDir(), 1);
    const peak = peakRunning(lab);
    const { runIds } = await lab.createExperiment(
      tinySpec({
        training: { steps: 4000, batchSize: 16, checkpointEvery: 4000 },
        sweep: { axes: [{ path: 'seed', values: [1, 2, 3] }] },
      }),
    );
    await waitForEvent(lab, (e) => e.type === 'run-progress' && e.runId === runIds[0] && e.step > 10);
    expect(store.getRun(runIds[1])!.status).toBe('queued');
    const second = waitForEvent(lab, (e) => e.type === 'run-state' && e.runId === runIds[1] && e.status === 'running');
    expect((await lab.setConcurrency(2)).concurrency).toBe(2);
    await second;
    expect(store.getRun(runIds[0])!.status).toBe('running');
    // Back to one: both keep running; the third waits for both to end.
    await lab.setConcurrency(1);
    await waitForEvent(lab, (e) => e.type === 'run-state' && e.runId === runIds[0] && e.status === 'finished');
    expect(store.getRun(runIds[2])!.status).toBe('queued');
    await lab.idle();
    expect(runIds.map((id) => store.getRun(id)!.status)).toEqual(['finished', 'finished', 'finished']);
    expect(peak()).toBe(2);
    await lab.close();
    store.close();
  }, 120_000);

  it('cancels a running run at a checkpoint, and retry resumes it to the end with every step once', async () => {
    const { lab, store } = testLab(tempDir(), 1);
    const { runIds } = await lab.createExperiment(
      tinySpec({ training: { steps: 8000, batchSize: 16, checkpointEvery: 1000 } }),
    );
    const [id] = runIds;
    await waitForEvent(lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > 100);
    const cancelledAt = Date.now();
    await lab.cancelRun(id);
    await lab.idle();
    expect(Date.now() - cancelledAt).toBeLessThan(2500);
    const cancelled = store.getRun(id)!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.checkpointStep).toBeGreaterThan(100);
    expect(steps(store, id)).toEqual(range(1, cancelled.checkpointStep!));

    await lab.retryRun(id);
    await lab.idle();
    const done = store.getRun(id)!;
    expect(done.status).toBe('finished');
    expect(steps(store, id)).toEqual(range(1, 8000));
    // Marked where it resumed, for the charts.
    expect(steps(store, id, 'resumed')).toEqual([cancelled.checkpointStep]);
    await lab.close();
    store.close();
  });

  it('marks a run failed when its worker is killed, keeping every flushed metric and a sound database', async () => {
    const { lab, store, workers } = testLab(tempDir(), 1);
    const { runIds } = await lab.createExperiment(
      tinySpec({ training: { steps: 100_000, batchSize: 16, checkpointEvery: 500 } }),
    );
    const [id] = runIds;
    await waitForEvent(lab, (e) => e.type === 'metrics-appended' && e.runId === id && e.lastStep > 600);
    const flushed = steps(store, id).length;
    process.kill(workers[0].pid!, 'SIGKILL');
    await lab.idle();
    const run = store.getRun(id)!;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/killed by SIGKILL/);
    const kept = steps(store, id);
    expect(kept.length).toBeGreaterThanOrEqual(flushed);
    expect(kept).toEqual(range(1, kept.length));
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(run.checkpointStep).toBeGreaterThanOrEqual(500);
    await lab.close();
    store.close();
  });

  it("shows a worker's error as one sentence and keeps its stack in the run's log", async () => {
    const home = tempDir();
    const { lab, store } = testLab(home, 1);
    const images = path.join(home, 'images.idx');
    const labels = path.join(home, 'labels.idx');
    // 60 random 8x8 images of 3 classes.
    fs.writeFileSync(
      images,
      encodeIdx(
        'images',
        [60, 8, 8],
        Uint8Array.from({ length: 60 * 64 }, (_, i) => (i * 37) % 256),
      ),
    );
    fs.writeFileSync(
      labels,
      encodeIdx(
        'labels',
        [60],
        Uint8Array.from({ length: 60 }, (_, i) => i % 3),
      ),
    );
    lab.importDataset({ name: 'doomed', trainImages: images, trainLabels: labels });
    // Valid when created; its dataset is gone by the time the worker loads it.
    const spec = tinySpec({
      task: { family: 'gpicl-classification', dataset: 'doomed', classes: 3, inputDim: 4, seqLen: 4 },
    });
    const { runIds } = await lab.createExperiment(spec);
    fs.rmSync(path.join(home, 'datasets', 'doomed'), { recursive: true });
    await lab.idle();
    const run = store.getRun(runIds[0])!;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^unknown dataset 'doomed': available are [^\n]* \(details: logs\/run-1\.log\)$/);
    expect(run.error).not.toMatch(/\bat \//);
    const log = fs.readFileSync(path.join(home, 'logs', 'run-1.log'), 'utf8');
    expect(log).toMatch(/Error: unknown dataset 'doomed'[\s\S]*\n\s+at /);
    await lab.close();
    store.close();
  });

  it('marks runs left running by a dead app interrupted, and resumes them from their checkpoint', async () => {
    const home = tempDir();
    const first = testLab(home, 1);
    const { runIds } = await first.lab.createExperiment(
      tinySpec({ training: { steps: 1500, batchSize: 16, checkpointEvery: 200 } }),
    );
    const [id] = runIds;
    await waitForEvent(first.lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > 450);
    // Simulate an app that died: the worker is killed and the store is left saying `running`, owned by a dead pid.
    process.kill(first.workers[0].pid!, 'SIGKILL');
    await first.lab.idle();
    await first.lab.close();
    first.store.setRunStatus(id, 'running', { ownerPid: 2 ** 22 + 12345 });
    first.store.close();

    const second = testLab(home, 1);
    const run = second.store.getRun(id)!;
    expect(run.status).toBe('interrupted');
    expect(run.checkpointStep).toBeGreaterThanOrEqual(400);
    await second.lab.retryRun(id);
    await second.lab.idle();
    const resumed = second.store.getRun(id)!;
    expect(resumed.status).toBe('finished');
    expect(steps(second.store, id)).toEqual(range(1, 1500));
    // The summary (plateau analysis over every step's loss included) equals an uninterrupted run's.
    const twin = collectingSink();
    await runExperiment(resumed.spec, twin.sink);
    expect(resumed.summary).toEqual(twin.out.summary);
    await second.lab.close();
    second.store.close();
  });
});
