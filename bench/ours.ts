// Our side of the benchmark: a reference configuration set up exactly as runExperiment sets up a run (same
// backend, task sampler, model initialisation and Adam), stepped with the training loop's own trainStep.
import * as tf from '@tensorflow/tfjs';
import type { Model } from '../main/engine/models/index.js';
import { learningRateAt, type Adam } from '../main/engine/optimizer.js';
import type { SequenceBatch, TaskSampler } from '../main/engine/tasks/index.js';
import { setUpRun, trainBatch, trainStep, type StepResult } from '../main/engine/train.js';
import type { BenchConfig } from './configs.js';

export interface OurRun {
  config: BenchConfig;
  task: TaskSampler;
  model: Model;
  adam: Adam;
  /** Batch k exactly as the training loop draws it. */
  sample(k: number): Promise<SequenceBatch>;
  /** One training step at `stepIndex` (its learning rate) on `batch`. */
  step(batch: SequenceBatch, stepIndex: number): Promise<StepResult>;
  /** Current parameters, by name (read back asynchronously: webgpu cannot read synchronously under Node). */
  weights(): Promise<{ name: string; shape: number[]; values: Float32Array }[]>;
  dispose(): void;
}

export async function setUp(config: BenchConfig): Promise<OurRun> {
  const { spec } = config;
  const { task, model, adam } = await setUpRun(spec, null);
  return {
    config,
    task,
    model,
    adam,
    sample: (k) => trainBatch(spec, task, k),
    step: (batch, stepIndex) =>
      trainStep(model, task, adam, batch, learningRateAt(stepIndex, spec.training), spec.training.gradClip),
    weights: () =>
      Promise.all(
        model.params.map(async (p) => ({
          name: p.name,
          shape: p.variable.shape,
          values: (await p.variable.data()) as Float32Array,
        })),
      ),
    dispose: () => {
      adam.dispose();
      for (const p of model.params) p.variable.dispose();
    },
  };
}

/** Per-kernel wall time of one step, summed by kernel name, from tf.profile. */
export async function profileStep(
  run: OurRun,
  batch: SequenceBatch,
  stepIndex: number,
): Promise<{ totalMs: number; kernels: { name: string; ms: number; calls: number }[] }> {
  const started = performance.now();
  const info = await tf.profile(async () => {
    await run.step(batch, stepIndex);
  });
  const totalMs = performance.now() - started;
  const byName = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = byName.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    e.calls += 1;
    byName.set(k.name, e);
  }
  const kernels = [...byName.entries()].map(([name, e]) => ({ name, ...e })).sort((a, b) => b.ms - a.ms);
  return { totalMs, kernels };
}
