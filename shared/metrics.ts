// The metric registry: every number the lab records has a key, a label, a unit, a direction and a
// description. The training loop's and the run's own metrics are here; each objective (./objectives) adds
// its evaluation figures and curves. Views, the CLI and exports read names and labels from here.

export type Direction = 'higher' | 'lower';

export interface MetricInfo {
  key: string;
  label: string;
  unit: string | null;
  /** Which way is better; null where neither is (a learning rate, a size). */
  direction: Direction | null;
  description: string;
}

const metric = (
  key: string,
  label: string,
  unit: string | null,
  direction: Direction | null,
  description: string,
): MetricInfo => ({
  key,
  label,
  unit,
  direction,
  description,
});

/**
 * Recorded by the training loop at every step (`phase` at every evaluation, `resumed` at each resume, the worker's
 * resources every few seconds), whatever the objective.
 */
export const TRAINING_METRICS = {
  loss: metric(
    'loss',
    'training loss',
    null,
    'lower',
    "The objective's loss on the meta-training batch, averaged over every position.",
  ),
  learningRate: metric(
    'lr',
    'learning rate',
    null,
    null,
    'Adam learning rate at the step (warm-up and schedule applied).',
  ),
  gradNorm: metric('grad_norm', 'gradient norm', null, null, 'Global norm of the meta-gradient before clipping.'),
  stepTimeMs: metric('step_time_ms', 'step time', 'ms', 'lower', 'Wall time of the training step.'),
  examplesPerSec: metric(
    'examples_per_sec',
    'examples per second',
    '1/s',
    'higher',
    'Sequence positions trained per second (RL: environment steps taken per second).',
  ),
  phase: metric(
    'phase',
    'phase',
    null,
    null,
    'The phase of in-context learning the evaluation shows, as its index in PHASE_LABELS.',
  ),
  phaseConfidence: metric(
    'phase_confidence',
    'phase confidence',
    null,
    'higher',
    'Fraction of bootstrap resamples of the evaluation sequences (RL: trials) whose phase rule gives the same phase; ' +
      'below PHASE_CONFIDENT (0.9) the label is uncertain. Recorded with `phase` at every evaluation.',
  ),
  resumed: metric(
    'resumed',
    'resumed',
    null,
    null,
    'Recorded (1) by the lab at the step a run resumed from its checkpoint; the charts mark it.',
  ),
  workerCpu: metric(
    'worker_cpu',
    'worker CPU',
    '%',
    null,
    "CPU time of the run's worker process (its threads included) over wall time, every 5 s: 100 is one busy core.",
  ),
  workerMemory: metric('worker_memory', 'worker memory', 'MiB', null, "Resident memory of the run's worker process."),
} as const;

/**
 * Keys that record the machine and the run's history rather than its computation: they differ between two runs of
 * one spec (a run resumed from a checkpoint and one that was not, among them). Everything else is reproducible.
 */
export const CIRCUMSTANTIAL_KEYS: ReadonlySet<string> = new Set(
  [
    TRAINING_METRICS.stepTimeMs,
    TRAINING_METRICS.examplesPerSec,
    TRAINING_METRICS.resumed,
    TRAINING_METRICS.workerCpu,
    TRAINING_METRICS.workerMemory,
  ].map((m) => m.key),
);

/** Figures of a finished run, whatever its objective (keys in RunSummary.figures). */
export const RUN_FIGURES = {
  finalLoss: metric('final_loss', 'final loss', null, 'lower', 'Training loss at the last step.'),
  paramCount: metric('param_count', 'parameters', null, null, "The model's number of trainable parameters."),
  stateSize: metric('state_size', 'state size', null, null, 'Memory the model carries along a sequence (floats).'),
  plateauLength: metric(
    'plateau_length',
    'plateau length',
    'steps',
    'lower',
    'Steps of the longest flat stretch of the training loss (0: none).',
  ),
  lossEscapeStep: metric(
    'loss_escape_step',
    'loss escape step',
    'steps',
    'lower',
    'First step where the smoothed loss left its initial level (null: never).',
  ),
} as const;

const EVAL_PREFIX = 'eval/';

/** Key of a figure recorded at each evaluation for one split, e.g. `eval/unseen/last_mse`. */
export function evalMetricKey(split: string, name: string): string {
  return `${EVAL_PREFIX}${split}/${name}`;
}

/** The split and figure name of an evaluation key; null for any other key. */
export function parseEvalKey(key: string): { split: string; name: string } | null {
  const m = /^eval\/([^/]+)\/([^/]+)$/.exec(key);
  return m ? { split: m[1], name: m[2] } : null;
}

export const isEvalKey = (key: string): boolean => key.startsWith(EVAL_PREFIX);

/** One recorded value: [key, step, value]. Non-finite values are stored as missing. */
export type MetricRow = [key: string, step: number, value: number];
