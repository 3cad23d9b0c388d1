// Chaos: a sweep under `metalab serve` while a second process cancels one run and deletes another, a worker is
// stopped past the stall limit, and the host is killed and started again. At the end every surviving run has
// resumed, and its metrics equal those of the same sweep run without interruption.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RETRYABLE } from '../../shared/api';
import { CIRCUMSTANTIAL_KEYS } from '../../shared/metrics';
import { testLab } from '../helpers/lab';
import { connectTo, serve } from '../helpers/serve';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

const spec = tinySpec({
  name: 'chaos',
  training: { steps: 1500, batchSize: 16, learningRate: 0.01, checkpointEvery: 100 },
  sweep: { axes: [{ path: 'training.learningRate', values: [0.01, 0.008, 0.006, 0.004, 0.003, 0.002] }] },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}
/** The processes `pid` started (its workers). */
const childrenOf = (pid: number) => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number);
  } catch {
    return [];
  }
};
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('chaos', () => {
  it("every surviving run resumes, and its metrics equal an uninterrupted twin's", async () => {
    const home = tempDir();
    const limits = { METALAB_STALL_AFTER_S: '1', METALAB_STALL_KILL_S: '4' };
    let host = await serve(home, limits);
    const seenWorkers = new Set<number>();
    const { lab: other, store } = testLab(home, 1);
    try {
      const first = await connectTo(host.url);
      const { runIds } = await first.api.createExperiment(spec);
      const step = (id: number) => store.getRun(id)?.step ?? 0;
      await until('two runs train', () => step(runIds[0]) > 200 && step(runIds[1]) > 200);

      // A second process cancels one run and deletes another that the host trains.
      await other.cancelRun(runIds[0]);
      await other.deleteRun(runIds[1]);
      await until('the host stops both', () => store.getRun(runIds[0])?.status === 'cancelled');

      // A worker stops answering: shown stalled, then stopped past the limit.
      await until('two more runs train', () => runIds.slice(2).filter((id) => step(id) > 200).length >= 2);
      for (const pid of childrenOf(host.child.pid!)) seenWorkers.add(pid);
      const stopped = childrenOf(host.child.pid!)[0];
      process.kill(stopped, 'SIGSTOP');
      await until(
        'a run fails as stalled',
        () => runIds.some((id) => /did not answer for \d+ s \(stalled\)/.test(store.getRun(id)?.error ?? '')),
        20_000,
      );

      // The host is killed mid-sweep, and started again.
      for (const pid of childrenOf(host.child.pid!)) seenWorkers.add(pid);
      first.close();
      host.child.kill('SIGKILL');
      await host.exited;
      // (The stopped worker was killed by the watchdog already.)
      await until('its workers are gone', () => [...seenWorkers].every((p) => !alive(p)));
      host = await serve(home, limits);
      const second = await connectTo(host.url);

      // Every surviving run is resumed (from its checkpoint) until all have finished.
      const survivors = runIds.filter((id) => id !== runIds[1]);
      await until(
        'every surviving run finishes',
        async () => {
          const runs = await second.api.listRuns({ experimentId: store.getRun(runIds[0])!.experimentId });
          for (const r of runs) if (RETRYABLE.includes(r.status)) await second.api.retryRun(r.id);
          return runs.length === survivors.length && runs.every((r) => r.status === 'finished');
        },
        180_000,
      );
      second.close();
      for (const pid of childrenOf(host.child.pid!)) seenWorkers.add(pid);
      host.child.kill('SIGTERM');
      expect(await host.exited).toBe(0);

      // The same sweep, uninterrupted.
      const twin = testLab(tempDir(), 2);
      const twinIds = (await twin.lab.createExperiment(spec)).runIds;
      await twin.lab.idle();
      const metrics = (s: typeof store, id: number) => s.allMetrics(id).filter((m) => !CIRCUMSTANTIAL_KEYS.has(m.key));
      for (const [i, id] of runIds.entries()) {
        if (id === runIds[1]) continue;
        expect(metrics(store, id), `r${id}`).toEqual(metrics(twin.store, twinIds[i]));
        expect(store.getEvalCurves(id), `r${id}`).toEqual(twin.store.getEvalCurves(twinIds[i]));
        expect(store.getRun(id)!.summary, `r${id}`).toEqual(twin.store.getRun(twinIds[i])!.summary);
      }
      expect(store.getRun(runIds[1])).toBeUndefined();
      expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect([...seenWorkers].filter(alive)).toEqual([]);
      await twin.lab.close();
      twin.store.close();
    } finally {
      host.child.kill('SIGKILL');
      await other.close();
      store.close();
    }
  }, 300_000);
});
