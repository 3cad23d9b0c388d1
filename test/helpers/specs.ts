import type { ExperimentSpecInput } from '../../shared/spec';

/** A run small enough to finish in about a second on one core. */
export function tinySpec(overrides: Partial<ExperimentSpecInput> = {}): ExperimentSpecInput {
  return {
    name: 'tiny',
    seed: 3,
    backend: 'wasm',
    task: { family: 'linear-regression', dim: 4, seqLen: 8, numTasks: 4 },
    model: { kind: 'mlp', hidden: [16] },
    training: { steps: 60, batchSize: 16, learningRate: 0.01, checkpointEvery: 20 },
    evaluation: { every: 30, sequences: 32 },
    ...overrides,
  };
}
