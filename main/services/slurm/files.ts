// The files SLURM tasks leave in the data folder's slurm/ (one folder per submission: job.sh and each task's start,
// message and log files; worker/slurmTask.ts names them). A deleted run's files go with it; a submission whose
// runs are all deleted goes whole. Run ids are never reused, so a start file naming a run the store no longer has
// is a deleted run's, whichever process deleted it.
import fs from 'node:fs';
import path from 'node:path';
import { folderNames, isTaskFile, taskRunId } from '../../worker/slurmTask.js';

const START = /^task-(\d+)\.start$/;

/** Removes the task files of runs for which `stored` is false, and submissions left without a task. */
export function removeDeletedTaskFiles(home: string, stored: (runId: number) => boolean): void {
  const root = path.join(home, 'slurm');
  for (const submission of folderNames(root)) {
    const dir = path.join(root, submission);
    const names = folderNames(dir);
    const tasks = names.flatMap((name) => {
      const m = START.exec(name);
      return m ? [Number(m[1])] : [];
    });
    // An unreadable start file is kept: nothing is removed that cannot be shown to be a deleted run's.
    const deleted = tasks.filter((index) => {
      const runId = taskRunId(dir, index);
      return runId !== null && !stored(runId);
    });
    if (deleted.length && deleted.length === tasks.length) {
      fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    // Once job.sh is written every task has its start file: other task files are a deleted run's, written by its
    // task after the files were removed (a cancelled task reports until it stops).
    const submitted = names.includes('job.sh');
    const gone = (name: string) =>
      deleted.some((index) => isTaskFile(name, index)) ||
      (submitted && /^task-\d+\./.test(name) && !tasks.some((index) => isTaskFile(name, index)));
    for (const name of names) if (gone(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
}
