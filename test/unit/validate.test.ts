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
      expect.stringMatching(/^model\.kind: an RL policy is 'mlp' .*, 'lstm' .* or 'symla' .*, not 'vsml'/),
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

  const metagenrl = (extra: Record<string, unknown> = {}) => ({ kind: 'metagenrl', population: 4, ...extra });
  const continuous = '(continuous: MountainCarContinuous-v0, Pendulum-v1, CartPoleContinuous, point-mass)';

  it('accepts MetaGenRL and learned objectives on continuous actions, over several environments for MetaGenRL', () => {
    const moreEnvs = [{ name: 'point-mass' }, { name: 'MountainCarContinuous-v0' }];
    expect(issues(rl({ env: { name: 'Pendulum-v1', physics: 0.2 }, moreEnvs, algorithm: metagenrl() }))).toEqual([]);
    const learned = { kind: 'learned-objective', objective: 'random' };
    expect(issues(rl({ env: { name: 'CartPoleContinuous' }, algorithm: learned }))).toEqual([]);
  });

  it('MetaGenRL and learned objectives: names each environment with discrete actions, and the model at fault', () => {
    const moreEnvs = [{ name: 'point-mass' }, { name: 'gridworld' }];
    expect(issues(rl({ env: { name: 'CartPole-v1' }, moreEnvs, algorithm: metagenrl() }))).toEqual([
      `task.env.name: MetaGenRL's TD3 agents need continuous actions; CartPole-v1 has 2 discrete ones ${continuous}`,
      "task.moreEnvs[1].name: MetaGenRL's TD3 agents need continuous actions; gridworld has 4 discrete ones " +
        continuous,
    ]);
    const learned = { kind: 'learned-objective' };
    expect(issues(rl({ env: { name: 'Acrobot-v1' }, algorithm: learned }))).toEqual([
      'task.env.name: a learned objective trains a TD3 agent, which needs continuous actions; Acrobot-v1 has 3 ' +
        `discrete ones ${continuous}`,
    ]);
    const pendulum = { name: 'Pendulum-v1' };
    expect(issues(rl({ env: pendulum, algorithm: metagenrl() }, { kind: 'lstm', hidden: 8 }))).toEqual([
      "model.kind: MetaGenRL's TD3 agents are a feed-forward actor and critics each: model.kind must be 'mlp'",
    ]);
    expect(issues(rl({ env: pendulum, algorithm: learned }, { kind: 'lstm', hidden: 8 }))).toEqual([
      "model.kind: a learned objective trains a TD3 agent, a feed-forward actor and critics: model.kind must be 'mlp'",
    ]);
    const tanh = { kind: 'mlp' as const, hidden: [16], activation: 'tanh' as const };
    expect(issues(rl({ env: pendulum, algorithm: metagenrl() }, tanh))).toEqual([
      "model.activation: the actors and critics of MetaGenRL's TD3 agents use ReLU (activation 'relu')",
    ]);
    expect(issues(rl({ env: pendulum, algorithm: learned }, tanh))).toEqual([
      'model.activation: the actor and critics of the TD3 agent a learned objective trains use ReLU ' +
        "(activation 'relu')",
    ]);
  });

  const RL2 =
    "RL² (model.kind 'lstm' under ppo, a2c, reinforce or a black-box learner) and SymLA ('symla' under a black-box " +
    'learner: es, fme, hill-climber, random-search)';

  it('more environments only for MetaGenRL and RL², enough agents to cover them, no action permutations', () => {
    const moreEnvs = [{ name: 'point-mass' }];
    expect(issues(rl({ env: { name: 'Pendulum-v1' }, moreEnvs, algorithm: { kind: 'td3' } }))).toEqual([
      `task.moreEnvs: more training environments are for MetaGenRL's population and ${RL2}; td3 trains on ` +
        'task.env alone (use [])',
    ]);
    expect(issues(rl({ env: { name: 'Pendulum-v1' }, moreEnvs }))).toEqual([
      `task.moreEnvs: more training environments are for MetaGenRL's population and ${RL2}; a feed-forward ppo ` +
        'policy trains on task.env alone (use [])',
    ]);
    const three = [{ name: 'point-mass' }, { name: 'CartPoleContinuous' }];
    expect(
      issues(rl({ env: { name: 'Pendulum-v1' }, moreEnvs: three, algorithm: metagenrl({ population: 2 }) })),
    ).toEqual([
      'task.algorithm.population: 2 agents leave some of the 3 training environments untrained (agent i trains on ' +
        'environment i mod 3): use at least 3',
    ]);
    for (const algorithm of [metagenrl(), { kind: 'learned-objective' }])
      expect(issues(rl({ env: { name: 'point-mass' }, permuteActions: true, algorithm }))).toEqual([
        'task.permuteActions: point-mass has continuous actions: there are none to permute',
      ]);
  });

  const lstm = { kind: 'lstm' as const, hidden: 8 };
  const pendulum = { name: 'Pendulum-v1', physics: 0.2 };

  it('accepts RL² across environments, tested on others', () => {
    for (const kind of ['ppo', 'a2c', 'reinforce', 'es']) {
      const task = { env: pendulum, moreEnvs: [{ name: 'point-mass' }], testEnvs: [{ name: 'CartPoleContinuous' }] };
      expect(issues(rl({ ...task, numTasks: 'fresh', episodesPerTrial: 2, algorithm: { kind } }, lstm))).toEqual([]);
    }
    const bandits = { env: { name: 'bernoulli-bandit', arms: 2 }, testEnvs: [{ name: 'dependent-bandit' }] };
    expect(issues(rl({ ...bandits, numTasks: 'fresh', episodesPerTrial: 10 }, lstm))).toEqual([]);
  });

  it('test environments only for RL²: a learned objective is meta-tested by its own runs', () => {
    const testEnvs = [{ name: 'CartPoleContinuous' }];
    expect(issues(rl({ env: pendulum, testEnvs, algorithm: metagenrl() }))).toEqual([
      'task.testEnvs: a learned objective is meta-tested by a learned-objective run on each test environment (use [])',
    ]);
    expect(issues(rl({ env: pendulum, testEnvs, algorithm: { kind: 'learned-objective' } }))).toEqual([
      'task.testEnvs: this run is a meta-test on task.env: make one learned-objective run per test environment ' +
        '(use [])',
    ]);
    expect(issues(rl({ env: pendulum, testEnvs, algorithm: { kind: 'td3' } }))).toEqual([
      `task.testEnvs: test environments are for ${RL2}; a TD3 agent learns one environment: train it on each (use [])`,
    ]);
    expect(issues(rl({ env: pendulum, testEnvs, algorithm: { kind: 'a2c' } }))).toEqual([
      `task.testEnvs: test environments are for ${RL2}; a feed-forward a2c policy learns one environment: train it ` +
        'on each (use [])',
    ]);
  });

  it('RL²: actions that pad to one, each test environment once, a pool that covers the training environments', () => {
    const task = {
      env: { name: 'CartPole-v1' },
      moreEnvs: [{ name: 'Acrobot-v1' }, { name: 'gridworld' }],
      testEnvs: [{ name: 'CartPoleContinuous' }],
      numTasks: 2,
    };
    const pad =
      'under ppo the environments of one meta-RL task need the same number of discrete actions (under es, fme, ' +
      'hill-climber or random-search, any number)';
    expect(issues(rl(task, lstm))).toEqual([
      `task.moreEnvs[0].name: Acrobot-v1 has 3 discrete actions, CartPole-v1 (task.env) 2 discrete actions: ${pad}`,
      `task.moreEnvs[1].name: gridworld has 4 discrete actions, CartPole-v1 (task.env) 2 discrete actions: ${pad}`,
      'task.testEnvs[0].name: CartPoleContinuous has continuous actions, CartPole-v1 (task.env) 2 discrete ' +
        'actions: the environments of one meta-RL task need one kind of action',
      'task.numTasks: a pool of 2 leaves some of the 3 training environments untrained (instance k is on ' +
        "environment k mod 3): use at least 3, or 'fresh'",
    ]);
    const twice = [
      { name: 'CartPoleContinuous' },
      { name: 'point-mass' },
      { name: 'CartPoleContinuous', physics: 0.3 },
    ];
    expect(issues(rl({ env: pendulum, testEnvs: twice }, lstm))).toEqual([
      'task.testEnvs[2].name: CartPoleContinuous is a test environment twice; each is evaluated as the split ' +
        'test:CartPoleContinuous (give it once)',
    ]);
  });

  it('SymLA and RL² under ES: any numbers of arms (a split each), but not discrete with continuous actions', () => {
    const bandit = (arms: number) => ({ name: 'bernoulli-bandit', arms });
    const task = { env: bandit(2), testEnvs: [bandit(3), bandit(5), bandit(8)], algorithm: { kind: 'es' } };
    const symla = { kind: 'symla' as const };
    expect(issues(rl(task, symla))).toEqual([]);
    expect(issues(rl(task, lstm))).toEqual([]);
    expect(issues(rl({ ...task, testEnvs: [bandit(3), bandit(3)] }, symla))).toEqual([
      'task.testEnvs[1].name: bernoulli-bandit is a test environment twice; each is evaluated as the split ' +
        'test:bernoulli-bandit-3 (give it once)',
    ]);
    expect(issues(rl({ ...task, testEnvs: [{ name: 'CartPoleContinuous' }] }, symla))).toEqual([
      'task.testEnvs[0].name: CartPoleContinuous has continuous actions, bernoulli-bandit (task.env) 2 discrete ' +
        'actions: the environments of one meta-RL task need one kind of action',
    ]);
    expect(issues(rl({ ...task, algorithm: { kind: 'ppo' } }, symla))).toEqual([
      "model.kind: a 'symla' policy is meta-trained without gradients (task.algorithm.kind es, fme, hill-climber or " +
        'random-search), not by ppo',
    ]);
    expect(issues({ ...gpicl({}), model: symla })).toEqual([
      "model.kind: 'symla' is a policy for RL tasks (SymLA); a supervised task's model is mlp, transformer, lstm " +
        'or vsml',
    ]);
  });
});
