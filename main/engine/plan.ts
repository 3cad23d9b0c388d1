// What a run configuration costs on this machine, for the designer's estimates: the model's size, and the
// time of real training steps and evaluations, measured by running the engine on shortened copies of the
// spec (same backend, task, model, batch size and evaluation).
import { TRAINING_METRICS } from '../../shared/metrics.js';
import type { RunSpec } from '../../shared/spec.js';
import { setUpRl } from './rl/run.js';
import { isRlSpec } from './rl/types.js';
import { runExperiment, setUpRun, type RunInfo, type RunSink, type SequenceRunSpec } from './train.js';

export interface ConfigSize {
  backend: string;
  paramCount: number;
  stateSize: number;
}

export interface ConfigCost extends ConfigSize {
  /** From start to the first step: backend, data preparation, model. */
  setupSeconds: number;
  stepSeconds: number;
  /** The first evaluation (which also computes the baselines) and each later one, at the spec's number of sequences. */
  firstEvalSeconds: number;
  evalSeconds: number;
}

/**
 * Steps are timed for at least MIN_STEPS and STEP_BUDGET_MS; the first half is warm-up: a small model's steps
 * take several times longer until V8 has compiled the sampling and bookkeeping code (~20 steps).
 */
const MIN_STEPS = 6;
const STEP_BUDGET_MS = 1500;
/** Evaluations are timed on at most this many sequences per split and scaled up: their cost is linear in it. */
const TIMED_SEQUENCES = 32;
const NEVER = 10_000_000;

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A sink that ignores everything; measurements override what they watch. */
function quietSink(overrides: Partial<RunSink>): RunSink {
  const nothing = () => undefined;
  return {
    started: nothing,
    metrics: nothing,
    evaluation: nothing,
    progress: nothing,
    checkpoint: async () => undefined,
    summary: nothing,
    rollout: nothing,
    objective: nothing,
    ...overrides,
  };
}

/** Setup time, model size and the two evaluations (after steps 1 and 2) of a two-step run. */
async function measureEvaluations(spec: RunSpec, dataDir: string | null) {
  const sequences = Math.min(spec.evaluation.sequences, TIMED_SEQUENCES);
  const short: RunSpec = {
    ...spec,
    training: { ...spec.training, steps: 2, checkpointEvery: NEVER },
    evaluation: { ...spec.evaluation, every: 1, sequences },
  };
  const began = performance.now();
  let info: RunInfo | null = null;
  let setupMs = 0;
  let progressAt = 0;
  const evalMs: number[] = [];
  const sink = quietSink({
    started(i) {
      info = i;
      setupMs = performance.now() - began;
    },
    progress: () => {
      progressAt = performance.now();
    },
    evaluation: () => void evalMs.push(performance.now() - progressAt),
  });
  const outcome = await runExperiment(short, sink, { dataDir });
  if (outcome.status === 'diverged') throw new Error(`the measured steps diverged: ${outcome.error}`);
  if (!info || evalMs.length !== 2) throw new Error('the measured run did not evaluate twice');
  const scale = spec.evaluation.sequences / sequences;
  return {
    info: info as RunInfo,
    setupSeconds: setupMs / 1000,
    firstEvalSeconds: (evalMs[0] * scale) / 1000,
    evalSeconds: (evalMs[1] * scale) / 1000,
  };
}

/** The median time of the steps after warm-up, stepping until MIN_STEPS and STEP_BUDGET_MS are both reached. */
async function measureSteps(spec: RunSpec, dataDir: string | null): Promise<number> {
  const long: RunSpec = {
    ...spec,
    training: { ...spec.training, steps: NEVER, checkpointEvery: NEVER },
    evaluation: { ...spec.evaluation, every: NEVER, sequences: 1 },
  };
  const stepMs: number[] = [];
  let firstAt = 0;
  const stop = new AbortController();
  const sink = quietSink({
    metrics(rows) {
      for (const [key, , value] of rows) if (key === TRAINING_METRICS.stepTimeMs.key) stepMs.push(value);
    },
    progress(step) {
      if (step === 1) firstAt = performance.now();
      if (step >= MIN_STEPS && performance.now() - firstAt >= STEP_BUDGET_MS) stop.abort();
    },
  });
  const outcome = await runExperiment(long, sink, { dataDir, signal: stop.signal });
  if (outcome.status === 'diverged') throw new Error(`the measured steps diverged: ${outcome.error}`);
  return median(stepMs.slice(stepMs.length >> 1)) / 1000;
}

/** Measures a configuration: its size, setup, evaluations and steady step time. */
export async function measureConfig(spec: RunSpec, dataDir: string | null): Promise<ConfigCost> {
  const { info, ...evaluations } = await measureEvaluations(spec, dataDir);
  const stepSeconds = await measureSteps(spec, dataDir);
  return { backend: info.backend, paramCount: info.paramCount, stateSize: info.stateSize, stepSeconds, ...evaluations };
}

/** The model's size only: builds it (as a run would, from the task's token shape or the environment's spaces). */
export async function sizeConfig(spec: RunSpec, dataDir: string | null): Promise<ConfigSize> {
  if (isRlSpec(spec)) {
    const { backend, algorithm } = await setUpRl(spec);
    algorithm.dispose();
    return { backend, paramCount: algorithm.paramCount, stateSize: algorithm.stateSize };
  }
  const { backend, model, adam } = await setUpRun(spec as SequenceRunSpec, dataDir);
  adam.dispose();
  for (const p of model.params) p.variable.dispose();
  return { backend, paramCount: model.paramCount, stateSize: model.stateSize };
}
