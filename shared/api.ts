// The one contract between the page and the lab: requests (LabApi) and pushed events (LabEvents).
// Both hosts (Electron MessagePort, WebSocket) carry exactly this; main validates every request.
import { z } from 'zod';
import { clusterProfile, type ClusterProfile, type Executor, type SlurmRunInfo } from './cluster.js';
import type { ObjectiveFile, StoredObjective } from './learnedObjective.js';
import type { RunSummary } from './results.js';
import type { Rollout, RolloutRef } from './rollout.js';
import { formatPath, type ExperimentSpec, type RunSpec, type SpecIssue, type SweepPoint } from './spec.js';
import { plainText } from './text.js';

/** `stalled`: running, but its worker has been silent for longer than its steps take (see the scheduler). */
export const RUN_STATUSES = [
  'queued',
  'running',
  'stalled',
  'finished',
  'failed',
  'cancelled',
  'interrupted',
  'diverged',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
/** Statuses of a run that is waiting for or has a worker: cancel and delete stop it. */
export const ACTIVE: readonly RunStatus[] = ['queued', 'running', 'stalled'];
/** Where a retried run resumes: its latest checkpoint, the one before it, or the start. */
export const RETRY_FROM = ['latest', 'previous', 'start'] as const;
export type RetryFrom = (typeof RETRY_FROM)[number];
/** Statuses a run can be retried (resumed from its checkpoint, if any) from. */
export const RETRYABLE: readonly RunStatus[] = ['failed', 'cancelled', 'interrupted', 'diverged'];

export interface Experiment {
  id: number;
  name: string;
  spec: ExperimentSpec;
  tags: string[];
  notes: string;
  createdAt: number;
  runCount: number;
}

export interface Run {
  id: number;
  experimentId: number;
  experimentName: string;
  sweepIndex: number;
  sweepPoint: SweepPoint;
  spec: RunSpec;
  status: RunStatus;
  backend: string | null;
  seed: number;
  step: number;
  totalSteps: number;
  examplesPerSec: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  checkpointStep: number | null;
  summary: RunSummary | null;
  /** Where the run trains; `slurm`: its job and SLURM's last word on it (null until submitted). */
  executor: Executor;
  slurm: SlurmRunInfo | null;
}

export interface SeriesOptions {
  fromStep?: number;
  toStep?: number;
  maxPoints?: number;
}

/**
 * A series downsampled into buckets, as columns (compact on the wire: no names repeated per point): for each bucket
 * the last step in it, and the min, max and last value over it (null: no finite value).
 */
export interface Series {
  runId: number;
  key: string;
  steps: number[];
  min: (number | null)[];
  max: (number | null)[];
  last: (number | null)[];
}

export interface EvalCurve {
  step: number;
  split: string;
  metric: string;
  values: (number | null)[];
}

export interface LabInfo {
  version: string;
  home: string;
  host: 'electron' | 'web' | 'cli';
  concurrency: number;
  /** The data folder cannot be written: runs can be looked at and exported, not changed. */
  readOnly: boolean;
}

/**
 * `metalab export` and the page's exports: every stored value as long-format CSV, or JSON with specs, curves and
 * summaries.
 */
export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type ValidateResult = { ok: true; runCount: number } | { ok: false; issues: SpecIssue[] };

/** A dataset a spec can name: built in, or imported with `metalab import`. */
export interface DatasetInfo {
  name: string;
  description: string;
  width: number;
  height: number;
  trainCount: number;
  testCount: number;
  numClasses: number;
  imported: boolean;
}

/** One run of a planned experiment: its model's size and how long it should take on this machine. */
export interface PlannedRun {
  sweepPoint: SweepPoint;
  steps: number;
  paramCount: number;
  stateSize: number;
  /** Measured on this machine; null where the run's configuration was sized but not timed. */
  secondsPerStep: number | null;
  /** Setup, every step and every evaluation; null where not timed. */
  estimatedSeconds: number | null;
}

export interface ExperimentPlan {
  runs: PlannedRun[];
  /** The backend the measurements ran on (what `auto` chose). */
  backend: string;
  /** Runs the lab trains at once. */
  concurrency: number;
  /**
   * Sum of the runs' estimates, and the time until the last one ends with `concurrency` at once; null if a run was not
   * timed.
   */
  totalSeconds: number | null;
  wallSeconds: number | null;
  /** Distinct configurations (model, task shape, batch size, evaluation), and how many of them were timed. */
  configs: number;
  timedConfigs: number;
}

export interface LabApi {
  getInfo(): Promise<LabInfo>;
  /**
   * How many runs this lab's process trains at once, from now on (queued runs start as room appears; fewer stops
   * none: running ones finish). Not kept: the next start takes its host's setting again.
   */
  setConcurrency(concurrency: number): Promise<LabInfo>;
  validateSpec(spec: unknown): Promise<ValidateResult>;
  /** Each run's parameter count, state size and estimated duration, measured in a short-lived worker. */
  planExperiment(spec: unknown): Promise<ExperimentPlan>;
  listDatasets(): Promise<DatasetInfo[]>;
  createExperiment(spec: unknown): Promise<{ experimentId: number; runIds: number[] }>;
  listExperiments(): Promise<Experiment[]>;
  getExperiment(id: number): Promise<Experiment>;
  updateExperiment(patch: { id: number; name?: string; tags?: string[]; notes?: string }): Promise<Experiment>;
  deleteExperiment(id: number): Promise<void>;
  listRuns(filter?: { experimentId?: number }): Promise<Run[]>;
  getRun(id: number): Promise<Run>;
  cancelRun(id: number): Promise<void>;
  /**
   * Queues a stopped run again: from its latest checkpoint (default), the one before it (when the latest is
   * damaged), or from the start (its metrics and checkpoints dropped).
   */
  retryRun(id: number, options?: { from: RetryFrom }): Promise<void>;
  deleteRun(id: number): Promise<void>;
  getSeries(runIds: number[], keys: string[], options?: SeriesOptions): Promise<Series[]>;
  getEvalCurves(runId: number): Promise<EvalCurve[]>;
  /** The keys of every metric series a run has recorded. */
  listMetricKeys(runId: number): Promise<string[]>;
  /** A run (`r12`, `12`) or an experiment (`e3`) as an export file's text. */
  exportRuns(ref: string, format: ExportFormat): Promise<string>;
  /** The rollouts an RL run recorded (one lifetime per evaluation and split). */
  listRollouts(runId: number): Promise<RolloutRef[]>;
  getRollout(runId: number, step: number, split: string): Promise<Rollout>;
  /** Learned objectives (MetaGenRL) kept in the lab, newest first. */
  listObjectives(): Promise<StoredObjective[]>;
  /** A stored objective as a file (shared/learnedObjective.ts) another lab can import. */
  exportObjective(id: number): Promise<ObjectiveFile>;
  /** Stores an objective file's objective (checked against its sha256); an already stored one is returned as is. */
  importObjective(file: unknown, fileName: string): Promise<StoredObjective>;
  renameObjective(id: number, name: string): Promise<StoredObjective>;
  /** Refused while an experiment's spec refers to it. */
  deleteObjective(id: number): Promise<void>;
  /** What the lab asks SLURM for when an experiment runs on the cluster (shared/cluster.ts). */
  getClusterProfile(): Promise<ClusterProfile>;
  setClusterProfile(profile: ClusterProfile): Promise<ClusterProfile>;
}

export type LabEvent =
  | {
      type: 'run-progress';
      runId: number;
      step: number;
      totalSteps: number;
      examplesPerSec: number | null;
      etaSeconds: number | null;
    }
  | { type: 'metrics-appended'; runId: number; keys: string[]; lastStep: number }
  | { type: 'run-state'; runId: number; experimentId: number; status: RunStatus; error: string | null }
  /** The experiment or one of its runs' rows changed (created, edited, deleted, a run's backend known): refetch. */
  | { type: 'experiment-changed'; experimentId: number }
  /** Another process sharing the data folder changed it (created, changed or deleted runs): refetch. */
  | { type: 'store-changed' };

/** What the page exposes back to main: one function that receives pushed events. */
export interface LabEvents {
  event(e: LabEvent): void;
}

const id = z.int().positive();
/** The most runs a lab trains at once. */
export const MAX_CONCURRENCY = 64;
const maxRunsPerQuery = 64;

/** Argument schemas for every LabApi method: main parses each request through these before acting. */
export const labApiArgs = {
  getInfo: z.tuple([]),
  setConcurrency: z.tuple([z.int().min(1).max(MAX_CONCURRENCY)]),
  validateSpec: z.tuple([z.unknown()]),
  planExperiment: z.tuple([z.unknown()]),
  listDatasets: z.tuple([]),
  createExperiment: z.tuple([z.unknown()]),
  listExperiments: z.tuple([]),
  getExperiment: z.tuple([id]),
  updateExperiment: z.tuple([
    z
      .object({
        id,
        name: plainText(z.string().trim().min(1).max(200)).optional(),
        tags: z
          .array(plainText(z.string().trim().min(1).max(64)))
          .max(32)
          .optional(),
        notes: plainText(z.string().max(20_000), true).optional(),
      })
      .strict(),
  ]),
  deleteExperiment: z.tuple([id]),
  listRuns: z.tuple([z.object({ experimentId: id.optional() }).strict().optional()]),
  getRun: z.tuple([id]),
  cancelRun: z.tuple([id]),
  retryRun: z.tuple([
    id,
    z
      .object({ from: z.enum(RETRY_FROM) })
      .strict()
      .optional(),
  ]),
  deleteRun: z.tuple([id]),
  getSeries: z.tuple([
    z.array(id).min(1).max(maxRunsPerQuery),
    z.array(z.string().min(1).max(100)).min(1).max(32),
    z
      .object({
        fromStep: z.int().min(0).optional(),
        toStep: z.int().min(0).optional(),
        maxPoints: z.int().min(2).max(10_000).optional(),
      })
      .strict()
      .optional(),
  ]),
  getEvalCurves: z.tuple([id]),
  listMetricKeys: z.tuple([id]),
  exportRuns: z.tuple([z.string().min(1).max(32), z.enum(EXPORT_FORMATS)]),
  listRollouts: z.tuple([id]),
  getRollout: z.tuple([id, z.int().min(0), z.string().min(1).max(100)]),
  listObjectives: z.tuple([]),
  exportObjective: z.tuple([id]),
  importObjective: z.tuple([z.unknown(), z.string().min(1).max(255)]),
  renameObjective: z.tuple([id, plainText(z.string().trim().min(1).max(200))]),
  deleteObjective: z.tuple([id]),
  getClusterProfile: z.tuple([]),
  setClusterProfile: z.tuple([clusterProfile]),
} satisfies { [K in keyof LabApi]: z.ZodType<Parameters<LabApi[K]>> };

export const LAB_API_METHODS = Object.keys(labApiArgs) as (keyof LabApi)[];

/** Raised for a request main refuses; its message names what is wrong. */
export class LabError extends Error {
  override name = 'LabError';
}

/** A spec the lab refuses: the message names every field at fault; `issues` has them one by one (in-process hosts). */
export class SpecError extends LabError {
  override name = 'SpecError';
  constructor(readonly issues: SpecIssue[]) {
    super(`invalid spec: ${issues.map((i) => `${formatPath(i.path) || '(spec)'}: ${i.message}`).join('; ')}`);
  }
}

/** A run (`r12`, `12`) or an experiment (`e3`) named on a command line or in an export request. */
export function parseRunRef(ref: string): { kind: 'run' | 'experiment'; id: number } {
  const match = /^(r|e)?(\d+)$/i.exec(ref.trim());
  if (!match) throw new LabError(`'${ref}' is not a run id (r12 or 12) or an experiment id (e3)`);
  return { kind: match[1]?.toLowerCase() === 'e' ? 'experiment' : 'run', id: Number(match[2]) };
}
