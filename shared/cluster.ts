// Where runs train: this machine's worker processes, or a SLURM cluster. The cluster profile (kept in the lab's
// data folder) holds what every job array the lab submits asks SLURM for, and how a node starts metalab.
import { z } from 'zod';
import { plainText } from './text.js';

export const EXECUTORS = ['local', 'slurm'] as const;
export type Executor = (typeof EXECUTORS)[number];
export const EXECUTOR_LABELS: Record<Executor, string> = { local: 'this machine', slurm: 'SLURM cluster' };

/** A SLURM name (partition, account, QOS): letters, digits and `_.-`, or empty for the cluster's default. */
const slurmName = z
  .string()
  .trim()
  .max(64)
  .regex(/^[\w.-]*$/, 'letters, digits, _ . - only');

/** One line of a job script: no line breaks. */
const scriptLine = plainText(z.string().max(500)).refine((s) => !/[\r\n]/.test(s), 'one line, no line breaks');

export const clusterProfile = z
  .object({
    partition: slurmName.default('').describe('Partition (empty: the cluster default)'),
    account: slurmName.default('').describe('Account charged (empty: your default)'),
    qos: slurmName.default('').describe('Quality of service (empty: the default)'),
    timeLimit: z
      .string()
      .trim()
      .regex(/^(\d+-)?\d+(:\d{1,2}){0,2}$/, 'a SLURM time: minutes, H:MM:SS or D-HH:MM:SS')
      .default('4:00:00')
      .describe('Time limit per run (a run past it stops at its checkpoint and is resubmitted from it)'),
    cpus: z.int().min(1).max(256).default(1).describe('CPUs per run'),
    memory: z
      .string()
      .trim()
      .regex(/^(\d+[KMGT]?)?$/, 'a SLURM size such as 4G or 500M, or empty')
      .default('4G')
      .describe('Memory per run (empty: the partition default)'),
    gpus: z
      .string()
      .trim()
      .regex(/^([\w.-]+(:[\w.-]+)*(,[\w.-]+(:[\w.-]+)*)*)?$/, 'a --gres value such as gpu:1 or gpu:a100:1, or empty')
      .default('')
      .describe("Generic resources per run, SLURM's --gres (gpu:1); with a GPU, backend auto trains on WebGPU"),
    throttle: z
      .int()
      .min(0)
      .max(10_000)
      .default(0)
      .describe('Runs of one sweep at once (%K of the array; 0: no limit)'),
    resubmitOnTimeout: z
      .boolean()
      .default(true)
      .describe('Resubmit a run that reached its time limit, from its checkpoint, when it got further'),
    extraSbatch: z.array(scriptLine).max(32).default([]).describe('More #SBATCH options, e.g. --constraint=a100'),
    setup: z
      .array(scriptLine)
      .max(32)
      .default([])
      .describe('Shell lines a node runs before metalab (module load nodejs, cd, source a venv)'),
    node: scriptLine
      .default('')
      .describe("The node program on the cluster's nodes (empty: the one running this lab, by its absolute path)"),
  })
  .strict();

export type ClusterProfile = z.output<typeof clusterProfile>;
export type ClusterProfileInput = z.input<typeof clusterProfile>;

/** The SLURM side of a run the lab submitted: its job (array job id and task) and what SLURM last said of it. */
export interface SlurmRunInfo {
  /** `1234_5`: the array job and the run's task in it. */
  job: string;
  /** SLURM's state with its reason, e.g. `PENDING (JobArrayTaskLimit)`, `RUNNING on node3`; null until seen. */
  state: string | null;
  /** How the run's earlier jobs ended, oldest first: `1234_5: TIMEOUT at step 400, resubmitted from it`. */
  history: string[];
}
