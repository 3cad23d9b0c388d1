// WebGPU against wasm: from the same weights on the same batch, the lab's models give the same loss and gradients
// on a WebGPU adapter (tfjs-backend-webgpu, composite ops) as on wasm (the fused kernels), and a short run through
// the engine records the same losses and evaluation curves. Without a GPU they run on a software adapter: they set
// METALAB_WEBGPU_ALLOW_SOFTWARE=1 unless it is set, and the backend then takes Mesa's llvmpipe through Dawn's OpenGL
// ES backend (Debian: libegl-dev libegl-mesa0 libgl1-mesa-dri; .ci/run installs them). METALAB_WEBGPU_ALLOW_SOFTWARE=0
// makes them need a hardware adapter and fail without one (scripts/gpu-check). No adapter: skipped, saying why.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { type ExperimentSpecInput, runSpec } from '../../shared/spec';
import { initBackend, startedWebGpuAdapter, type WebGpuAdapter } from '../../main/engine/backends';
import { objectiveFor } from '../../main/engine/objectives/index';
import { learningRateAt } from '../../main/engine/optimizer';
import { runExperiment, type SequenceRunSpec, setUpRun, trainBatch, trainStep } from '../../main/engine/train';
import { collectingSink } from '../helpers/collect';

const hardwareOnly = process.env.METALAB_WEBGPU_ALLOW_SOFTWARE === '0';
process.env.METALAB_WEBGPU_ALLOW_SOFTWARE ??= '1';

/** The WebGPU adapter, or null after one line saying why the tests are skipped. */
async function webGpuAdapter(): Promise<WebGpuAdapter | null> {
  try {
    await initBackend('webgpu');
  } catch (err) {
    if (hardwareOnly) throw err;
    console.log(`skipped: WebGPU against wasm: ${(err as Error).message}`);
    return null;
  }
  return startedWebGpuAdapter();
}
const adapter = await webGpuAdapter();
const label = adapter && `${adapter.label}${adapter.software ? ' (software)' : ''}`;
if (label) console.log(`webgpu adapter: ${label}`);

// fp32 on both sides, summed in other orders (GPU reductions, XNNPACK, the fused kernels).
const LOSS_RTOL = 1e-4;
/** Gradients (each parameter's at its scale), gradient norms, evaluation curves. */
const GRAD_RTOL = 1e-3;

const gpicl = (model: ExperimentSpecInput['model']): ExperimentSpecInput => ({
  seed: 5,
  task: { family: 'gpicl-classification', dataset: 'mnist', classes: 5, inputDim: 16, seqLen: 12, numTasks: 64 },
  model,
  training: { steps: 4, batchSize: 16, learningRate: 3e-3, checkpointEvery: 1000 },
  evaluation: { every: 4, sequences: 16 },
});

const cases: [string, ExperimentSpecInput][] = [
  ['transformer', gpicl({ kind: 'transformer', dModel: 32, layers: 2, heads: 4 })],
  ['lstm (batch-major on wasm)', gpicl({ kind: 'lstm', hidden: 32, layers: 2 })],
  ['lstm, hidden 260 (feature-major on wasm)', gpicl({ kind: 'lstm', hidden: 260 })],
  ['mlp', gpicl({ kind: 'mlp', hidden: [64, 32] })],
  ['vsml', gpicl({ kind: 'vsml', stateSize: 8, messageSize: 4, ticks: 2 })],
  [
    'transformer on regression',
    {
      ...gpicl({ kind: 'transformer', dModel: 32, layers: 2, heads: 2 }),
      task: { family: 'linear-regression', dim: 4, seqLen: 12, numTasks: 16 },
    },
  ],
];

const on = (input: ExperimentSpecInput, backend: string) => runSpec.parse({ ...input, backend }) as SequenceRunSpec;

interface Side {
  names: string[];
  weights: Float32Array[];
  loss: number;
  grads: Float32Array[];
  /**
   * Losses and gradient norms of training steps 0..2 (Adam, clipping: the training loop's own step). Not the weights
   * after them: Adam moves an entry by ~lr whatever its gradient's size, so float noise in a gradient that is 0
   * (VSML's fwd.b) moves it by ~lr in either direction; the losses show whether the updates agree.
   */
  steps: { loss: number; gradNorm: number }[];
}

/** Loss and gradients of training batch 0 at the initial weights, then three training steps, on spec's backend. */
async function side(spec: SequenceRunSpec): Promise<Side> {
  const { task, model, adam } = await setUpRun(spec, null);
  const weights = await Promise.all(model.params.map(async (p) => (await p.variable.data()) as Float32Array));
  const batch = await trainBatch(spec, task, 0);
  const { value, grads } = tf.variableGrads(
    () => {
      const x = tf.tensor3d(batch.inputs, [batch.batch, task.seqLen, task.inputDim]);
      return objectiveFor(task).loss(model.apply(x), batch, task).loss;
    },
    model.params.map((p) => p.variable),
  );
  const loss = (await value.data())[0];
  const gradValues = await Promise.all(
    model.params.map(async (p) => (await grads[p.variable.name].data()) as Float32Array),
  );
  tf.dispose([value, ...Object.values(grads)]);
  const steps = [];
  for (let k = 0; k < 3; k++) {
    const lr = learningRateAt(k, spec.training);
    steps.push(await trainStep(model, task, adam, await trainBatch(spec, task, k), lr, spec.training.gradClip));
  }
  adam.dispose();
  for (const p of model.params) p.variable.dispose();
  return { names: model.params.map((p) => p.name), weights, loss, grads: gradValues, steps };
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
/** max |a - b| / max |b|: how far a is from b at the scale of b (or of `floor`, where that is larger). */
function relDiff(a: Float32Array, b: Float32Array, floor = 1e-12): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d / Math.max(maxAbs(b), floor);
}
const lossDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-6);

describe.skipIf(!adapter)(`webgpu (${label}) against wasm`, () => {
  it.runIf(adapter?.software)('takes a software adapter only when forced to, with the opt-in', async () => {
    expect(await initBackend('auto')).toBe('wasm');
    process.env.METALAB_WEBGPU_ALLOW_SOFTWARE = '0';
    try {
      await expect(initBackend('webgpu')).rejects.toThrow(
        /webgpu found only a software adapter \(.+\), which is slower than wasm/,
      );
    } finally {
      process.env.METALAB_WEBGPU_ALLOW_SOFTWARE = '1';
    }
  });

  it.each(cases)(
    '%s: same loss and gradients from the same weights, then the same training steps',
    async (_, input) => {
      const wasm = await side(on(input, 'wasm'));
      const gpu = await side(on(input, 'webgpu'));
      expect(gpu.weights).toEqual(wasm.weights);
      expect(lossDiff(gpu.loss, wasm.loss), `loss ${gpu.loss} vs ${wasm.loss}`).toBeLessThan(LOSS_RTOL);
      // At the scale of the parameter's gradient, or a tenth of the model's largest where it is smaller (VSML's
      // fwd.b, exactly 0 in theory: 4e-9 on wasm and -3e-8 on webgpu, float noise, against 3e-3).
      const floor = 0.1 * Math.max(...wasm.grads.map(maxAbs));
      for (const [i, g] of wasm.grads.entries()) {
        expect(relDiff(gpu.grads[i], g, floor), `gradient of ${gpu.names[i]}`).toBeLessThan(GRAD_RTOL);
      }
      for (const [k, s] of wasm.steps.entries()) {
        expect(lossDiff(gpu.steps[k].loss, s.loss), `loss at step ${k}`).toBeLessThan(LOSS_RTOL);
        expect(lossDiff(gpu.steps[k].gradNorm, s.gradNorm), `gradient norm at step ${k}`).toBeLessThan(GRAD_RTOL);
      }
    },
  );

  it('records the same run through the engine: losses, evaluation curves, summary', async () => {
    const record = async (backend: string) => {
      const { out, sink } = collectingSink();
      expect(await runExperiment(on(cases[0][1], backend), sink)).toEqual({ status: 'finished' });
      expect(out.info?.backend).toBe(backend);
      return out;
    };
    const wasm = await record('wasm');
    const gpu = await record('webgpu');
    const losses = (out: typeof wasm) => Float32Array.from(out.series('loss').map(([, v]) => v));
    expect(losses(gpu)).toHaveLength(4);
    expect(relDiff(losses(gpu), losses(wasm))).toBeLessThan(LOSS_RTOL);
    expect(gpu.curves.map((c) => `${c.step}/${c.split}/${c.metric}`)).toEqual(
      wasm.curves.map((c) => `${c.step}/${c.split}/${c.metric}`),
    );
    for (const [i, c] of gpu.curves.entries()) {
      const want = Float32Array.from(wasm.curves[i].values);
      expect(relDiff(Float32Array.from(c.values), want), `${c.split}/${c.metric}`).toBeLessThan(GRAD_RTOL);
    }
    expect(gpu.summary?.phase).toBe(wasm.summary?.phase);
  });
});
