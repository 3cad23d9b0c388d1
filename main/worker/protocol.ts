// Messages between the scheduler (parent) and a training worker (one process per run).
import type { EvalCurve } from '../../shared/api.js';
import type { MetricRow } from '../../shared/metrics.js';
import type { RunSpec } from '../../shared/spec.js';

export type ToWorker =
  | { type: 'start'; runId: number; spec: RunSpec; checkpointDir: string; dataDir: string; resumeFrom: string | null }
  | { type: 'cancel' };

export type FromWorker =
  | { type: 'started'; backend: string; paramCount: number; stateSize: number; fromStep: number }
  | { type: 'metrics'; rows: MetricRow[] }
  | { type: 'eval'; curves: EvalCurve[] }
  | { type: 'progress'; step: number; examplesPerSec: number }
  | { type: 'checkpoint'; step: number; path: string }
  | { type: 'summary'; figures: Record<string, number | string> }
  | { type: 'finished'; status: 'finished' | 'cancelled' | 'diverged'; error: string | null }
  | { type: 'failed'; error: string };
