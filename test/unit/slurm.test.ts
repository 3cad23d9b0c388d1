// The SLURM executor's pure parts: what `scontrol show job -o` prints, parsed; the batch script; the message files a
// task writes and the lab reads (whole frames only, resumable at an offset); a task's resume point after a requeue.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterProfile } from '../../shared/cluster.js';
import { TRAINING_METRICS } from '../../shared/metrics.js';
import { parseJobs, submit, taskIndices } from '../../main/services/slurm/commands.js';
import { describe as describeTask } from '../../main/services/slurm/executor.js';
import { removeDeletedTaskFiles } from '../../main/services/slurm/files.js';
import { ProfileError, readProfile, writeProfile } from '../../main/services/slurm/profile.js';
import { jobScript } from '../../main/services/slurm/script.js';
import { saveCheckpoint } from '../../main/worker/checkpoint.js';
import { encodeFrame, frameWriter, readFrames } from '../../main/worker/messageFile.js';
import type { StartMessage } from '../../main/worker/protocol.js';
import { logFile, messageFile, messageFiles, taskStart, writeTaskStart } from '../../main/worker/slurmTask.js';
import { tempDir } from '../helpers/tmp.js';

describe('scontrol show job -o, parsed', () => {
  it('expands a pending record over the tasks it stands for', () => {
    expect(taskIndices('0-3%2')).toEqual([0, 1, 2, 3]);
    expect(taskIndices('1,4-5')).toEqual([1, 4, 5]);
    expect(taskIndices('0-6:3')).toEqual([0, 3, 6]);
  });

  it('reads each task state, reason, exit code, restarts and node', () => {
    const text = [
      'JobId=12 ArrayJobId=10 ArrayTaskId=2 JobName=metalab-e1 UserId=root(0) JobState=RUNNING Reason=None ' +
        'Dependency=(null) Requeue=1 Restarts=1 BatchFlag=1 ExitCode=0:0 NodeList=node1 BatchHost=node1',
      'JobId=11 ArrayJobId=10 ArrayTaskId=1 JobName=metalab-e1 JobState=FAILED Reason=NonZeroExitCode Restarts=0 ' +
        'ExitCode=0:9 NodeList=node1',
      'JobId=10 ArrayJobId=10 ArrayTaskId=3-4%2 JobName=metalab-e1 JobState=PENDING Reason=JobArrayTaskLimit ' +
        'Restarts=0 ExitCode=0:0 NodeList=(null)',
      '',
    ].join('\n');
    const tasks = parseJobs(text);
    expect([...tasks.keys()].sort()).toEqual(['10_1', '10_2', '10_3', '10_4']);
    expect(tasks.get('10_2')).toEqual({
      state: 'RUNNING',
      reason: 'None',
      exitCode: '0:0',
      restarts: 1,
      node: 'node1',
    });
    expect(tasks.get('10_4')?.reason).toBe('JobArrayTaskLimit');
    expect(describeTask(tasks.get('10_1')!)).toBe(
      'SLURM: FAILED, killed by signal 9 (SIGKILL), reason NonZeroExitCode, on node1',
    );
  });
});

describe('the batch script', () => {
  it('asks for what the profile says, one task per run, throttled', () => {
    const profile = clusterProfile.parse({
      partition: 'gpu',
      account: 'lab',
      throttle: 2,
      gpus: 'gpu:1',
      timeLimit: '1:00:00',
      extraSbatch: ['#SBATCH --constraint=a100'],
      setup: ['module load nodejs/20'],
      node: 'node',
    });
    const script = jobScript(profile, {
      dir: "/shared/lab/slurm/it's",
      count: 4,
      name: 'metalab e1',
      workerScript: '/opt/metalab/dist/main/worker.cjs',
      nodeProgram: '/usr/bin/node',
    });
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    for (const option of [
      '--array=0-3%2',
      '--job-name=metalab-e1',
      '--requeue',
      '--time=1:00:00',
      '--gres=gpu:1',
      '--partition=gpu',
      '--account=lab',
      '--constraint=a100',
      "--output=/shared/lab/slurm/it's/task-%a.log",
    ])
      expect(lines).toContain(`#SBATCH ${option}`);
    expect(lines.indexOf('module load nodejs/20')).toBeGreaterThan(lines.indexOf('#SBATCH --requeue'));
    expect(lines).toContain("exec node '/opt/metalab/dist/main/worker.cjs' --slurm-task '/shared/lab/slurm/it'\\''s'");
    // No throttle where it would not hold anything back; no empty options.
    const plain = jobScript(clusterProfile.parse({ throttle: 8, memory: '' }), {
      dir: '/d',
      count: 3,
      name: 'x',
      workerScript: '/w.cjs',
      nodeProgram: '/usr/bin/node',
    });
    expect(plain).toContain('#SBATCH --array=0-2\n');
    expect(plain).not.toMatch(/--mem|--partition|--gres/);
    expect(plain).toContain("exec '/usr/bin/node' '/w.cjs'");
  });

  it('keeps the profile in the data folder, and names what is wrong with a broken one', () => {
    const home = tempDir('metalab-profile-');
    expect(readProfile(home).timeLimit).toBe('4:00:00');
    writeProfile(home, clusterProfile.parse({ throttle: 3 }));
    expect(readProfile(home).throttle).toBe(3);
    fs.writeFileSync(path.join(home, 'cluster.json'), '{"throttle": -1}');
    expect(() => readProfile(home)).toThrow(ProfileError);
    expect(() => readProfile(home)).toThrow(/cluster.json is not valid: throttle: /);
    fs.writeFileSync(path.join(home, 'cluster.json'), '{');
    expect(() => readProfile(home)).toThrow(/is not JSON/);
    expect(clusterProfile.safeParse({ setup: ['a\nb'] }).success).toBe(false);
    expect(clusterProfile.safeParse({ partition: 'gpu; rm -rf /' }).success).toBe(false);
  });
});

describe('message files', () => {
  it('reads whole frames from an offset, never a frame cut short', () => {
    const file = path.join(tempDir('metalab-frames-'), 'm.msgs');
    expect(readFrames(file, 0)).toEqual([]);
    const writer = frameWriter(file);
    const values = new Float32Array([1.5, -2, 3]);
    writer.write({ type: 'metrics', rows: [['loss', 1, 2.5]] });
    writer.write({ type: 'objective', values });
    writer.close();
    const frames = readFrames<{ type: string; values?: Float32Array }>(file, 0);
    expect(frames.map((f) => f.message.type)).toEqual(['metrics', 'objective']);
    expect(frames[1].message.values).toEqual(values);
    expect(frames[1].end).toBe(fs.statSync(file).size);
    expect(readFrames<{ type: string }>(file, frames[0].end).map((f) => f.message.type)).toEqual(['objective']);
    // A worker killed in the middle of a write leaves part of a frame: it is not read, and what follows is.
    const partial = encodeFrame({ type: 'progress', step: 3 });
    fs.appendFileSync(file, partial.subarray(0, partial.length - 2));
    expect(readFrames(file, frames[1].end)).toEqual([]);
    fs.appendFileSync(file, partial.subarray(partial.length - 2));
    expect(readFrames(file, frames[1].end).map((f) => f.message)).toEqual([{ type: 'progress', step: 3 }]);
  });

  it('resumes a restarted task from the newest checkpoint, with the losses its earlier start reported', () => {
    const dir = tempDir('metalab-task-');
    const checkpointDir = path.join(dir, 'checkpoints', 'run-1');
    const start = {
      type: 'start',
      runId: 1,
      spec: {},
      checkpointDir,
      dataDir: dir,
      resumeFrom: path.join(checkpointDir, 'step-2.json'),
      lossHistory: [9, 8],
      objective: null,
    } as unknown as StartMessage;
    writeTaskStart(dir, 0, { start, fromStep: 2, attempt: 'a' });
    expect(taskStart(dir, 0, 0)).toEqual(start);
    const tensors = [{ name: 'w', shape: [2], values: new Float32Array([1, 2]) }];
    for (const step of [2, 4]) saveCheckpoint(checkpointDir, { step, adamT: step, tensors });
    const first = frameWriter(messageFile(dir, 0, 0));
    const loss = TRAINING_METRICS.loss.key;
    first.write({
      type: 'metrics',
      rows: [
        [loss, 3, 7],
        [loss, 4, 6],
        [loss, 5, 5],
        ['acc', 4, 0.5],
      ],
    });
    first.close();
    expect(messageFiles(dir, 0).map((f) => f.restart)).toEqual([0]);
    // From a listing the lab took once for the whole submission: task 1's files, not task 10's, in start order.
    const listing = ['task-10.r0.msgs', 'task-1.r2.msgs', 'task-1.start', 'task-1.r0.msgs', 'job.sh'];
    expect(messageFiles('/nowhere', 1, listing)).toEqual([
      { file: path.join('/nowhere', 'task-1.r0.msgs'), restart: 0 },
      { file: path.join('/nowhere', 'task-1.r2.msgs'), restart: 2 },
    ]);
    const again = taskStart(dir, 0, 1);
    expect(again.resumeFrom).toBe(path.join(checkpointDir, 'step-4.json'));
    expect(again.lossHistory).toEqual([9, 8, 7, 6]);
  });
});

describe("a deleted run's task files", () => {
  /** A submission folder holding one task per run id, each with a start file, two message files and a log. */
  function submission(home: string, name: string, runIds: number[], submitted = true): string {
    const dir = path.join(home, 'slurm', name);
    fs.mkdirSync(dir, { recursive: true });
    runIds.forEach((runId, index) => {
      const start = { type: 'start', runId } as unknown as StartMessage;
      writeTaskStart(dir, index, { start, fromStep: 0, attempt: 'a' });
      for (const restart of [0, 1]) fs.writeFileSync(messageFile(dir, index, restart), 'frames');
      fs.writeFileSync(logFile(dir, index), 'log');
    });
    if (submitted) fs.writeFileSync(path.join(dir, 'job.sh'), '#!/bin/bash');
    return dir;
  }
  const files = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : null);

  it('go with the run; a submission whose runs are all deleted goes whole', () => {
    const home = tempDir('metalab-slurm-files-');
    // Runs 1..12 once existed; 3, 11 and 12 are deleted. Task 1 of `a` is run 11 (task-1.* but not task-10.*).
    const a = submission(home, 'a', [1, 11, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const b = submission(home, 'b', [12]);
    const pending = submission(home, 'c', [12], false);
    const stored = new Set([1, 2, 4, 5, 6, 7, 8, 9, 10]);
    // A cancelled task of a deleted run wrote again after its files went: no start file, in a submitted folder.
    removeDeletedTaskFiles(home, (id) => stored.has(id));
    fs.writeFileSync(messageFile(a, 1, 2), 'late');
    removeDeletedTaskFiles(home, (id) => stored.has(id));
    const left = files(a)!;
    expect(left).toContain('job.sh');
    expect(left.filter((n) => n.startsWith('task-1.'))).toEqual([]);
    expect(left.filter((n) => n.startsWith('task-3.'))).toEqual([]);
    expect(left.filter((n) => n.startsWith('task-10.'))).toEqual([
      'task-10.log',
      'task-10.r0.msgs',
      'task-10.r1.msgs',
      'task-10.start',
    ]);
    expect(left).toHaveLength(1 + 9 * 4);
    expect(files(b)).toBeNull();
    // A folder still being submitted (no job.sh) loses its deleted runs' tasks, and nothing unknown to it.
    expect(files(pending)).toBeNull();
  });

  it('keeps what cannot be shown to be a deleted run’s: an unreadable start file, another folder’s files', () => {
    const home = tempDir('metalab-slurm-files-');
    const a = submission(home, 'a', [5, 6]);
    fs.writeFileSync(path.join(a, 'task-0.start'), 'not v8');
    fs.writeFileSync(path.join(home, 'slurm', 'notes.txt'), 'mine');
    removeDeletedTaskFiles(home, () => false);
    expect(files(a)!.filter((n) => n.startsWith('task-0.'))).toHaveLength(4);
    expect(files(a)!.filter((n) => n.startsWith('task-1.'))).toEqual([]);
    expect(fs.readFileSync(path.join(home, 'slurm', 'notes.txt'), 'utf8')).toBe('mine');
    // No slurm folder at all: nothing to do.
    expect(() => removeDeletedTaskFiles(tempDir('metalab-slurm-none-'), () => false)).not.toThrow();
  });
});

describe('submitting', () => {
  /** An sbatch on the PATH that fails its first `failures` calls with `error`, then answers a job id. */
  async function withSbatch<T>(failures: number, error: string, run: () => Promise<T>): Promise<[T | Error, number]> {
    const dir = tempDir('metalab-sbatch-');
    const calls = path.join(dir, 'calls');
    fs.writeFileSync(calls, '');
    const script = [
      '#!/bin/sh',
      `echo x >> ${calls}`,
      `if [ $(wc -l < ${calls}) -le ${failures} ]; then echo "sbatch: error: ${error}" >&2; exit 1; fi`,
      'echo "42;cluster"',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'sbatch'), script, { mode: 0o755 });
    const saved = process.env.PATH;
    process.env.PATH = `${dir}:${saved}`;
    try {
      const result = await run().catch((err: Error) => err);
      return [result, fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean).length];
    } finally {
      process.env.PATH = saved;
    }
  }
  const busy = 'Batch job submission failed: Socket timed out on send/recv operation';

  it('asks a busy controller again, and gives up after the last try', async () => {
    expect(await withSbatch(2, busy, () => submit('job.sh', [0, 0, 0]))).toEqual(['42', 3]);
    const [gaveUp, calls] = await withSbatch(9, busy, () => submit('job.sh', [0, 0, 0]));
    expect(calls).toBe(4);
    expect((gaveUp as Error).message).toContain('Socket timed out');
  });

  it('does not repeat a submission the controller refused for what it asks', async () => {
    const refused = 'Batch job submission failed: Invalid partition name specified';
    const [error, calls] = await withSbatch(1, refused, () => submit('job.sh', [0, 0, 0]));
    expect(calls).toBe(1);
    expect((error as Error).message).toContain('Invalid partition name specified');
  });
});
