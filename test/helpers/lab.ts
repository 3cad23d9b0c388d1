import type { LabEvent, Run } from '../../shared/api';
import { Lab, type LabOptions } from '../../main/services/lab';
import { databaseFile, workerScript } from '../../main/services/paths';
import { Store } from '../../main/services/store/index';
import { forkLauncher, type WorkerHandle } from '../../main/services/workers';

/**
 * A Lab on a temporary home with real worker processes; `workers` holds every handle it started, and
 * `store` is a second connection to its database for the test to inspect (close it with `lab`).
 */
export function testLab(home: string, concurrency = 2, options: Partial<LabOptions> = {}) {
  const workers: WorkerHandle[] = [];
  const launch = forkLauncher(workerScript());
  const events: LabEvent[] = [];
  const lab = new Lab({
    home,
    concurrency,
    host: 'web',
    ...options,
    launch: () => {
      const w = launch();
      workers.push(w);
      return w;
    },
  });
  lab.subscribe((e) => events.push(e));
  return { lab, store: new Store(databaseFile(home)), workers, events };
}

/** Resolves with the first event that satisfies `match`. */
export function waitForEvent(lab: Lab, match: (e: LabEvent) => boolean, timeoutMs = 30_000): Promise<LabEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a lab event')), timeoutMs);
    const off = lab.subscribe((e) => {
      if (match(e)) {
        clearTimeout(timer);
        off();
        resolve(e);
      }
    });
  });
}

/**
 * The runs (of one experiment, or all) once every one has finished; throws if one ends otherwise or time runs
 * out, naming where each run stands.
 */
export async function finishedRuns(lab: Lab, experimentId?: number, timeoutMs = 40_000): Promise<Run[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await lab.listRuns(experimentId === undefined ? undefined : { experimentId });
    if (list.every((r) => r.status === 'finished')) return list;
    const ended = list.find((r) => !['queued', 'running', 'finished'].includes(r.status));
    if (ended) throw new Error(`r${ended.id} ended ${ended.status}: ${ended.error}`);
    if (Date.now() > deadline) {
      throw new Error(`runs did not finish in time: ${list.map((r) => `${r.status} ${r.step}/${r.totalSteps}`)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
