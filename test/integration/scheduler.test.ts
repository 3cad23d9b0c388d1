// Real worker processes (dist/main/worker.cjs, built by `npm run build`) against a real SQLite file.
import { describe, expect, it } from 'vitest';
import { Lab } from '../../main/services/lab';
import { testLab, waitForEvent } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

function steps(lab: Lab, runId: number, key = 'loss'): number[] {
  return lab.store.allMetrics(runId).filter((m) => m.key === key).map((m) => m.step);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('scheduler with worker processes', () => {
  it('never runs more workers than its concurrency, and finishes every run', async () => {
    const { lab, events } = testLab(tempDir(), 2);
    let running = 0;
    let peak = 0;
    lab.subscribe((e) => {
      if (e.type !== 'run-state') return;
      if (e.status === 'running') peak = Math.max(peak, ++running);
      else if (e.status !== 'queued') running--;
    });
    const { runIds } = await lab.createExperiment(tinySpec({ sweep: { axes: [{ path: 'training.learningRate', values: [0.01, 0.005, 0.002] }] } }));
    await lab.scheduler.idle();
    expect(peak).toBe(2);
    for (const id of runIds) {
      const run = lab.store.getRun(id)!;
      expect(run.status).toBe('finished');
      expect(run.backend).toBe('wasm');
      expect(steps(lab, id)).toEqual(range(1, 60));
      expect(run.summary?.final_loss).toBeTypeOf('number');
      expect(lab.store.getEvalCurves(id).filter((c) => c.metric === 'mse').length).toBe(4);
    }
    expect(events.some((e) => e.type === 'run-progress')).toBe(true);
    // Created, then each run's row again once its worker says which backend it runs on.
    expect(events.filter((e) => e.type === 'experiment-changed')).toHaveLength(1 + runIds.length);
    await lab.close();
  });

  it('cancels a running run at a checkpoint, and retry resumes it to the end with every step once', async () => {
    const { lab } = testLab(tempDir(), 1);
    const { runIds } = await lab.createExperiment(tinySpec({ training: { steps: 8000, batchSize: 16, checkpointEvery: 1000 } }));
    const [id] = runIds;
    await waitForEvent(lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > 100);
    const cancelledAt = Date.now();
    await lab.cancelRun(id);
    await lab.scheduler.idle();
    expect(Date.now() - cancelledAt).toBeLessThan(2500);
    const cancelled = lab.store.getRun(id)!;
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.checkpointStep).toBeGreaterThan(100);
    expect(steps(lab, id)).toEqual(range(1, cancelled.checkpointStep!));

    await lab.retryRun(id);
    await lab.scheduler.idle();
    const done = lab.store.getRun(id)!;
    expect(done.status).toBe('finished');
    expect(steps(lab, id)).toEqual(range(1, 8000));
    await lab.close();
  });

  it('marks a run failed when its worker is killed, keeping every flushed metric and a sound database', async () => {
    const { lab, workers } = testLab(tempDir(), 1);
    const { runIds } = await lab.createExperiment(tinySpec({ training: { steps: 100_000, batchSize: 16, checkpointEvery: 500 } }));
    const [id] = runIds;
    await waitForEvent(lab, (e) => e.type === 'metrics-appended' && e.runId === id && e.lastStep > 600);
    const flushed = steps(lab, id).length;
    process.kill(workers[0].pid!, 'SIGKILL');
    await lab.scheduler.idle();
    const run = lab.store.getRun(id)!;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/killed by SIGKILL/);
    const kept = steps(lab, id);
    expect(kept.length).toBeGreaterThanOrEqual(flushed);
    expect(kept).toEqual(range(1, kept.length));
    expect(lab.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(run.checkpointStep).toBeGreaterThanOrEqual(500);
    await lab.close();
  });

  it('marks runs left running by a dead app interrupted, and resumes them from their checkpoint', async () => {
    const home = tempDir();
    const first = testLab(home, 1);
    const { runIds } = await first.lab.createExperiment(tinySpec({ training: { steps: 1500, batchSize: 16, checkpointEvery: 200 } }));
    const [id] = runIds;
    await waitForEvent(first.lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > 450);
    // Simulate an app that died: the worker is killed and the store is left saying `running`, owned by a dead pid.
    process.kill(first.workers[0].pid!, 'SIGKILL');
    await first.lab.scheduler.idle();
    first.lab.store.setRunStatus(id, 'running', { ownerPid: 2 ** 22 + 12345 });
    first.lab.store.close();

    const second = testLab(home, 1);
    const run = second.lab.store.getRun(id)!;
    expect(run.status).toBe('interrupted');
    expect(run.checkpointStep).toBeGreaterThanOrEqual(400);
    await second.lab.retryRun(id);
    await second.lab.scheduler.idle();
    expect(second.lab.store.getRun(id)!.status).toBe('finished');
    expect(steps(second.lab, id)).toEqual(range(1, 1500));
    await second.lab.close();
  });
});
