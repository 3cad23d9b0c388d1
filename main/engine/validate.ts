// What only the engine knows about whether a spec can run: the datasets it names exist in this lab and can
// be prepared as its task asks (classes, dimensions), and what it asks of the evaluation suits the task's
// objective. The lab checks it before anything is stored.
import type { DatasetInfo } from '../../shared/api.js';
import { OBJECTIVES, TASK_OBJECTIVES, type ObjectiveInfo } from '../../shared/objectives/index.js';
import { formatPath, type RunSpec, type SpecIssue } from '../../shared/spec.js';
import { optionsProblem } from './data/preprocess.js';
import { actionSpace, observationSize } from './envs/index.js';
import { rlModelIssues } from './rl/networks.js';
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

/** What an RL run asks that its environment or model cannot do. */
function rlIssues(spec: RlSpec): [path: (string | number)[], message: string][] {
  const { task } = spec;
  const issues: [(string | number)[], string][] = rlModelIssues(spec).map((m) => [['model', 'kind'], m]);
  const action = actionSpace(task);
  if (task.algorithm.kind === 'td3') {
    if (action.kind === 'discrete')
      issues.push([
        ['task', 'algorithm', 'kind'],
        `TD3 needs continuous actions; ${task.env.name} has ${action.n} discrete ones (use ppo, a2c or reinforce)`,
      ]);
    if (spec.model.kind !== 'mlp')
      issues.push([['model', 'kind'], `TD3 trains a feed-forward actor and critics: model.kind must be 'mlp'`]);
    else if (spec.model.activation !== 'relu')
      issues.push([['model', 'activation'], "TD3's actor and critics use ReLU (activation 'relu')"]);
  }
  const d = observationSize(task);
  if (task.projectObservations && d > MAX_PROJECTED_SIZE)
    issues.push([
      ['task', 'projectObservations'],
      `${task.env.name} observes ${d} numbers; projections (a d x d matrix per environment) go up to ` +
        `${MAX_PROJECTED_SIZE} (use a partial observation or a smaller grid)`,
    ]);
  if (task.permuteActions && action.kind !== 'discrete')
    issues.push([['task', 'permuteActions'], `${task.env.name} has continuous actions: there are none to permute`]);
  return issues;
}
