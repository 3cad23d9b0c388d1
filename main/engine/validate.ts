// What only the engine knows about whether a spec can run: the datasets it names exist in this lab and can
// be prepared as its task asks (classes, dimensions), and what it asks of the evaluation suits the task's
// objective. The lab checks it before anything is stored.
import type { DatasetInfo } from '../../shared/api.js';
import { OBJECTIVES, TASK_OBJECTIVES, type ObjectiveInfo } from '../../shared/objectives/index.js';
import {
  type EnvSpec,
  envSpec,
  formatPath,
  type RlAlgorithm,
  type RunSpec,
  type SpecIssue,
  testEnvSplit,
} from '../../shared/spec.js';
import { optionsProblem } from './data/preprocess.js';
import { type ActionSpace, ENVS, envModel, padsWith } from './envs/index.js';
import { BLACK_BOX_KINDS, rlModelIssues, SYMLA_IS_RL } from './rl/networks.js';
import type { RlSpec } from './rl/types.js';

/** The baseline `evaluation.learnerBaseline` adds (the classification objective declares it). */
const LEARNER = OBJECTIVES.classification.baselines[0].name;

/** Issues of the expanded runs (each named once, by the spec field at fault), against the datasets this lab has. */
export function engineIssues(runs: readonly { spec: RunSpec }[], datasets: readonly DatasetInfo[]): SpecIssue[] {
  const issues = new Map<string, SpecIssue>();
  const add = (path: (string | number)[], message: string) => issues.set(formatPath(path), { path, message });
  for (const { spec } of runs) {
    const task = spec.task;
    const objective: ObjectiveInfo = OBJECTIVES[TASK_OBJECTIVES[task.family]];
    if (spec.evaluation.learnerBaseline && !objective.baselines.some((b) => b.name === LEARNER)) {
      const theirs = objective.baselines.map((b) => b.label).join(' and ');
      add(
        ['evaluation', 'learnerBaseline'],
        `the learner baseline is for classification tasks; ${task.family} tasks are compared with ${theirs} (use null)`,
      );
    }
    if (task.family === 'rl') {
      for (const [path, message] of rlIssues(spec as RlSpec)) add(path, message);
      continue;
    }
    if (spec.model.kind === 'symla') add(['model', 'kind'], SYMLA_IS_RL);
    if (task.family !== 'gpicl-classification') continue;
    const options = {
      inputDim: task.inputDim,
      method: task.preprocess,
      normalization: task.normalization,
      classes: task.classes,
    };
    const named: [path: (string | number)[], name: string][] = [
      [['task', 'dataset'], task.dataset],
      ...task.evalDatasets.map((name, i): [(string | number)[], string] => [['task', 'evalDatasets', i], name]),
    ];
    for (const [path, name] of named) {
      const dataset = datasets.find((d) => d.name === name);
      if (!dataset) {
        const known = datasets.map((d) => d.name).join(', ');
        add(path, `unknown dataset '${name}'; this lab has ${known} (import others with \`metalab import\`)`);
        continue;
      }
      const problem = optionsProblem(name, dataset, options);
      if (problem) add(['task', problem.option], problem.message);
    }
  }
  return [...issues.values()];
}

/** Observation sizes a random projection is allowed for: its matrix is d x d floats per environment of the batch. */
const MAX_PROJECTED_SIZE = 128;

type Path = (string | number)[];

/** The environments with continuous actions, as the hint of an issue about discrete ones lists them. */
const continuousEnvs = (): string =>
  Object.keys(ENVS)
    .filter((name) => envModel(envSpec.parse({ name })).action.kind === 'box')
    .join(', ');

/** How issues name what the algorithms whose agents are TD3's (an MLP actor, twin MLP critics) need. */
const TD3_AGENTS: Partial<
  Record<RlAlgorithm['kind'], { actions: (env: string, n: number) => string; kind: string; activation: string }>
> = {
  td3: {
    actions: (env, n) => `TD3 needs continuous actions; ${env} has ${n} discrete ones (use ppo, a2c or reinforce)`,
    kind: "TD3 trains a feed-forward actor and critics: model.kind must be 'mlp'",
    activation: "TD3's actor and critics use ReLU (activation 'relu')",
  },
  metagenrl: {
    actions: (env, n) =>
      `MetaGenRL's TD3 agents need continuous actions; ${env} has ${n} discrete ones (continuous: ${continuousEnvs()})`,
    kind: "MetaGenRL's TD3 agents are a feed-forward actor and critics each: model.kind must be 'mlp'",
    activation: "the actors and critics of MetaGenRL's TD3 agents use ReLU (activation 'relu')",
  },
  'learned-objective': {
    actions: (env, n) =>
      `a learned objective trains a TD3 agent, which needs continuous actions; ${env} has ${n} discrete ones ` +
      `(continuous: ${continuousEnvs()})`,
    kind: "a learned objective trains a TD3 agent, a feed-forward actor and critics: model.kind must be 'mlp'",
    activation: "the actor and critics of the TD3 agent a learned objective trains use ReLU (activation 'relu')",
  },
};

/** The learners that may train across environments and be tested on others: RL², a recurrent on-policy policy. */
const RL2_KINDS: readonly RlAlgorithm['kind'][] = [
  'ppo',
  'a2c',
  'reinforce',
  'es',
  'fme',
  'hill-climber',
  'random-search',
];
const RL2 =
  "RL² (model.kind 'lstm' under ppo, a2c, reinforce or a black-box learner) and SymLA ('symla' under a black-box " +
  'learner: es, fme, hill-climber, random-search)';

/** Why `kind` (with a feed-forward policy where it takes either) cannot have test environments. */
function testEnvsRefusal(kind: RlAlgorithm['kind']): string {
  if (kind === 'metagenrl')
    return 'a learned objective is meta-tested by a learned-objective run on each test environment (use [])';
  if (kind === 'learned-objective')
    return 'this run is a meta-test on task.env: make one learned-objective run per test environment (use [])';
  const who = kind === 'td3' ? 'a TD3 agent' : `a feed-forward ${kind} policy`;
  return `test environments are for ${RL2}; ${who} learns one environment: train it on each (use [])`;
}

/** What an RL run asks that its environments or model cannot do. */
function rlIssues(spec: RlSpec): [path: Path, message: string][] {
  const { task } = spec;
  const { kind } = task.algorithm;
  const issues: [Path, string][] = rlModelIssues(spec).map((m) => [['model', 'kind'], m]);
  // A meta-learner across environments: RL², or SymLA.
  const rl2 =
    (spec.model.kind === 'lstm' && RL2_KINDS.includes(kind)) ||
    (spec.model.kind === 'symla' && BLACK_BOX_KINDS.includes(kind));
  if (task.moreEnvs.length > 0 && kind !== 'metagenrl' && !rl2 && spec.model.kind !== 'symla')
    issues.push([
      ['task', 'moreEnvs'],
      `more training environments are for MetaGenRL's population and ${RL2}; ` +
        `${spec.model.kind === 'mlp' && RL2_KINDS.includes(kind) ? `a feed-forward ${kind} policy` : kind} ` +
        'trains on task.env alone (use [])',
    ]);
  // A SymLA model under another algorithm has its own issue (above).
  if (task.testEnvs.length > 0 && !rl2 && spec.model.kind !== 'symla')
    issues.push([['task', 'testEnvs'], testEnvsRefusal(kind)]);
  const named = (field: 'moreEnvs' | 'testEnvs') =>
    task[field].map((e, i): [Path, EnvSpec] => [['task', field, i, 'name'], e]);
  // The environments of the run, each with the path of the field that names it.
  const envs: [Path, EnvSpec][] = [
    [['task', 'env', 'name'], task.env],
    ...(kind === 'metagenrl' || rl2 ? named('moreEnvs') : []),
    ...(rl2 ? named('testEnvs') : []),
  ];
  if (rl2 && envs.length > 1) issues.push(...rl2Issues(spec, envs));
  const td3 = TD3_AGENTS[kind];
  if (td3) {
    for (const [path, env] of envs) {
      const action = envModel(env).action;
      // TD3 is one choice among the algorithms (others take discrete actions); the other two exist for continuous
      // control, so there the environment is at fault.
      if (action.kind === 'discrete')
        issues.push([kind === 'td3' ? ['task', 'algorithm', 'kind'] : path, td3.actions(env.name, action.n)]);
    }
    if (spec.model.kind !== 'mlp') issues.push([['model', 'kind'], td3.kind]);
    else if (spec.model.activation !== 'relu') issues.push([['model', 'activation'], td3.activation]);
  }
  if (task.algorithm.kind === 'metagenrl' && task.algorithm.population < envs.length)
    issues.push([
      ['task', 'algorithm', 'population'],
      `${task.algorithm.population} agents leave some of the ${envs.length} training environments untrained ` +
        `(agent i trains on environment i mod ${envs.length}): use at least ${envs.length}`,
    ]);
  const projected = envs.find(([, env]) => envModel(env).observationSize > MAX_PROJECTED_SIZE);
  if (task.projectObservations && projected)
    issues.push([
      ['task', 'projectObservations'],
      `${projected[1].name} observes ${envModel(projected[1]).observationSize} numbers; projections (a d x d ` +
        `matrix per environment) go up to ${MAX_PROJECTED_SIZE} (use a partial observation or a smaller grid)`,
    ]);
  if (task.permuteActions && envModel(task.env).action.kind !== 'discrete')
    issues.push([['task', 'permuteActions'], `${task.env.name} has continuous actions: there are none to permute`]);
  return issues;
}

/** What RL² across environments (`envs`: task.env, moreEnvs, testEnvs) needs: actions that pad, and a pool. */
function rl2Issues(spec: RlSpec, envs: [Path, EnvSpec][]): [Path, string][] {
  const { task } = spec;
  const issues: [Path, string][] = [];
  const first = envModel(task.env).action;
  const actions = (a: ActionSpace) => (a.kind === 'box' ? 'continuous actions' : `${a.n} discrete actions`);
  // A black-box learner only acts: its policy gives no probability to the actions an environment lacks. A gradient
  // would also need them out of the losses.
  const acting = BLACK_BOX_KINDS.includes(task.algorithm.kind);
  for (const [path, env] of envs.slice(1)) {
    const action = envModel(env).action;
    const has = `${env.name} has ${actions(action)}, ${task.env.name} (task.env) ${actions(first)}`;
    if (action.kind !== first.kind)
      issues.push([path, `${has}: the environments of one meta-RL task need one kind of action`]);
    else if (!acting && !padsWith(first, action))
      issues.push([
        path,
        `${has}: under ${task.algorithm.kind} the environments of one meta-RL task need the same number of ` +
          'discrete actions (under es, fme, hill-climber or random-search, any number)',
      ]);
  }
  task.testEnvs.forEach((env, i) => {
    if (task.testEnvs.findIndex((e) => testEnvSplit(e) === testEnvSplit(env)) < i)
      issues.push([
        ['task', 'testEnvs', i, 'name'],
        `${env.name} is a test environment twice; each is evaluated as the split ${testEnvSplit(env)} (give it once)`,
      ]);
  });
  const trained = 1 + task.moreEnvs.length;
  if (task.numTasks !== 'fresh' && task.numTasks < trained)
    issues.push([
      ['task', 'numTasks'],
      `a pool of ${task.numTasks} leaves some of the ${trained} training environments untrained (instance k is ` +
        `on environment k mod ${trained}): use at least ${trained}, or 'fresh'`,
    ]);
  return issues;
}
