// One data folder shared by many processes, damaged or read-only folders, and workers that stop answering:
// real processes, real files.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../main/services/paths';
import { metalab } from '../helpers/cli';
import { testLab, waitForEvent } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

const long = tinySpec({ training: { steps: 200_000, batchSize: 16, checkpointEvery: 200 } });

/** The built CLI as a child process; resolves with its exit code. */
function cli(home: string, ...args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(appRoot(), 'bin', 'metalab.cjs'), ...args], {
      env: { ...process.env, METALAB_HOME: home },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('a data folder shared by processes', () => {
  it('is created and migrated once when two processes open a fresh folder at the same time', async () => {
    for (let i = 0; i < 12; i++) {
      const home = tempDir();
      const both = await Promise.all([cli(home, 'runs'), cli(home, 'runs')]);
      expect(
        both.map((r) => r.code),
        both.map((r) => r.stderr).join('\n'),
      ).toEqual([0, 0]);
    }
  }, 120_000);

  it('stops a worker whose run was deleted by another process, and never gives its id to a new run', async () => {
    const home = tempDir();
    const { lab, store } = testLab(home, 1);
    const { runIds } = await lab.createExperiment(long);
    const [id] = runIds;
    await waitForEvent(lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > 50);
    store.deleteRun(id);
    const deletedAt = Date.now();
    await lab.idle();
    expect(Date.now() - deletedAt).toBeLessThan(3000);
    expect(store.allMetrics(id)).toEqual([]);
    expect(store.getRun(id)).toBeUndefined();
    expect(fs.existsSync(path.join(home, 'checkpoints', `run-${id}`))).toBe(false);
    const next = await lab.createExperiment(tinySpec());
    expect(next.runIds[0]).toBeGreaterThan(id);
    await lab.idle();
    await lab.close();
    store.close();
  });

  it('stops a worker of an earlier attempt, leaving the run to its current one', async () => {
    const { lab, store } = testLab(tempDir(), 1);
    const [id] = (await lab.createExperiment(long)).runIds;
    await waitForEvent(lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > 50);
    // Another process took the run over (as a retry there would): this worker's results are no longer the run's.
    store.setRunStatus(id, 'running', { attempt: 'elsewhere', ownerPid: process.pid });
    const steps = store.allMetrics(id).length;
    await lab.idle();
    const run = store.getRun(id)!;
    expect(run.status).toBe('running');
    expect(store.attemptOf(id)).toBe('elsewhere');
    expect(store.allMetrics(id).length).toBeLessThanOrEqual(steps);
    await lab.close();
    store.close();
  });
});

describe('run control across processes', () => {
  /** `metalab run` of a long spec as a child process; resolves with its exit code and output once it ends. */
  function longRun(home: string) {
    const file = path.join(home, 'long.json');
    fs.writeFileSync(file, JSON.stringify(long));
    let stderr = '';
    const child = spawn(process.execPath, [path.join(appRoot(), 'bin', 'metalab.cjs'), 'run', file], {
      env: { ...process.env, METALAB_HOME: home },
    });
    child.stderr.on('data', (d) => (stderr += d));
    const ended = new Promise<{ code: number | null; stderr: string }>((resolve) =>
      child.on('exit', (code) => resolve({ code, stderr })),
    );
    return { child, ended };
  }

  /** Waits until the store shows run `id` at `step` or later. */
  async function reached(store: { getRun(id: number): { step: number } | undefined }, id: number, step: number) {
    const until = Date.now() + 30_000;
    while ((store.getRun(id)?.step ?? 0) < step) {
      if (Date.now() > until) throw new Error(`run r${id} did not reach step ${step}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('a cancel from a process that does not own the worker stops it within ~2 s; its CLI says so', async () => {
    const home = tempDir();
    const { child, ended } = longRun(home);
    const { lab, store, events } = testLab(home, 1);
    try {
      await reached(store, 1, 100);
      // This lab sees the run the other process created (it polls every second: the run may be at step 100 sooner).
      const seen = Date.now() + 3000;
      while (!events.some((e) => e.type === 'store-changed') && Date.now() < seen)
        await new Promise((r) => setTimeout(r, 50));
      expect(events.some((e) => e.type === 'store-changed')).toBe(true);
      const asked = Date.now();
      await lab.cancelRun(1);
      const { code, stderr } = await ended;
      expect(Date.now() - asked).toBeLessThan(4000);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^r1 cancelled$/m);
      expect(store.getRun(1)!.status).toBe('cancelled');
    } finally {
      child.kill();
      await lab.close();
      store.close();
    }
  });

  it('a delete from another process stops the worker; its CLI says so and exits non-zero', async () => {
    const home = tempDir();
    const { child, ended } = longRun(home);
    const { lab, store } = testLab(home, 1);
    try {
      await reached(store, 1, 100);
      await lab.deleteRun(1);
      const { code, stderr } = await ended;
      expect(code).toBe(1);
      expect(stderr).toContain('r1 was deleted (by another process sharing');
      expect(store.allMetrics(1)).toEqual([]);
    } finally {
      child.kill();
      await lab.close();
      store.close();
    }
  });
});

describe('a worker that stops answering', () => {
  it('is shown stalled, running again when it answers, and stopped past the limit (resumable)', async () => {
    const { lab, store, workers } = testLab(tempDir(), 1, { stallMinMs: 1500, stallKillMs: 6000 });
    const [id] = (await lab.createExperiment(long)).runIds;
    await waitForEvent(lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > 250);
    const pid = workers[0].pid!;
    process.kill(pid, 'SIGSTOP');
    await waitForEvent(lab, (e) => e.type === 'run-state' && e.runId === id && e.status === 'stalled', 5000);
    expect(store.getRun(id)!.status).toBe('stalled');
    process.kill(pid, 'SIGCONT');
    await waitForEvent(lab, (e) => e.type === 'run-state' && e.runId === id && e.status === 'running', 5000);

    process.kill(pid, 'SIGSTOP');
    await lab.idle();
    const run = store.getRun(id)!;
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^the worker did not answer for \d+ s \(stalled\) and was stopped; retry resumes/);
    expect(run.checkpointStep).toBeGreaterThanOrEqual(200);
    await lab.close();
    store.close();
  }, 60_000);
});

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const lossSteps = (store: { allMetrics(id: number): { key: string; step: number }[] }, id: number) =>
  store
    .allMetrics(id)
    .filter((m) => m.key === 'loss')
    .map((m) => m.step);
const medium = tinySpec({ training: { steps: 3000, batchSize: 16, checkpointEvery: 300 } });

/** Starts a run and cancels it once it has checkpointed past `step`; returns its id. */
async function cancelledAfter(lab: ReturnType<typeof testLab>['lab'], step: number): Promise<number> {
  const [id] = (await lab.createExperiment(medium)).runIds;
  await waitForEvent(lab, (e) => e.type === 'run-progress' && e.runId === id && e.step > step);
  await lab.cancelRun(id);
  await lab.idle();
  return id;
}

describe('checkpoints', () => {
  it('go with their run or experiment when it is deleted', async () => {
    const home = tempDir();
    const { lab, store } = testLab(home, 1);
    const id = await cancelledAfter(lab, 400);
    const dir = path.join(home, 'checkpoints', `run-${id}`);
    expect(fs.readdirSync(dir).length).toBeGreaterThan(0);
    await lab.deleteRun(id);
    expect(fs.existsSync(dir)).toBe(false);
    const other = await cancelledAfter(lab, 400);
    await lab.deleteExperiment(store.getRun(other)!.experimentId);
    expect(fs.existsSync(path.join(home, 'checkpoints', `run-${other}`))).toBe(false);
    await lab.close();
    store.close();
  });

  it('are stored relative to the data folder: a folder moved with mv resumes (older absolute paths too)', async () => {
    const base = tempDir();
    const first = testLab(path.join(base, 'a'), 1);
    const id = await cancelledAfter(first.lab, 400);
    const stored = first.store.checkpointOf(id)!;
    expect(stored.path).toBe(`checkpoints/run-${id}/step-${stored.step}.json`);
    // As a metalab before relative paths stored it: absolute, in the folder's old place.
    first.store.updateRun(id, { checkpointPath: path.join(base, 'a', stored.path) });
    await first.lab.close();
    first.store.close();
    fs.renameSync(path.join(base, 'a'), path.join(base, 'b'));

    const moved = testLab(path.join(base, 'b'), 1);
    await moved.lab.retryRun(id);
    await moved.lab.idle();
    expect(moved.store.getRun(id)!.status).toBe('finished');
    expect(lossSteps(moved.store, id)).toEqual(range(1, 3000));
    await moved.lab.close();
    moved.store.close();
  });

  it('refuses a damaged checkpoint, naming it; resumes from the previous one or starts over', async () => {
    const home = tempDir();
    const { lab, store } = testLab(home, 1);
    const id = await cancelledAfter(lab, 700);
    const latest = store.checkpointOf(id)!;
    const bin = path.join(home, latest.path.replace(/\.json$/, '.bin'));
    const bytes = fs.readFileSync(bin);
    // Altered at the same size: its first half zeroed.
    const half = bytes.length >> 1;
    fs.writeFileSync(bin, Buffer.concat([Buffer.alloc(half), bytes.subarray(half)]));
    // Cancelling checkpoints where the run stopped; the one before is the last periodic one.
    const previous = Math.floor((latest.step - 1) / 300) * 300;
    await expect(lab.retryRun(id)).rejects.toThrow(
      `checkpoint ${latest.path} is damaged (checksum mismatch): retry from the previous checkpoint ` +
        `(step ${previous}) or from the start`,
    );
    expect(store.getRun(id)!.status).toBe('cancelled');
    await lab.retryRun(id, { from: 'previous' });
    await lab.idle();
    expect(store.getRun(id)!.status).toBe('finished');
    expect(lossSteps(store, id)).toEqual(range(1, 3000));

    const other = await cancelledAfter(lab, 400);
    await lab.retryRun(other, { from: 'start' });
    await lab.idle();
    expect(lossSteps(store, other)).toEqual(range(1, 3000));
    await lab.close();
    store.close();
  }, 60_000);
});

const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

describe('a read-only data folder', () => {
  it.skipIf(!canMount)('is opened read-only: runs, show, export and figure work; changes are refused', () => {
    const base = tempDir();
    const [rw, ro] = [path.join(base, 'rw'), path.join(base, 'ro')];
    fs.mkdirSync(rw);
    fs.mkdirSync(ro);
    expect(metalab(rw, 'run', 'examples/tiny-regression.json', '--backend', 'wasm').code).toBe(0);
    expect(spawnSync('mount', ['--bind', rw, ro]).status).toBe(0);
    try {
      expect(spawnSync('mount', ['-o', 'remount,bind,ro', ro]).status).toBe(0);
      expect(metalab(ro, 'runs').stdout).toMatch(/r1\s+e1 tiny regression\s+finished/);
      expect(metalab(ro, 'show', 'r1').stdout).toMatch(/status\s+finished/);
      expect(metalab(ro, 'export', 'e1', '--format', 'csv').stdout.split('\n').length).toBeGreaterThan(300);
      const out = path.join(base, 'loss.svg');
      expect(metalab(ro, 'figure', 'lines', 'e1', '--metric', 'loss', '--out', out).code).toBe(0);
      const refused = metalab(ro, 'run', 'examples/tiny-regression.json');
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/createExperiment: the data folder .* is read-only/);
      expect(fs.readdirSync(ro).sort()).toEqual(fs.readdirSync(rw).sort());
    } finally {
      spawnSync('umount', [ro]);
    }
  });
  if (!canMount) console.log('skipped the read-only folder test: it needs root and mount (a read-only bind mount)');
});

describe('a full disk', () => {
  it.skipIf(!canMount)(
    'fails the run whose checkpoint cannot be written with one sentence; it resumes once space is freed',
    async () => {
      const home = tempDir();
      const checkpoints = path.join(home, 'checkpoints');
      fs.mkdirSync(checkpoints, { recursive: true });
      // Checkpoints on a 128 KiB file system; a checkpoint of this model is ~0.8 MB.
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', checkpoints]).status).toBe(0);
      const { lab, store } = testLab(home, 1);
      try {
        const spec = tinySpec({
          model: { kind: 'mlp', hidden: [256, 256] },
          training: { steps: 400, batchSize: 16, checkpointEvery: 200 },
        });
        const [id] = (await lab.createExperiment(spec)).runIds;
        await lab.idle();
        const failed = store.getRun(id)!;
        expect(failed.status).toBe('failed');
        expect(failed.error).toMatch(
          new RegExp(
            `^cannot write the checkpoint of step 200 in ${checkpoints}/run-${id} \\(ENOSPC\\) ` +
              `\\(details: logs/run-${id}\\.log\\)$`,
          ),
        );
        expect(fs.readdirSync(path.join(checkpoints, `run-${id}`)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
        expect(lossSteps(store, id)).toEqual(range(1, 200));
        // The lab still answers, and once there is room the run resumes and finishes.
        expect((await lab.getRun(id)).id).toBe(id);
        expect(spawnSync('mount', ['-o', 'remount,size=64m', checkpoints]).status).toBe(0);
        await lab.retryRun(id);
        await lab.idle();
        expect(store.getRun(id)!.status).toBe('finished');
        expect(lossSteps(store, id)).toEqual(range(1, 400));
      } finally {
        await lab.close();
        store.close();
        spawnSync('umount', [checkpoints]);
      }
    },
  );
  it.skipIf(!canMount)(
    'under the database: `metalab run` ends with one sentence, the run resumes when there is room',
    async () => {
      const home = tempDir();
      // The whole data folder on a 512 KiB file system: the metrics of a few thousand steps fill it.
      expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', home]).status).toBe(0);
      try {
        const file = path.join(home, 'spec.json');
        const spec = tinySpec({ training: { steps: 20_000, batchSize: 16, checkpointEvery: 1_000_000 } });
        fs.writeFileSync(file, JSON.stringify(spec));
        const full = metalab(home, 'run', file);
        expect(full.code).toBe(1);
        expect(full.stderr).toMatch(/database or disk is full/);
        expect(full.stderr).not.toMatch(/^\s+at /m);

        expect(spawnSync('mount', ['-o', 'remount,size=64m', home]).status).toBe(0);
        const { lab, store } = testLab(home, 1);
        expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
        const run = store.getRun(1)!;
        expect(['failed', 'interrupted']).toContain(run.status);
        await lab.retryRun(1);
        await lab.idle();
        expect(store.getRun(1)!.status).toBe('finished');
        expect(lossSteps(store, 1)).toEqual(range(1, 20_000));
        await lab.close();
        store.close();
      } finally {
        spawnSync('umount', [home]);
      }
    },
    120_000,
  );
  if (!canMount) console.log('skipped the full-disk test: it needs root and mount (a small tmpfs)');
});
