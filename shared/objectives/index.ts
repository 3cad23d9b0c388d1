// The objective registry's shared half: which objective a task family has, its evaluation splits, and every
// metric name, label and direction the views, the CLI and the figures read. Adding an objective: a file
// here (its declarations), one in main/engine/objectives (its computation), and one line in each registry.
import { RUN_FIGURES, TRAINING_METRICS, parseEvalKey, type MetricInfo } from '../metrics.js';
import type { TaskSpec } from '../spec.js';
import { classification } from './classification.js';
import { regression } from './regression.js';
import { parseAgentReturnKey, RL_STEP_METRICS, rl } from './rl.js';
import type { FigureInfo, ObjectiveInfo } from './types.js';

export type { BaselineInfo, FigureInfo, ObjectiveInfo } from './types.js';

export const OBJECTIVES = { classification, regression, rl } as const;
export type ObjectiveName = keyof typeof OBJECTIVES;

/** The objective each task family is scored by. */
export const TASK_OBJECTIVES: { [F in TaskSpec['family']]: ObjectiveName } = {
  'linear-regression': 'regression',
  'gpicl-classification': 'classification',
  rl: 'rl',
};

export function objectiveOf(task: Pick<TaskSpec, 'family'>): ObjectiveInfo {
  return OBJECTIVES[TASK_OBJECTIVES[task.family]];
}

/** Evaluation splits every objective's phase rule reads: tasks from the training pool, and new tasks. */
export const SPLITS = { seen: 'seen', unseen: 'unseen' } as const;

/** The split of unseen tasks built on another dataset (e.g. Fashion-MNIST for a model meta-trained on MNIST). */
export const unseenOn = (dataset: string): string => `${SPLITS.unseen}-${dataset}`;

/** Splits in a stable order: seen, unseen, then the others by name. */
export function sortSplits(splits: Iterable<string>): string[] {
  const rank = (s: string) => (s === SPLITS.seen ? 0 : s === SPLITS.unseen ? 1 : 2);
  return [...new Set(splits)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

const defined = <T>(xs: (T | undefined)[]): T[] => xs.filter((x): x is T => x !== undefined);

function allFigures(o: ObjectiveInfo): FigureInfo[] {
  const { last, mean, improvement, others } = o.figures;
  return [
    last,
    mean,
    improvement,
    ...others,
    ...o.baselines.flatMap((b) => defined(Object.values(o.baselineFigures(b.name)))),
  ];
}

/** Figures charted over training in a run's detail: the model's, and its distance to each baseline where recorded. */
export function figuresOverTraining(o: ObjectiveInfo): string[] {
  const distances = defined(o.baselines.map((b) => o.baselineFigures(b.name).distance));
  return [o.figures.last, o.figures.mean, o.figures.improvement, ...o.figures.others, ...distances].map((f) => f.name);
}

/** The objective whose model curve is `metric` (acc, mse), if any. */
export function objectiveOfCurve(metric: string): ObjectiveInfo | null {
  return Object.values(OBJECTIVES).find((o: ObjectiveInfo) => o.curve.name === metric) ?? null;
}

const fixed = new Map<string, MetricInfo>(
  [
    ...Object.values(TRAINING_METRICS),
    ...Object.values(RUN_FIGURES),
    ...Object.values(OBJECTIVES).flatMap((o) => o.stepMetrics),
  ].map((m) => [m.key, m]),
);

/** Label, unit, direction and description of any recorded key (evaluation keys of every objective included). */
export function metricInfo(key: string): MetricInfo | null {
  const known = fixed.get(key);
  if (known) return known;
  const agent = parseAgentReturnKey(key);
  if (agent !== null) {
    const base = RL_STEP_METRICS.trainReturn;
    return { ...base, key, label: `agent ${agent}: ${base.label}` };
  }
  const parsed = parseEvalKey(key);
  if (!parsed) return null;
  for (const o of Object.values(OBJECTIVES) as ObjectiveInfo[]) {
    const f = allFigures(o).find((x) => x.name === parsed.name);
    if (f) return { ...f, key, label: `${parsed.split}: ${f.label}` };
  }
  return null;
}

/** Figures where lower is better (errors, losses): colour ramps run the other way. */
export function lowerIsBetter(key: string): boolean {
  return metricInfo(key)?.direction === 'lower';
}
