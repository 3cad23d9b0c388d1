// Meta-training: sample a batch of sequences, predict at every position, take an Adam step; evaluate on
// held-out sequences every `evaluation.every` steps; checkpoint every `training.checkpointEvery` steps.
// Deterministic from the spec's seed on a given backend: batch k is drawn from an RNG seeded by (seed, k),
// so a run resumed from a checkpoint continues exactly as it would have.
import * as tf from '@tensorflow/tfjs';
import type { EvalCurve } from '../../shared/api.js';
import { EVAL_SPLITS, STEP_METRICS, evalMetricKey, type MetricRow } from '../../shared/metrics.js';
import type { RunSpec } from '../../shared/spec.js';
import { initBackend } from './backends.js';
import { createModel } from './models/index.js';
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
}

const EVAL_CHUNK = 256;
/** The loop yields to the event loop this often, so cancel messages and metric flushes get through. */
const YIELD_MS = 25;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

function toTensors(task: TaskSampler, b: SequenceBatch): { x: tf.Tensor3D; y: tf.Tensor3D } {
  return {
    x: tf.tensor3d(b.inputs, [b.batch, task.seqLen, task.inputDim]),
    y: tf.tensor3d(b.targets, [b.batch, task.seqLen, task.outputDim]),
  };
}

export async function runExperiment(spec: RunSpec, sink: RunSink, options: RunOptions = {}): Promise<RunOutcome> {
  const backend = await initBackend(spec.backend);
  const task = createTaskSampler(spec.task, spec.seed);
  const model = createModel(spec.model, task, new Rng(seedFrom(spec.seed, 'init')));
  const adam = new Adam(model.params, spec.training.adamEpsilon);
  const variables = [
    ...model.params.map((p) => ({ name: `param/${p.name}`, v: p.variable })),
    ...model.params.map((p, i) => ({ name: `adam.m/${p.name}`, v: adam.m[i] })),
    ...model.params.map((p, i) => ({ name: `adam.v/${p.name}`, v: adam.v[i] })),
  ];
  const evalSets = EVAL_SPLITS.map((split) => ({
    split,
    batch: task.sample(new Rng(seedFrom(spec.seed, 'eval', split)), spec.evaluation.sequences, split),
  }));

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

  const evaluate = async (atStep: number): Promise<Record<string, number>> => {
    const figures: Record<string, number> = {};
    const curves: EvalCurve[] = [];
    for (const { split, batch } of evalSets) {
      const sums = new Float64Array(task.seqLen);
      for (let start = 0; start < batch.batch; start += EVAL_CHUNK) {
        const n = Math.min(EVAL_CHUNK, batch.batch - start);
        const rowIn = task.seqLen * task.inputDim;
        const rowOut = task.seqLen * task.outputDim;
        const perPosition = tf.tidy(() => {
          const { x, y } = toTensors(task, {
            batch: n,
            inputs: batch.inputs.subarray(start * rowIn, (start + n) * rowIn),
            targets: batch.targets.subarray(start * rowOut, (start + n) * rowOut),
          });
          return tf.sum(tf.square(tf.sub(model.apply(x), y)), [0, 2]);
        });
        const values = await perPosition.data();
        perPosition.dispose();
        values.forEach((v, t) => (sums[t] += v));
      }
      const curve = Array.from(sums, (s) => s / batch.batch);
      curves.push({ step: atStep, split, metric: 'mse', values: curve });
      figures[evalMetricKey(split, 'last_mse')] = curve[curve.length - 1];
      figures[evalMetricKey(split, 'mean_mse')] = curve.reduce((a, b) => a + b, 0) / curve.length;
    }
    sink.evaluation(curves);
    sink.metrics(Object.entries(figures).map(([k, v]) => [k, atStep, v]));
    return figures;
  };

  const { training } = spec;
  let lastLoss = NaN;
  let lastEval: Record<string, number> = {};
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
      const batch = task.sample(new Rng(seedFrom(spec.seed, 'batch', step)), training.batchSize, 'train');
      const { x, y } = toTensors(task, batch);
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(model.apply(x), y))) as tf.Scalar,
        model.params.map((p) => p.variable),
      );
      const gradList = model.params.map((p) => grads[p.variable.name]);
      const loss = (await value.data())[0];
      const gradNorm = Number.isFinite(loss) ? await adam.step(gradList, lr, training.gradClip) : NaN;
      tf.dispose([x, y, value, ...gradList]);
      step += 1;
      const ms = performance.now() - started;
      const examplesPerSec = (training.batchSize * task.seqLen * 1000) / ms;
      sink.metrics([
        [STEP_METRICS.loss, step, loss],
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
      if (step % spec.evaluation.every === 0 || step === training.steps) lastEval = await evaluate(step);
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
