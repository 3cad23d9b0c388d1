// Experiments on a real SLURM cluster (Debian's slurm-wlm, started by the test on private ports and folders): a
// sweep as one throttled job array whose stored metrics equal the same sweep run locally, and every way a task ends
// or stops — scancel, SIGKILL, its time limit, a requeue, the lab that submitted it killed and started again.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Run } from '../../shared/api';
import { clusterProfile, type ClusterProfileInput } from '../../shared/cluster';
import { CIRCUMSTANTIAL_KEYS, TRAINING_METRICS } from '../../shared/metrics';
import { slurm } from '../../main/services/slurm/commands';
import { writeProfile } from '../../main/services/slurm/profile';
import { messageFiles } from '../../main/worker/slurmTask';
import type { Store } from '../../main/services/store/index';
import { finishedRuns, testLab } from '../helpers/lab';
import { nodeGate, type SlurmCluster, slurmAvailable, startSlurm } from '../helpers/slurm';
import { tinySpec } from '../helpers/specs';
import { systemPath } from '../helpers/system';
import { tempDir } from '../helpers/tmp';

const available = slurmAvailable('the SLURM executor tests');
let cluster: SlurmCluster | null = null;

beforeAll(async () => {
  if (!available) return;
  cluster = await startSlurm({ cpus: 4, conf: { KillWait: '3' } });
  Object.assign(process.env, cluster?.env);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

/** A lab on a fresh data folder whose cluster profile is `profile`. */
function clusterLab(profile: ClusterProfileInput = {}) {
  const home = tempDir('metalab-slurm-');
  writeProfile(home, clusterProfile.parse({ memory: '', timeLimit: '10', ...profile }));
  return { home, ...testLab(home, 2, { slurmPollMs: 500 }) };
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/** The first truthy value `check` gives, polled. */
async function until<T>(what: string, check: () => T | Promise<T>, timeoutMs = 60_000): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const metrics = (store: Store, id: number) => store.allMetrics(id).filter((m) => !CIRCUMSTANTIAL_KEYS.has(m.key));
const resumedAt = (store: Store, id: number) =>
  store
    .allMetrics(id)
    .filter((m) => m.key === TRAINING_METRICS.resumed.key)
    .map((m) => m.step);
const sweep = (steps: number, name: string) =>
  tinySpec({
    name,
    training: { steps, batchSize: 16, learningRate: 0.01, checkpointEvery: 20 },
    sweep: { axes: [{ path: 'seed', values: [1, 2, 3, 4] }] },
  });

/** Every metric, curve and summary of runs `a` equal to those of runs `b` (the same sweep points in order). */
function expectSameRuns(sa: Store, a: number[], sb: Store, b: number[]): void {
  for (const [i, id] of a.entries()) {
    expect(metrics(sa, id), `r${id}`).toEqual(metrics(sb, b[i]));
    expect(sa.getEvalCurves(id), `r${id}`).toEqual(sb.getEvalCurves(b[i]));
    expect(sa.getRun(id)!.summary, `r${id}`).toEqual(sb.getRun(b[i])!.summary);
  }
}

describe.skipIf(!available)('SLURM executor', () => {
  it('runs a sweep as one job array, two at a time, storing what the same sweep stores locally', async () => {
    // Its nodes wait at a gate until the test has seen the throttle hold tasks back.
    const gate = nodeGate(tempDir());
    const { home, lab, store, events } = clusterLab({ throttle: 2, setup: [gate.setup] });
    const spec = sweep(120, 'slurm sweep');
    const { experimentId, runIds } = await lab.createExperiment({ ...spec, executor: 'slurm' });
    const submitted = await lab.listRuns({ experimentId });
    expect(submitted.every((r) => r.executor === 'slurm' && r.slurm)).toBe(true);
    const arrayJob = submitted[0].slurm!.job.split('_')[0];
    expect(submitted.map((r) => r.slurm!.job).sort()).toEqual([0, 1, 2, 3].map((i) => `${arrayJob}_${i}`));
    // The throttle holds two tasks back: SLURM says why.
    await until('tasks wait for the throttle', async () =>
      (await lab.listRuns({ experimentId })).some((r) => r.slurm?.state?.includes('JobArrayTaskLimit')),
    );
    gate.open();
    const runs = await finishedRuns(lab, experimentId, 120_000);
    // Never more than two at once: each run's span on the lab's clock.
    const spans = runs.map((r) => [r.startedAt!, r.finishedAt!]);
    for (const [start] of spans)
      expect(spans.filter(([s, f]) => s <= start && start < f).length).toBeLessThanOrEqual(2);
    // Live: progress and metrics reached the lab's subscribers while the runs trained.
    for (const id of runIds) {
      expect(events.some((e) => e.type === 'run-progress' && e.runId === id)).toBe(true);
      expect(events.some((e) => e.type === 'metrics-appended' && e.runId === id)).toBe(true);
    }
    // The ingest delay: from a task's last message written to the lab storing it (the run's end).
    const delays = runs.map((r) => {
      const dir = path.join(home, store.slurm.dirOf(r.id)!);
      const index = Number(r.slurm!.job.split('_')[1]);
      const last = messageFiles(dir, index).at(-1)!.file;
      return r.finishedAt! - fs.statSync(last).mtimeMs;
    });
    console.log(`ingest delay (last message to stored), ms: ${delays.map((d) => Math.round(d)).join(', ')}`);
    expect(Math.max(...delays)).toBeLessThan(5000);

    const local = testLab(tempDir(), 2);
    const localIds = (await local.lab.createExperiment(spec)).runIds;
    await local.lab.idle();
    expectSameRuns(store, runIds, local.store, localIds);

    // Deleting a run removes its task's files; deleting the rest removes the submission.
    const [gone, kept] = runs.map((r) => ({ dir: path.join(home, store.slurm.dirOf(r.id)!), task: r.slurm!.job }));
    const taskFiles = (t: typeof gone) =>
      fs.readdirSync(t.dir).filter((name) => name.startsWith(`task-${t.task.split('_')[1]}.`));
    expect(taskFiles(gone)).toHaveLength(3); // start, messages, log
    await lab.deleteRun(runs[0].id);
    expect(taskFiles(gone)).toEqual([]);
    expect(taskFiles(kept)).toHaveLength(3);
    await lab.deleteExperiment(experimentId);
    expect(fs.existsSync(kept.dir)).toBe(false);
    for (const l of [lab, local.lab]) await l.close();
    for (const s of [store, local.store]) s.close();
  }, 240_000);

  it('follows scancel, a SIGKILL, a requeue and a retry of single tasks', async () => {
    const { lab, store } = clusterLab();
    const long = tinySpec({ name: 'long', training: { steps: 200_000, batchSize: 16, checkpointEvery: 50 } });
    const { experimentId } = await lab.createExperiment({
      ...long,
      executor: 'slurm',
      sweep: { axes: [{ path: 'seed', values: [1, 2, 3] }] },
    });
    const [cancelled, killed, requeued] = await lab.listRuns({ experimentId });
    const run = (id: number) => lab.getRun(id);
    const checkpointed = (id: number) =>
      until(`r${id} checkpoints`, async () => ((await run(id)).checkpointStep ?? 0) > 0);
    for (const r of [cancelled, killed, requeued]) await checkpointed(r.id);

    // Cancelled from the lab: scancel, and the run says cancelled.
    await lab.cancelRun(cancelled.id);
    const c = await until('the cancelled run ends', async () => {
      const r = await run(cancelled.id);
      return r.status === 'cancelled' && r;
    });
    expect(c.error).toBeNull();

    // Killed on its node (SIGKILL to the task's process; a plain `scancel --signal=KILL` is a cancel to SLURM, which
    // sends SIGTERM first): failed, with SLURM's reason; retried, it resumes from its checkpoint.
    await slurm('scancel', ['--batch', '--signal=KILL', killed.slurm!.job]);
    const k = await until('the killed run fails', async () => {
      const r = await run(killed.id);
      return r.status === 'failed' && r;
    });
    expect(k.error).toMatch(/SLURM: FAILED.*killed by signal 9 \(SIGKILL\).*retry resumes from its checkpoint/);
    await lab.retryRun(killed.id);
    const resumed = await until('the retried run resumes', async () => {
      const r = await run(killed.id);
      return r.status === 'running' && resumedAt(store, killed.id).length > 0 && r;
    });
    expect(resumed.slurm!.job).not.toBe(killed.slurm!.job);
    expect(resumed.slurm!.history.join('\n')).toMatch(new RegExp(`${killed.slurm!.job}: failed`));
    expect(resumedAt(store, killed.id)).toEqual([k.checkpointStep]);

    // Requeued by SLURM: the task starts again (restart 1) and resumes from its newest checkpoint.
    const before = (await run(requeued.id)).checkpointStep!;
    await slurm('scontrol', ['requeue', requeued.slurm!.job]);
    const again = await until(
      'the requeued run resumes',
      async () => resumedAt(store, requeued.id).length > 0 && (await run(requeued.id)),
      90_000,
    );
    expect(resumedAt(store, requeued.id)[0]).toBeGreaterThanOrEqual(before);
    expect(again.slurm!.job).toBe(requeued.slurm!.job);
    await until(
      'the requeued run runs on',
      async () => (await run(requeued.id)).step > resumedAt(store, requeued.id)[0],
    );
    // Every step once: no point duplicated or missing across the requeue.
    const losses = store.allMetrics(requeued.id).filter((m) => m.key === TRAINING_METRICS.loss.key);
    expect(losses.map((m) => m.step)).toEqual(losses.map((_, i) => i + 1));

    for (const id of [killed.id, requeued.id]) await lab.cancelRun(id);
    await until('the runs end', async () =>
      (await lab.listRuns({ experimentId })).every((r) => r.status === 'cancelled'),
    );
    await lab.close();
    store.close();
  }, 300_000);

  it('resubmits a run that reached its time limit from its checkpoint', async () => {
    const { lab, store } = clusterLab({ timeLimit: '1' });
    const long = tinySpec({ name: 'timeout', training: { steps: 1_000_000, batchSize: 16, checkpointEvery: 50 } });
    const { runIds } = await lab.createExperiment({ ...long, executor: 'slurm' });
    const [id] = runIds;
    const first = (await lab.getRun(id)).slurm!.job;
    // A lab waiting for its runs (metalab run) waits through the resubmission.
    let idle = false;
    void lab.idle().then(() => (idle = true));
    const again = await until(
      'the run is resubmitted after TIMEOUT',
      async () => {
        const r = await lab.getRun(id);
        return r.slurm?.history.some((h) => h.startsWith(`${first}: TIMEOUT`)) && resumedAt(store, id).length && r;
      },
      200_000,
    );
    expect(again.slurm!.job).not.toBe(first);
    expect(again.status).toBe('running');
    expect(idle).toBe(false);
    expect(resumedAt(store, id)[0]).toBeGreaterThan(0);
    await lab.cancelRun(id);
    await until('the run ends', async () => (await lab.getRun(id)).status === 'cancelled');
    await lab.idle();
    await lab.close();
    store.close();
  }, 300_000);

  it('follows its own runs while sbatch is slow to answer, and cancels those asked to stop meanwhile', async () => {
    // A busy controller: sbatch answers after several of the lab's polls; scancel refuses the third task.
    const slow = tempDir('metalab-slow-sbatch-');
    const sbatch = `#!/bin/sh\nsleep 3\nexec ${systemPath('/usr/bin/sbatch')} "$@"\n`;
    fs.writeFileSync(path.join(slow, 'sbatch'), sbatch, { mode: 0o755 });
    const refusal = 'Kill job error on job id $1: Access/permission denied';
    const scancel = `#!/bin/sh\ncase "$1" in *_2) echo "scancel: error: ${refusal}" >&2; exit 1;; esac\n`;
    fs.writeFileSync(path.join(slow, 'scancel'), `${scancel}exec ${systemPath('/usr/bin/scancel')} "$@"\n`, {
      mode: 0o755,
    });
    const before = process.env.PATH;
    process.env.PATH = `${slow}:${before}`;
    try {
      const { lab, store } = clusterLab({ throttle: 2 });
      const spec = tinySpec({
        name: 'slow sbatch',
        training: { steps: 200, batchSize: 16 },
        sweep: { axes: [{ path: 'seed', values: [1, 2, 3] }] },
      });
      const created = lab.createExperiment({ ...spec, executor: 'slurm' });
      // The runs are stored and being submitted now; the second and third are cancelled before SLURM gave them a
      // job. The second's task is cancelled when sbatch answers; scancel refuses the third's, which says so.
      const ids = (await lab.listRuns()).map((r) => r.id).sort((a, b) => a - b);
      await expect(lab.retryRun(ids[1])).rejects.toThrow(`run r${ids[1]} is already queued or running`);
      await lab.cancelRun(ids[1]);
      await lab.cancelRun(ids[2]);
      expect((await created).runIds).toEqual(ids);
      const ended = await until('every run ends', async () => {
        const runs = await lab.listRuns();
        return runs.every((r) => r.status === 'finished' || r.status === 'cancelled') && runs.reverse();
      });
      expect(ended.map((r) => [r.id, r.status, r.error, r.step])).toEqual([
        [ids[0], 'finished', null, 200],
        [ids[1], 'cancelled', null, 0],
        [ids[2], 'finished', null, 200],
      ]);
      const job = ended[0].slurm!.job.split('_')[0];
      expect(ended[1].slurm).toMatchObject({ job: `${job}_1`, state: 'CANCELLED while pending' });
      expect(ended[2].slurm?.history).toEqual([
        `${job}_2: not cancelled: scancel ${job}_2 failed: scancel: error: ${refusal.replace('$1', `${job}_2`)}`,
      ]);
      await lab.close();
      store.close();
    } finally {
      process.env.PATH = before;
    }
  }, 90_000);

  it('re-attaches to its jobs when the lab that submitted them was killed', async () => {
    const home = tempDir('metalab-slurm-');
    writeProfile(home, clusterProfile.parse({ memory: '', timeLimit: '10', throttle: 2 }));
    const spec = sweep(1500, 'coordinator killed');
    const file = path.join(home, 'spec.json');
    fs.writeFileSync(file, JSON.stringify(spec));
    const coordinator = spawn(process.execPath, ['bin/metalab.cjs', 'run', file, '--on', 'slurm'], {
      env: { ...process.env, METALAB_HOME: home },
      stdio: 'ignore',
    });
    const { lab, store } = await (async () => {
      const { Store: StoreClass } = await import('../../main/services/store/index');
      const { databaseFile } = await import('../../main/services/paths');
      await until('the coordinator stores metrics', () => {
        if (!fs.existsSync(databaseFile(home))) return false;
        const peek = new StoreClass(databaseFile(home));
        try {
          return peek.listRuns().some((r) => r.step > 100);
        } finally {
          peek.close();
        }
      });
      coordinator.kill('SIGKILL');
      await new Promise((resolve) => coordinator.once('exit', resolve));
      return testLab(home, 2, { slurmPollMs: 500 });
    })();
    const runs: Run[] = await finishedRuns(lab, undefined, 180_000);
    const local = testLab(tempDir(), 2);
    const localIds = (await local.lab.createExperiment(spec)).runIds;
    await local.lab.idle();
    const ids = runs.map((r) => r.id).sort((a, b) => a - b);
    expect(ids).toHaveLength(4);
    expectSameRuns(store, ids, local.store, localIds);
    for (const l of [lab, local.lab]) await l.close();
    for (const s of [store, local.store]) s.close();
  }, 300_000);
});
