// What the lab checks before storing a spec, beyond the schema: the engine's datasets and objectives.
import { describe, expect, it } from 'vitest';
import { listDatasets } from '../../main/engine/data/index';
import { engineIssues } from '../../main/engine/validate';
import { expandExperiment, formatPath, type ExperimentSpecInput } from '../../shared/spec';
import { tinySpec } from '../helpers/specs';

function issues(spec: ExperimentSpecInput): string[] {
  const expanded = expandExperiment(spec);
  if (!expanded.ok) throw new Error(`the schema refused the spec: ${JSON.stringify(expanded.issues)}`);
  return engineIssues(expanded.runs, listDatasets(null)).map((i) => `${formatPath(i.path)}: ${i.message}`);
}

const gpicl = (task: Record<string, unknown>) =>
  tinySpec({ task: { family: 'gpicl-classification', dataset: 'mnist', classes: 3, inputDim: 8, seqLen: 6, ...task } });

describe('engine checks of a spec', () => {
  it('accepts specs the engine can run', () => {
    expect(issues(tinySpec())).toEqual([]);
    expect(issues(gpicl({ evalDatasets: ['random'] }))).toEqual([]);
  });

  it('names a dataset the lab does not have, in the task or among the evaluation datasets', () => {
    expect(issues(gpicl({ dataset: 'no-such-dataset' }))).toEqual([
      expect.stringMatching(/^task\.dataset: unknown dataset 'no-such-dataset'; this lab has mnist, random/),
    ]);
    expect(issues(gpicl({ evalDatasets: ['random', 'kmnist'] }))).toEqual([
      expect.stringMatching(/^task\.evalDatasets\[1\]: unknown dataset 'kmnist'/),
    ]);
  });

  it('names the task field a dataset cannot be prepared for', () => {
    expect(issues(gpicl({ inputDim: 800 }))).toEqual([
      "task.inputDim: preprocess 'pca' cannot make 800 dimensions from the 28x28 = 784 pixels of 'mnist'",
    ]);
    expect(issues(gpicl({ preprocess: 'resize', inputDim: 10 }))).toEqual([
      expect.stringMatching(/^task\.inputDim: preprocess 'resize' makes s x s images/),
    ]);
  });

  it('refuses a learner baseline where the objective has none (regression compares with ridge and dMMSE)', () => {
    const learner = { optimizer: 'adam' as const, learningRate: 0.01, stepsPerExample: 1, hidden: 0 };
    expect(issues(tinySpec({ evaluation: { every: 30, sequences: 32, learnerBaseline: learner } }))).toEqual([
      expect.stringMatching(
        /^evaluation\.learnerBaseline: the learner baseline is for classification tasks; .*ridge and dMMSE/,
      ),
    ]);
    expect(issues({ ...gpicl({}), evaluation: { every: 30, sequences: 32, learnerBaseline: learner } })).toEqual([]);
  });
});

describe('engine checks of an RL spec', () => {
  const rl = (task: Record<string, unknown>, model: ExperimentSpecInput['model'] = { kind: 'mlp', hidden: [16] }) =>
    tinySpec({ task: { family: 'rl', ...task }, model, evaluation: { every: 1, sequences: 2 } });

  it('accepts what the learners can run', () => {
    expect(issues(rl({ env: { name: 'CartPole-v1' } }))).toEqual([]);
    expect(issues(rl({ env: { name: 'Pendulum-v1' }, algorithm: { kind: 'td3' } }))).toEqual([]);
    expect(
      issues(rl({ env: { name: 'bernoulli-bandit' }, episodesPerTrial: 20 }, { kind: 'lstm', hidden: 8 })),
    ).toEqual([]);
  });

  it('names the field at fault: the model kind, TD3 on discrete actions, permutations and projections', () => {
    expect(issues(rl({ env: { name: 'CartPole-v1' } }, { kind: 'vsml' }))).toEqual([
      expect.stringMatching(/^model\.kind: an RL policy is 'mlp' .* or 'lstm' .*, not 'vsml'/),
    ]);
    expect(issues(rl({ env: { name: 'CartPole-v1' }, algorithm: { kind: 'td3' } }))).toEqual([
      'task.algorithm.kind: TD3 needs continuous actions; CartPole-v1 has 2 discrete ones (use ppo, a2c or reinforce)',
    ]);
    const tanh = { kind: 'mlp' as const, hidden: [16], activation: 'tanh' as const };
    expect(issues(rl({ env: { name: 'Pendulum-v1' }, algorithm: { kind: 'td3' } }, tanh))).toEqual([
      "model.activation: TD3's actor and critics use ReLU (activation 'relu')",
    ]);
    expect(issues(rl({ env: { name: 'Pendulum-v1' }, permuteActions: true }))).toEqual([
      'task.permuteActions: Pendulum-v1 has continuous actions: there are none to permute',
    ]);
    expect(issues(rl({ env: { name: 'gridworld', size: 9, observation: 'full' }, projectObservations: true }))).toEqual(
      [expect.stringMatching(/^task\.projectObservations: gridworld observes 243 numbers; projections/)],
    );
  });
});
