// A run as a task of a SLURM job array. The lab that submitted it (services/slurm/) left each task its start
// message in the submission's folder on the shared filesystem; the task writes what it reports to a message file
// beside it, one per start of the task (SLURM counts restarts: a requeued task starts again, on any node), and
// never touches the database. A restarted task resumes from the newest complete checkpoint of its run.
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { TRAINING_METRICS } from '../../shared/metrics.js';
import { checkpointSteps, verifyCheckpoint } from './checkpoint.js';
import type { ParentChannel } from './channel.js';
import { frameWriter, readFrames } from './messageFile.js';
import type { FromWorker, StartMessage } from './protocol.js';

/** What a task is given: its run's start message, the step it resumes from (0: none), and the lab's attempt id. */
export interface TaskStart {
  start: StartMessage;
  fromStep: number;
  attempt: string;
}

export const startFile = (dir: string, index: number): string => path.join(dir, `task-${index}.start`);
export const messageFile = (dir: string, index: number, restart: number): string =>
  path.join(dir, `task-${index}.r${restart}.msgs`);
/** A task's SLURM output; `index` may be sbatch's `%a` (the task's index), as the job script names it. */
export const logFile = (dir: string, index: number | '%a'): string => path.join(dir, `task-${index}.log`);

/** The names in a folder ([] where it cannot be read or is not one). */
export function folderNames(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The task's message files, in the order of its starts; `names`: the folder's listing where the caller has it (the
 * lab lists each submission once a poll, not once per task).
 */
export function messageFiles(
  dir: string,
  index: number,
  names = folderNames(dir),
): { file: string; restart: number }[] {
  const pattern = new RegExp(`^task-${index}\\.r(\\d+)\\.msgs$`);
  return names
    .flatMap((name) => {
      const m = pattern.exec(name);
      return m ? [{ file: path.join(dir, name), restart: Number(m[1]) }] : [];
    })
    .sort((a, b) => a.restart - b.restart);
}

/** Every file of task `index` in a submission folder: its start, message files and log (`task-<index>.…`). */
export const isTaskFile = (name: string, index: number): boolean => name.startsWith(`task-${index}.`);

/** The run a task's start file names, or null where it is missing or unreadable. */
export function taskRunId(dir: string, index: number): number | null {
  try {
    return (v8.deserialize(fs.readFileSync(startFile(dir, index))) as TaskStart).start.runId;
  } catch {
    return null;
  }
}

export function writeTaskStart(dir: string, index: number, task: TaskStart): void {
  const file = startFile(dir, index);
  fs.writeFileSync(`${file}.tmp`, v8.serialize(task));
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * This task's start message, resuming where its run got to: on a restart, from the run's newest complete
 * checkpoint, with the losses its earlier starts reported up to it (the post-run summary reads every step's loss).
 */
export function taskStart(dir: string, index: number, restart: number): StartMessage {
  const { start, fromStep } = v8.deserialize(fs.readFileSync(startFile(dir, index))) as TaskStart;
  if (restart === 0) return start;
  const newest = checkpointSteps(start.checkpointDir).find((step) => {
    if (step < fromStep) return false;
    try {
      verifyCheckpoint(path.join(start.checkpointDir, `step-${step}.json`), `checkpoint step ${step}`);
      return true;
    } catch {
      return false;
    }
  });
  if (newest === undefined || newest === fromStep) return start;
  const losses = new Map<number, number>();
  for (const { file, restart: earlier } of messageFiles(dir, index)) {
    if (earlier >= restart) break;
    for (const { message } of readFrames<FromWorker>(file, 0)) {
      if (message.type !== 'metrics') continue;
      for (const [key, step, value] of message.rows)
        if (key === TRAINING_METRICS.loss.key && step > fromStep && step <= newest) losses.set(step, value);
    }
  }
  const lossHistory = [...start.lossHistory];
  for (let step = fromStep + 1; step <= newest; step++) lossHistory.push(losses.get(step) ?? Number.NaN);
  return { ...start, resumeFrom: path.join(start.checkpointDir, `step-${newest}.json`), lossHistory };
}

/** The task's channel to its lab: its message file for this start. */
export function taskChannel(dir: string, index: number, restart: number): ParentChannel {
  const writer = frameWriter(messageFile(dir, index, restart));
  return {
    send: async (message) => writer.write(message),
    onMessage: () => undefined,
  };
}
