// Messages between the lab (parent) and a worker process: one per training run, or a short-lived one that
// measures what the runs of a planned experiment cost.
import type { EvalCurve } from '../../shared/api.js';
import type { ConfigCost, ConfigSize } from '../engine/plan.js';
import type { LearnedObjectiveWeights, ObjectiveProgress } from '../engine/train.js';
import type { MetricRow } from '../../shared/metrics.js';
import type { RunSummary } from '../../shared/results.js';
import type { Rollout } from '../../shared/rollout.js';
import type { RunSpec } from '../../shared/spec.js';

export type ToWorker =
  /**
   * `lossHistory`: the loss of every step up to the checkpoint resumed from (the post-run summary reads it);
   * `objective`: the stored objective a `learned-objective` run's spec names by its sha256 (null for any other run).
   */
  | {
      type: 'start';
      runId: number;
      spec: RunSpec;
      checkpointDir: string;
      dataDir: string;
      resumeFrom: string | null;
      lossHistory: number[];
      objective: LearnedObjectiveWeights | null;
    }
  | { type: 'cancel' }
  /** Size every config; time the first `timed` of them too. Answered by one `plan-config` per config, then exit. */
  | { type: 'plan'; configs: RunSpec[]; timed: number; dataDir: string };

export type StartMessage = Extract<ToWorker, { type: 'start' }>;

export type FromWorker =
  | { type: 'started'; backend: string; paramCount: number; stateSize: number; fromStep: number }
  | { type: 'metrics'; rows: MetricRow[] }
  | { type: 'eval'; curves: EvalCurve[] }
  | { type: 'rollout'; rollout: Omit<Rollout, 'runId'> }
  /** A `metagenrl` run's objective as meta-trained so far: the lab keeps the latest as the run's. */
  | { type: 'objective'; objective: LearnedObjectiveWeights & { progress: ObjectiveProgress } }
  | { type: 'progress'; step: number; examplesPerSec: number }
  /** Sent every second while the worker's event loop turns: silence means it is stuck or stopped. */
  | { type: 'heartbeat' }
  /** `path`: relative to the data folder. */
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'summary'; summary: RunSummary }
  | { type: 'finished'; status: 'finished' | 'cancelled' | 'diverged'; error: string | null }
  /** `error`: the error's message; `detail`: its stack, for the run's log file. */
  | { type: 'failed'; error: string; detail: string }
  | { type: 'plan-config'; index: number; size: ConfigSize; cost: ConfigCost | null };
