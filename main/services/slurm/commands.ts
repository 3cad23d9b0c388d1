// SLURM's client commands, run as child processes (sbatch, scontrol, scancel), and what they print, parsed.
// There may be no accounting database (sacct), so a task's state comes from `scontrol show job`, which keeps an
// ended job for MinJobAge seconds (300 by default); the lab looks every few seconds.
import { execFile } from 'node:child_process';

export class SlurmCommandError extends Error {}

const TIMEOUT_MS = 60_000;

/** Runs a SLURM command; its output, or a SlurmCommandError with the command and what it printed. */
export function slurm(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: TIMEOUT_MS, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? `${command} is not installed here (is this a SLURM login node? is SLURM on the PATH?)`
          : `${command} ${args.join(' ')} failed: ${(stderr || err.message).trim().split('\n').slice(-3).join(' | ')}`;
      reject(new SlurmCommandError(why));
    });
  });
}

/** One array task as `scontrol show job` reports it. */
export interface TaskState {
  /** SLURM's job state: PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, ... */
  state: string;
  reason: string;
  /** `exit:signal`, e.g. 0:9 for a task killed by SIGKILL. */
  exitCode: string;
  restarts: number;
  node: string;
}

/** `0-3%2`, `1,4-5`, `7`: the indices a (pending, not yet split) record stands for. */
export function taskIndices(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.replace(/%\d+$/, '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part);
    if (!m) continue;
    const [from, to, by] = [Number(m[1]), Number(m[2] ?? m[1]), Number(m[3] ?? 1)];
    for (let i = from; i <= to; i += by) out.push(i);
  }
  return out;
}

/**
 * `scontrol show job -o <array job>`, one line per record, as array task id (`1234_5`) → state. A pending record
 * may stand for several tasks (ArrayTaskId=2-3%2).
 */
export function parseJobs(text: string): Map<string, TaskState> {
  const tasks = new Map<string, TaskState>();
  for (const line of text.split('\n')) {
    const fields = new Map<string, string>();
    for (const m of line.matchAll(/(?:^|\s)([A-Za-z:/]+)=(\S*)/g)) if (!fields.has(m[1])) fields.set(m[1], m[2]);
    const job = fields.get('ArrayJobId') ?? fields.get('JobId');
    const state = fields.get('JobState');
    if (!job || !state) continue;
    const task: TaskState = {
      state,
      reason: fields.get('Reason') ?? 'None',
      exitCode: fields.get('ExitCode') ?? '0:0',
      restarts: Number(fields.get('Restarts') ?? 0),
      node: fields.get('NodeList') ?? '',
    };
    const indices = fields.has('ArrayTaskId') ? taskIndices(fields.get('ArrayTaskId')!) : [0];
    for (const i of indices) tasks.set(`${job}_${i}`, task);
  }
  return tasks;
}

/** The states of these array jobs' tasks; an array job SLURM no longer knows has none. */
export async function jobStates(arrayJobs: readonly string[]): Promise<Map<string, TaskState>> {
  const all = new Map<string, TaskState>();
  for (const job of arrayJobs) {
    let text: string;
    try {
      text = await slurm('scontrol', ['show', 'job', '-o', job]);
    } catch (err) {
      // Purged (MinJobAge passed) or never known: its tasks are reported missing, which the caller handles.
      if (/invalid job id/i.test((err as Error).message)) continue;
      throw err;
    }
    for (const [task, state] of parseJobs(text)) all.set(task, state);
  }
  return all;
}

/**
 * What sbatch says when the controller is busy or restarting, not when the job is wrong: worth another try. (sbatch
 * retries "Resource temporarily unavailable" itself, not these.)
 */
const TRANSIENT =
  /socket timed out|unable to contact slurm controller|temporarily unable to accept job|connection refused/i;

/** Seconds between tries of a submission the controller did not take: four tries over ~17 s. */
export const SUBMIT_RETRY_SECONDS = [2, 5, 10];

/** Submits a batch script; the array job's id. A busy controller is asked again (SUBMIT_RETRY_SECONDS). */
export async function submit(scriptFile: string, retrySeconds = SUBMIT_RETRY_SECONDS): Promise<string> {
  let out: string;
  for (let attempt = 0; ; attempt++) {
    try {
      out = (await slurm('sbatch', ['--parsable', scriptFile])).trim();
      break;
    } catch (err) {
      if (attempt >= retrySeconds.length || !TRANSIENT.test((err as Error).message)) throw err;
      await new Promise((resolve) => setTimeout(resolve, retrySeconds[attempt] * 1000));
    }
  }
  const id = out.split(';')[0];
  if (!/^\d+$/.test(id)) throw new SlurmCommandError(`sbatch answered '${out}', not a job id`);
  return id;
}

/** Cancels array tasks (`1234_5`); one already ended is no error. */
export async function cancel(tasks: readonly string[]): Promise<void> {
  if (tasks.length) await slurm('scancel', [...tasks]);
}
