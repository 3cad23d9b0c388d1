// Meta-training: sample a batch of sequences, predict at every position, take an Adam step; evaluate on
// held-out sequences every `evaluation.every` steps; checkpoint every `training.checkpointEvery` steps.
// Deterministic from the spec's seed on a given backend: batch k is drawn from an RNG seeded by (seed, k),
// so a run resumed from a checkpoint continues exactly as it would have.
import * as tf from '@tensorflow/tfjs';
import type { EvalCurve } from '../../shared/api.js';
import { TRAINING_METRICS, type MetricRow } from '../../shared/metrics.js';
import { phaseCode, type RunSummary } from '../../shared/results.js';
import type { Rollout } from '../../shared/rollout.js';
import type { LearnedObjectiveSpec, RunSpec, SequenceTaskSpec } from '../../shared/spec.js';
import { initBackend } from './backends.js';
import { evalSets, evaluate } from './evaluate.js';
import { createModel, type Model } from './models/index.js';
import { objectiveFor } from './objectives/index.js';
import { Adam, learningRateAt } from './optimizer.js';
import { Rng, seedFrom } from './rng.js';
import { SYMLA_IS_RL } from './rl/networks.js';
import type { CandidateEvaluator } from './rl/blackBox.js';
import { runRl } from './rl/run.js';
import { isRlSpec } from './rl/types.js';
import { summarize, type RunRecord } from './summarize.js';
import { CancelCheck } from './yielding.js';
import { createTaskSampler, type SequenceBatch, type TaskSampler } from './tasks/index.js';

/** Everything needed to continue a run: the step reached and every variable (weights and Adam moments). */
export interface TrainState {
  step: number;
  adamT: number;
  tensors: { name: string; shape: number[]; values: Float32Array }[];
  /**
   * The loss of every step so far (step 1 first), for the post-run summary. Not in checkpoint files: the
   * store has every recorded loss, and a resumed run is given them with its checkpoint.
   */
  losses: number[];
  /** What else a run needs to continue exactly (RL: environment and RNG states), as JSON. */
  extra?: unknown;
}

/** A run of a sequence task (supervised in-context learning); RL runs go to ./rl/run.ts. */
export type SequenceRunSpec = RunSpec & { task: SequenceTaskSpec };

export interface RunInfo {
  backend: string;
  paramCount: number;
  stateSize: number;
}

/** Where a run's results go; the worker forwards them to the store, a test collects them. */
export interface RunSink {
  started(info: RunInfo): void;
  metrics(rows: MetricRow[]): void;
  evaluation(curves: EvalCurve[]): void;
  progress(step: number, examplesPerSec: number): void;
  checkpoint(state: TrainState): Promise<void>;
  summary(summary: RunSummary): void;
  /** A recorded lifetime of an RL policy (at an evaluation). */
  rollout(rollout: Omit<Rollout, 'runId'>): void;
  /** MetaGenRL: the objective as meta-trained so far (at each evaluation and at the end); the lab keeps the latest. */
  objective(objective: LearnedObjectiveWeights & { progress: ObjectiveProgress }): void;
}

/** A learned objective's architecture and weights: what a `metagenrl` run makes and a `learned-objective` run uses. */
export interface LearnedObjectiveWeights {
  architecture: LearnedObjectiveSpec;
  tensors: { name: string; shape: number[]; values: Float32Array }[];
}

/** How far the meta-training that made an objective had got. */
export interface ObjectiveProgress {
  metaSteps: number;
  agentSteps: number;
  finished: boolean;
}

export type RunOutcome = { status: 'finished' | 'cancelled' } | { status: 'diverged'; error: string };

export interface RunOptions {
  signal?: AbortSignal;
  resume?: TrainState;
  /** Folder of imported datasets. */
  dataDir?: string | null;
  /** A `learned-objective` run's stored objective (the lab resolves the spec's sha256 to it); absent for 'random'. */
  objective?: LearnedObjectiveWeights;
  /** ES: evaluates a generation's members on several threads (the worker makes it for es.threads > 1). */
  candidates?: CandidateEvaluator;
}

/** What one meta-training step reports. */
export interface StepResult {
  loss: number;
  /** The values of the step metrics the objective declares (e.g. accuracy), in its order. */
  stepMetrics: number[];
  /** Global gradient norm before clipping (NaN when the loss was not finite and no update was made). */
  gradNorm: number;
}

/**
 * One meta-training step on a sampled batch: forward, backward, clip and Adam. The unit the benchmark times
 * (bench/) and the loop below repeats.
 */
export async function trainStep(
  model: Model,
  task: TaskSampler,
  adam: Adam,
  batch: SequenceBatch,
  lr: number,
  gradClip: number | null,
): Promise<StepResult> {
  const objective = objectiveFor(task);
  let extra: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(
    () => {
      const x = tf.tensor3d(batch.inputs, [batch.batch, task.seqLen, task.inputDim]);
      const o = objective.loss(model.apply(x), batch, task);
      extra = o.stepMetrics.map((m) => tf.keep(m));
      return o.loss;
    },
    model.params.map((p) => p.variable),
  );
  const gradList = model.params.map((p) => grads[p.variable.name]);
  const read = tf.tidy(() => tf.stack([value, ...extra]));
  const [loss, ...stepMetrics] = await read.data();
  const gradNorm = Number.isFinite(loss) ? await adam.step(gradList, lr, gradClip) : NaN;
  tf.dispose([read, value, ...gradList, ...extra]);
  return { loss, stepMetrics, gradNorm };
}

/** What a run trains: its backend started, its task sampler, its model initialised from the seed, and Adam. */
export async function setUpRun(
  spec: SequenceRunSpec,
  dataDir: string | null,
): Promise<{ backend: string; task: TaskSampler; model: Model; adam: Adam }> {
  const { model: modelSpec } = spec;
  if (modelSpec.kind === 'symla') throw new Error(`model.kind: ${SYMLA_IS_RL}`);
  const backend = await initBackend(spec.backend);
  const task = await createTaskSampler(spec.task, spec.seed, { dataDir, seed: spec.seed });
  const model = createModel(modelSpec, task, new Rng(seedFrom(spec.seed, 'init')));
  return { backend, task, model, adam: new Adam(model.params, spec.training.adamEpsilon) };
}

/** Training batch `step` of a run, drawn from its own seed: a resumed run draws what it would have. */
export function trainBatch(spec: SequenceRunSpec, task: TaskSampler, step: number): Promise<SequenceBatch> {
  return task.sample(new Rng(seedFrom(spec.seed, 'batch', step)), spec.training.batchSize, 'train');
}

export async function runExperiment(spec: RunSpec, sink: RunSink, options: RunOptions = {}): Promise<RunOutcome> {
  if (isRlSpec(spec)) return runRl(spec, sink, options);
  return runSequences(spec as SequenceRunSpec, sink, options);
}

async function runSequences(spec: SequenceRunSpec, sink: RunSink, options: RunOptions): Promise<RunOutcome> {
  const { backend, task, model, adam } = await setUpRun(spec, options.dataDir ?? null);
  const stepMetricKeys = objectiveFor(task).info.stepMetrics.map((m) => m.key);
  const losses: number[] = options.resume ? options.resume.losses.slice(0, options.resume.step) : [];
  const variables = [
    ...model.params.map((p) => ({ name: `param/${p.name}`, v: p.variable })),
    ...model.params.map((p, i) => ({ name: `adam.m/${p.name}`, v: adam.m[i] })),
    ...model.params.map((p, i) => ({ name: `adam.v/${p.name}`, v: adam.v[i] })),
  ];
  const sets = await evalSets(task, spec);

  const snapshot = async (step: number): Promise<TrainState> => ({
    step,
    adamT: adam.t,
    losses: losses.slice(),
    tensors: await Promise.all(
      variables.map(async ({ name, v }) => ({ name, shape: v.shape, values: (await v.data()) as Float32Array })),
    ),
  });

  let step = 0;
  if (options.resume) {
    const byName = new Map(options.resume.tensors.map((t) => [t.name, t]));
    for (const { name, v } of variables) {
      const saved = byName.get(name);
      if (!saved || saved.values.length !== v.size)
        throw new Error(`checkpoint does not match the model: ${name} is missing or has another shape`);
      tf.tidy(() => v.assign(tf.tensor(saved.values, v.shape)));
    }
    adam.t = options.resume.adamT;
    step = options.resume.step;
  }
  sink.started({ backend, paramCount: model.paramCount, stateSize: model.stateSize });

  const evaluateAt = async (atStep: number) => {
    const { curves, figures, phase, confidence } = await evaluate(model, task, sets, spec, atStep);
    sink.evaluation(curves);
    sink.metrics(
      [
        ...Object.entries(figures),
        [TRAINING_METRICS.phase.key, phaseCode(phase)],
        [TRAINING_METRICS.phaseConfidence.key, confidence],
      ].map(([k, v]) => [k, atStep, v] as MetricRow),
    );
    return { figures, phase, confidence };
  };

  const { training } = spec;
  let lastEvaluation: RunRecord['lastEvaluation'] = null;
  const cancel = new CancelCheck(options.signal, async (at) => sink.checkpoint(await snapshot(at)));
  try {
    while (step < training.steps) {
      if (await cancel.cancelled(step)) return { status: 'cancelled' };
      const started = performance.now();
      const lr = learningRateAt(step, training);
      const batch = await trainBatch(spec, task, step);
      const { loss, stepMetrics, gradNorm } = await trainStep(model, task, adam, batch, lr, training.gradClip);
      step += 1;
      const ms = performance.now() - started;
      const examplesPerSec = (training.batchSize * task.seqLen * 1000) / ms;
      const m = TRAINING_METRICS;
      sink.metrics([
        [m.loss.key, step, loss],
        ...stepMetrics.map((v, i): MetricRow => [stepMetricKeys[i], step, v]),
        [m.learningRate.key, step, lr],
        [m.gradNorm.key, step, gradNorm],
        [m.stepTimeMs.key, step, ms],
        [m.examplesPerSec.key, step, examplesPerSec],
      ]);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        return { status: 'diverged', error: `loss or gradient became ${loss} / ${gradNorm} at step ${step}` };
      }
      losses.push(loss);
      sink.progress(step, examplesPerSec);
      if (step % spec.evaluation.every === 0 || step === training.steps) lastEvaluation = await evaluateAt(step);
      if (step % training.checkpointEvery === 0 && step < training.steps) await sink.checkpoint(await snapshot(step));
    }
    sink.summary(
      summarize({
        steps: step,
        backend,
        paramCount: model.paramCount,
        stateSize: model.stateSize,
        losses,
        lastEvaluation,
      }),
    );
    return { status: 'finished' };
  } finally {
    adam.dispose();
    for (const p of model.params) p.variable.dispose();
  }
}
