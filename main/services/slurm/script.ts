// The batch script of one submission: a job array, one task per run, each starting the lab's worker script on its
// node with the submission's folder. Pure text from the profile, so it is tested without SLURM.
import type { ClusterProfile } from '../../../shared/cluster.js';
import { logFile } from '../../worker/slurmTask.js';

export interface Submission {
  /** The submission's folder on the shared filesystem (absolute). */
  dir: string;
  /** Runs in it: array tasks 0..count-1. */
  count: number;
  /** The job's name in squeue. */
  name: string;
  /** The worker script (absolute) and the node program to run it with where the profile names none. */
  workerScript: string;
  nodeProgram: string;
}

/** Single-quoted for the shell. */
const quote = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;

export function jobScript(profile: ClusterProfile, submission: Submission): string {
  const { dir, count, name } = submission;
  const throttle = profile.throttle > 0 && profile.throttle < count ? `%${profile.throttle}` : '';
  const options = [
    `--job-name=${name.replace(/[^\w.-]+/g, '-')}`,
    `--array=0-${count - 1}${throttle}`,
    // A task's log, kept over its restarts; %a: its index in the array.
    `--output=${logFile(dir, '%a')}`,
    '--open-mode=append',
    `--chdir=${dir}`,
    // Requeued (by an administrator, a preemption or a node failure) rather than ended: it resumes from its checkpoint.
    '--requeue',
    `--time=${profile.timeLimit}`,
    `--cpus-per-task=${profile.cpus}`,
    profile.memory && `--mem=${profile.memory}`,
    profile.gpus && `--gres=${profile.gpus}`,
    profile.partition && `--partition=${profile.partition}`,
    profile.account && `--account=${profile.account}`,
    profile.qos && `--qos=${profile.qos}`,
    ...profile.extraSbatch.map((line) => line.replace(/^#SBATCH\s+/, '').trim()),
  ].filter(Boolean);
  const node = profile.node || quote(submission.nodeProgram);
  return [
    '#!/bin/bash',
    ...options.map((o) => `#SBATCH ${o}`),
    '',
    ...profile.setup,
    `exec ${node} ${quote(submission.workerScript)} --slurm-task ${quote(dir)}`,
    '',
  ].join('\n');
}
