// Metric keys written by the engine and read by the page, CLI and exports.

/** Recorded every training step. */
export const STEP_METRICS = {
  loss: 'loss',
  learningRate: 'lr',
  gradNorm: 'grad_norm',
  stepTimeMs: 'step_time_ms',
  examplesPerSec: 'examples_per_sec',
} as const;

/** Evaluation splits every task family reports. */
export const EVAL_SPLITS = ['seen', 'unseen'] as const;
export type EvalSplit = (typeof EVAL_SPLITS)[number];

/** Scalar recorded at each evaluation, e.g. `eval/unseen/last_mse`. */
export function evalMetricKey(split: string, name: string): string {
  return `eval/${split}/${name}`;
}

/** One recorded value: [key, step, value]. Non-finite values are stored as missing. */
export type MetricRow = [key: string, step: number, value: number];
