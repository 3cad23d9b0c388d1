// Metric keys written by the engine and read by the page, CLI and exports.

/** Recorded every training step. */
export const STEP_METRICS = {
  loss: 'loss',
  /** Classification only: accuracy over all positions of the batch. */
  accuracy: 'acc',
  learningRate: 'lr',
  gradNorm: 'grad_norm',
  stepTimeMs: 'step_time_ms',
  examplesPerSec: 'examples_per_sec',
} as const;

/** Recorded at each evaluation: the phase label's index in PHASE_LABELS. */
export const PHASE_METRIC = 'phase';
export const PHASE_LABELS = ['not learning yet', 'memorization', 'task identification', 'general learning-to-learn'] as const;

/** Scalar recorded at each evaluation, e.g. `eval/unseen/last_mse`. */
export function evalMetricKey(split: string, name: string): string {
  return `eval/${split}/${name}`;
}

/** One recorded value: [key, step, value]. Non-finite values are stored as missing. */
export type MetricRow = [key: string, step: number, value: number];
