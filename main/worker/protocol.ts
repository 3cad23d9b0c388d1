// Messages between the lab (parent) and a worker process: one per training run, or a short-lived one that
// measures what the runs of a planned experiment cost.
import type { EvalCurve } from '../../shared/api.js';
import type { ConfigCost, ConfigSize } from '../engine/plan.js';
import type { MetricRow } from '../../shared/metrics.js';
import type { RunSpec } from '../../shared/spec.js';

export type ToWorker =
  | { type: 'start'; runId: number; spec: RunSpec; checkpointDir: string; dataDir: string; resumeFrom: string | null }
  | { type: 'cancel' }
  /** Size every config; time the first `timed` of them too. Answered by one `plan-config` per config, then exit. */
  | { type: 'plan'; configs: RunSpec[]; timed: number; dataDir: string };

export type FromWorker =
  | { type: 'started'; backend: string; paramCount: number; stateSize: number; fromStep: number }
  | { type: 'metrics'; rows: MetricRow[] }
  | { type: 'eval'; curves: EvalCurve[] }
  | { type: 'progress'; step: number; examplesPerSec: number }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'summary'; figures: Record<string, number | string> }
  | { type: 'finished'; status: 'finished' | 'cancelled' | 'diverged'; error: string | null }
  | { type: 'failed'; error: string }
  | { type: 'plan-config'; index: number; size: ConfigSize; cost: ConfigCost | null };
