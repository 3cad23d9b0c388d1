// What only the engine knows about whether a spec can run: the datasets it names exist in this lab and can
// be prepared as its task asks (classes, dimensions). The lab checks it before anything is stored.
import type { DatasetInfo } from '../../shared/api.js';
import { formatPath, type RunSpec, type SpecIssue } from '../../shared/spec.js';
import { optionsProblem } from './data/preprocess.js';

/** Issues of the expanded runs (each named once, by the spec field at fault), against the datasets this lab has. */
export function engineIssues(runs: readonly { spec: RunSpec }[], datasets: readonly DatasetInfo[]): SpecIssue[] {
  const issues = new Map<string, SpecIssue>();
  const add = (path: (string | number)[], message: string) => issues.set(formatPath(path), { path, message });
  for (const { spec } of runs) {
    const task = spec.task;
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
