// Short real meta-training runs that must learn in context: sized to finish in a few seconds on one core.
import { describe, expect, it } from 'vitest';
import { runSpec, type ExperimentSpecInput } from '../../shared/spec';
import { runExperiment } from '../../main/engine/train';
import { collectingSink } from '../helpers/collect';

async function train(spec: ExperimentSpecInput) {
  const { out, sink } = collectingSink();
  expect(await runExperiment(runSpec.parse(spec), sink)).toEqual({ status: 'finished' });
  const finalCurve = (split: string, metric: string) =>
    out.curves.find((c) => c.step === out.summary!.steps && c.split === split && c.metric === metric)!
      .values as number[];
  return { summary: out.summary!, finalCurve };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const common = { seed: 1, backend: 'wasm', model: { kind: 'lstm', hidden: 64 } } as const;

describe('meta-training learns in context', () => {
  it('on fresh regression tasks: last-position MSE on new tasks falls well below the zero predictor', async () => {
    const dim = 2;
    const noiseVariance = 0.1;
    const { summary, finalCurve } = await train({
      ...common,
      name: 'learn-regression',
      task: { family: 'linear-regression', dim, seqLen: 10, noiseVariance, numTasks: 'fresh' },
      training: { steps: 600, batchSize: 32, learningRate: 0.003, warmupSteps: 40, checkpointEvery: 600 },
      evaluation: { every: 600, sequences: 256 },
    });
    // Predicting 0 costs E[y^2] = E[(w.x)^2] + noise = dim + noise variance, at every position.
    const zero = dim + noiseVariance;
    const unseen = finalCurve('unseen', 'mse');
    expect(unseen[0]).toBeGreaterThan(0.7 * zero); // nothing to go on before the first example
    expect(summary.figures['eval/unseen/last_mse']).toBeLessThan(0.35 * zero);
    expect(summary.figures['eval/unseen/last_mse']).toBe(unseen.at(-1));
  });

  it('on fresh classification tasks: beats chance on unseen tasks at late positions', async () => {
    const { summary, finalCurve } = await train({
      ...common,
      name: 'learn-classification',
      task: {
        family: 'gpicl-classification',
        dataset: 'mnist',
        classes: 2,
        inputDim: 8,
        seqLen: 12,
        numTasks: 'fresh',
      },
      training: { steps: 400, batchSize: 32, learningRate: 0.003, warmupSteps: 40, checkpointEvery: 400 },
      evaluation: { every: 400, sequences: 256 },
    });
    const unseen = finalCurve('unseen', 'acc');
    expect(mean(unseen.slice(0, 1))).toBeLessThan(0.62); // the first label is a guess: chance is 0.5
    expect(mean(unseen.slice(-4))).toBeGreaterThan(0.68);
    expect(summary.figures['eval/unseen/improvement']).toBeGreaterThan(0.1);
  });
});
