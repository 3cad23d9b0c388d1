// Meta-training: sample a batch of sequences, predict at every position, take an Adam step; evaluate on
// held-out sequences every `evaluation.every` steps; checkpoint every `training.checkpointEvery` steps.
// Deterministic from the spec's seed on a given backend: batch k is drawn from an RNG seeded by (seed, k),
// so a run resumed from a checkpoint continues exactly as it would have.
import * as tf from '@tensorflow/tfjs';
import type { EvalCurve } from '../../shared/api.js';
import { STEP_METRICS, type MetricRow } from '../../shared/metrics.js';
import type { RunSpec } from '../../shared/spec.js';
import { initBackend } from './backends.js';
import { evalSets, evaluate } from './evaluate.js';
import { createModel, type Model } from './models/index.js';
import { softmaxCrossEntropy } from './models/ops.js';
import { Adam, learningRateAt } from './optimizer.js';
import { Rng, seedFrom } from './rng.js';
import { createTaskSampler, type SequenceBatch, type TaskSampler } from './tasks/index.js';

/** Everything needed to continue a run: the step reached and every variable (weights and Adam moments). */
export interface TrainState {
  step: number;
  adamT: number;
  tensors: { name: string; shape: number[]; values: Float32Array }[];
}

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
  summary(figures: Record<string, number | string>): void;
}

export type RunOutcome = { status: 'finished' | 'cancelled' } | { status: 'diverged'; error: string };

export interface RunOptions {
  signal?: AbortSignal;
  resume?: TrainState;
  /** Folder of imported datasets. */
  dataDir?: string | null;
}

/** The loop yields to the event loop this often, so cancel messages and metric flushes get through. */
const YIELD_MS = 25;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/** The training objective on one batch: mean loss over every position, and accuracy for classification. */
function objective(model: Model, task: TaskSampler, b: SequenceBatch): { loss: tf.Scalar; accuracy: tf.Scalar | null } {
  const x = tf.tensor3d(b.inputs, [b.batch, task.seqLen, task.inputDim]);
  const out = model.apply(x);
  if (task.objective === 'regression') {
    return { loss: tf.mean(tf.square(tf.sub(out.reshape([b.batch, task.seqLen]), tf.tensor2d(b.targets, [b.batch, task.seqLen])))) as tf.Scalar, accuracy: null };
  }
  const labels = tf.tensor1d(b.targets, 'int32');
  const { loss, accuracy } = softmaxCrossEntropy(out.reshape([b.batch * task.seqLen, task.outputDim]), labels);
  return { loss, accuracy };
}

/** What one meta-training step reports. */
export interface StepResult {
  loss: number;
  /** Classification only. */
  accuracy?: number;
  /** Global gradient norm before clipping (NaN when the loss was not finite and no update was made). */
  gradNorm: number;
}

/**
 * One meta-training step on a sampled batch: forward, backward, clip and Adam. The unit the benchmark times
 * (bench/) and the loop below repeats.
 */
export async function trainStep(model: Model, task: TaskSampler, adam: Adam, batch: SequenceBatch, lr: number, gradClip: number | null): Promise<StepResult> {
  let accuracy: tf.Scalar | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const o = objective(model, task, batch);
    accuracy = o.accuracy && tf.keep(o.accuracy);
    return o.loss;
  }, model.params.map((p) => p.variable));
  const gradList = model.params.map((p) => grads[p.variable.name]);
  const read = tf.tidy(() => tf.stack(accuracy ? [value, accuracy] : [value]));
  const [loss, acc] = await read.data();
  const gradNorm = Number.isFinite(loss) ? await adam.step(gradList, lr, gradClip) : NaN;
  tf.dispose([read, value, ...gradList, ...(accuracy ? [accuracy] : [])]);
  return acc === undefined ? { loss, gradNorm } : { loss, accuracy: acc, gradNorm };
}

/** What a run trains: its backend started, its task sampler, its model initialised from the seed, and Adam. */
export async function setUpRun(spec: RunSpec, dataDir: string | null): Promise<{ backend: string; task: TaskSampler; model: Model; adam: Adam }> {
  const backend = await initBackend(spec.backend);
  const task = await createTaskSampler(spec.task, spec.seed, { dataDir, seed: spec.seed });
  const model = createModel(spec.model, task, new Rng(seedFrom(spec.seed, 'init')));
  return { backend, task, model, adam: new Adam(model.params, spec.training.adamEpsilon) };
}

/** Training batch `step` of a run, drawn from its own seed: a resumed run draws what it would have. */
export function trainBatch(spec: RunSpec, task: TaskSampler, step: number): SequenceBatch {
  return task.sample(new Rng(seedFrom(spec.seed, 'batch', step)), spec.training.batchSize, 'train');
}

export async function runExperiment(spec: RunSpec, sink: RunSink, options: RunOptions = {}): Promise<RunOutcome> {
  const { backend, task, model, adam } = await setUpRun(spec, options.dataDir ?? null);
  const variables = [
    ...model.params.map((p) => ({ name: `param/${p.name}`, v: p.variable })),
    ...model.params.map((p, i) => ({ name: `adam.m/${p.name}`, v: adam.m[i] })),
    ...model.params.map((p, i) => ({ name: `adam.v/${p.name}`, v: adam.v[i] })),
  ];
  const sets = evalSets(task, spec);

  const snapshot = async (step: number): Promise<TrainState> => ({
    step,
    adamT: adam.t,
    tensors: await Promise.all(variables.map(async ({ name, v }) => ({ name, shape: v.shape, values: (await v.data()) as Float32Array }))),
  });

  let step = 0;
  if (options.resume) {
    const byName = new Map(options.resume.tensors.map((t) => [t.name, t]));
    for (const { name, v } of variables) {
      const saved = byName.get(name);
      if (!saved || saved.values.length !== v.size) throw new Error(`checkpoint does not match the model: ${name} is missing or has another shape`);
      tf.tidy(() => v.assign(tf.tensor(saved.values, v.shape)));
    }
    adam.t = options.resume.adamT;
    step = options.resume.step;
  }
  sink.started({ backend, paramCount: model.paramCount, stateSize: model.stateSize });

  const evaluateAt = async (atStep: number) => {
    const { curves, figures, phase } = await evaluate(model, task, sets, spec, atStep);
    sink.evaluation(curves);
    sink.metrics(Object.entries(figures).map(([k, v]) => [k, atStep, v]));
    return { ...figures, phase };
  };

  const { training } = spec;
  let lastLoss = NaN;
  let lastEval: Record<string, number | string> = {};
  let lastYield = performance.now();
  try {
    while (step < training.steps) {
      if (performance.now() - lastYield > YIELD_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (options.signal?.aborted) {
        await sink.checkpoint(await snapshot(step));
        return { status: 'cancelled' };
      }
      const started = performance.now();
      const lr = learningRateAt(step, training);
      const batch = trainBatch(spec, task, step);
      const { loss, accuracy: acc, gradNorm } = await trainStep(model, task, adam, batch, lr, training.gradClip);
      step += 1;
      const ms = performance.now() - started;
      const examplesPerSec = (training.batchSize * task.seqLen * 1000) / ms;
      sink.metrics([
        [STEP_METRICS.loss, step, loss],
        ...(acc !== undefined ? [[STEP_METRICS.accuracy, step, acc] as MetricRow] : []),
        [STEP_METRICS.learningRate, step, lr],
        [STEP_METRICS.gradNorm, step, gradNorm],
        [STEP_METRICS.stepTimeMs, step, ms],
        [STEP_METRICS.examplesPerSec, step, examplesPerSec],
      ]);
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        return { status: 'diverged', error: `loss or gradient became ${loss} / ${gradNorm} at step ${step}` };
      }
      lastLoss = loss;
      sink.progress(step, examplesPerSec);
      if (step % spec.evaluation.every === 0 || step === training.steps) lastEval = await evaluateAt(step);
      if (step % training.checkpointEvery === 0 && step < training.steps) await sink.checkpoint(await snapshot(step));
    }
    sink.summary({
      steps: step,
      final_loss: lastLoss,
      param_count: model.paramCount,
      state_size: model.stateSize,
      backend,
      ...lastEval,
    });
    return { status: 'finished' };
  } finally {
    adam.dispose();
    model.params.forEach((p) => p.variable.dispose());
  }
}
