import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { PHASE_LABELS } from '../../shared/results';
import { runSpec } from '../../shared/spec';
import { runExperiment } from '../../main/engine/train';
import { collectingSink } from '../helpers/collect';
import { tinySpec } from '../helpers/specs';

const spec = (over: Parameters<typeof tinySpec>[0] = {}) => runSpec.parse(tinySpec(over));

describe('meta-training loop', () => {
  it('trains, evaluates and summarises a run', async () => {
    const { out, sink } = collectingSink();
    const outcome = await runExperiment(spec(), sink);
    expect(outcome).toEqual({ status: 'finished' });
    expect(out.info).toMatchObject({ backend: 'wasm', stateSize: 0 });
    const loss = out.series('loss');
    expect(loss.map(([s]) => s)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    const mean = (xs: [number, number][]) => xs.reduce((a, [, v]) => a + v, 0) / xs.length;
    expect(mean(loss.slice(-10))).toBeLessThan(mean(loss.slice(0, 10)));
    const model = out.curves.filter((c) => c.metric === 'mse');
    expect(model.map((c) => `${c.step}/${c.split}`)).toEqual(['30/seen', '30/unseen', '60/seen', '60/unseen']);
    expect(model[0].values).toHaveLength(8);
    // Baselines do not change with training: stored once, at step 0, per split.
    const baselines = out.curves.filter((c) => c.metric !== 'mse');
    expect(baselines.map((c) => `${c.step}/${c.split}/${c.metric}`).sort()).toEqual([
      '0/seen/dmmse_mse',
      '0/seen/ridge_mse',
      '0/unseen/dmmse_mse',
      '0/unseen/ridge_mse',
    ]);
    expect(out.summary).toMatchObject({ steps: 60, backend: 'wasm', figures: { param_count: 5 * 16 + 16 + 16 + 1 } });
    expect(out.summary!.figures.final_loss).toBe(loss.at(-1)![1]);
    expect(out.checkpoints.map((c) => c.step)).toEqual([20, 40]);
  });

  it('continues from a checkpoint exactly as the uninterrupted run', async () => {
    const full = collectingSink();
    await runExperiment(spec(), full.sink);
    const resumed = collectingSink();
    await runExperiment(spec(), resumed.sink, { resume: full.out.checkpoints[0] });
    expect(resumed.out.series('loss')).toEqual(full.out.series('loss').slice(20));
    expect(resumed.out.curves).toEqual(full.out.curves);
    expect(resumed.out.summary).toEqual(full.out.summary);
  });

  it('labels every evaluation with its phase and confidence; fresh tasks have no seen split', async () => {
    const { out, sink } = collectingSink();
    await runExperiment(spec({ task: { family: 'linear-regression', dim: 4, seqLen: 8, numTasks: 'fresh' } }), sink);
    expect([...new Set(out.curves.map((c) => c.split))]).toEqual(['unseen']);
    expect(out.rows.filter(([key]) => key.startsWith('eval/seen/'))).toEqual([]);
    const confidence = out.series('phase_confidence');
    expect(confidence.map(([step]) => step)).toEqual([30, 60]);
    for (const [, c] of confidence) expect(c).toBeGreaterThanOrEqual(0);
    expect(out.summary).toMatchObject({ phaseConfidence: confidence.at(-1)![1] });
    expect(out.summary!.phase).toBe(PHASE_LABELS[out.series('phase').at(-1)![1]]);
  });

  it('stops between steps when aborted, leaving a checkpoint at the step reached', async () => {
    const abort = new AbortController();
    const { out, sink } = collectingSink((step) => step === 13 && abort.abort());
    expect(await runExperiment(spec(), sink, { signal: abort.signal })).toEqual({ status: 'cancelled' });
    expect(out.checkpoints.map((c) => c.step)).toEqual([13]);
  });

  it('leaks no tensors across steps', async () => {
    const counts: number[] = [];
    const before = tf.memory().numTensors;
    const { sink } = collectingSink(() => counts.push(tf.memory().numTensors));
    await runExperiment(
      spec({ training: { steps: 50, batchSize: 8, checkpointEvery: 10 }, evaluation: { every: 10, sequences: 8 } }),
      sink,
    );
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports divergence with the step at which it happened', async () => {
    const { sink } = collectingSink();
    // Seven wide layers and a huge step: activations overflow float32 within a few steps.
    const outcome = await runExperiment(
      spec({
        model: { kind: 'mlp', hidden: Array(7).fill(256) },
        training: { steps: 50, learningRate: 10, gradClip: null, batchSize: 8 },
      }),
      sink,
    );
    expect(outcome.status).toBe('diverged');
    if (outcome.status === 'diverged') expect(outcome.error).toMatch(/at step \d+/);
  });
});
