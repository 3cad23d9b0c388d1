// What the page draws of a MetaGenRL run: the population's training returns (one line per agent, coloured by its
// environment), reference levels on the meta-training charts, whether the objective has collapsed, and the picture of
// what the objective learned (its output against the one-step advantage, from the evaluation curves of split
// OBJECTIVE_PICTURE_SPLIT). Pure: the page's run view draws from it.
import type { EvalCurve } from '../api.js';
import { COLLAPSE_SATURATION, OBJECTIVE_PICTURE, OBJECTIVE_PICTURE_SPLIT } from '../objectives/rl.js';
import type { EnvSpec } from '../spec.js';
import { ema, type XY } from './data.js';
import { formatNumber } from './format.js';
import { type ChartSeries, levelLine } from './line.js';
import type { ScatterPoint } from './scatter.js';

/** The environment each agent of a population trains on: agent i on environment i mod n of [env, ...moreEnvs]. */
export function agentEnvs(task: { env: EnvSpec; moreEnvs: EnvSpec[] }, population: number): EnvSpec[] {
  const envs = [task.env, ...task.moreEnvs];
  return Array.from({ length: population }, (_, i) => envs[i % envs.length]);
}

const LINE_TYPES = ['solid', 'dashed', 'dotted'] as const;

/**
 * One line per agent (smoothed by `weight`, see ema), named `agent i · <env name>`: agents on the same environment
 * share its colour (the environment's place in [env, ...moreEnvs]) and differ by dash.
 */
export function agentLines(
  returns: readonly XY[][],
  task: { env: EnvSpec; moreEnvs: EnvSpec[] },
  weight: number,
): ChartSeries[] {
  const envCount = 1 + task.moreEnvs.length;
  const envs = agentEnvs(task, returns.length);
  return returns.flatMap((data, i) => {
    if (!data.length) return [];
    const env = i % envCount;
    const sibling = Math.floor(i / envCount);
    return [
      {
        name: `agent ${i} · ${envs[i].name}`,
        data: ema(data, weight),
        colorIndex: env,
        lineType: LINE_TYPES[sibling % LINE_TYPES.length],
      },
    ];
  });
}

/** Red: the collapse threshold. */
const WARNING = 1;

/** The saturation above which the objective is reported as collapsed, as a line. */
export const collapseLine = (xRange: [number, number]): ChartSeries =>
  levelLine(`collapse threshold (${COLLAPSE_SATURATION})`, COLLAPSE_SATURATION, xRange, WARNING);

/**
 * The mean of the points of the last `window` steps (the last point alone when none other falls in it); null
 * without points. Saturation is judged over an evaluation interval, not on one noisy step.
 */
export function recentMean(points: readonly XY[], window: number): number | null {
  const known = points.filter((p): p is [number, number] => p[1] !== null && Number.isFinite(p[1]));
  const last = known.at(-1);
  if (!last) return null;
  const recent = known.filter(([step]) => step > last[0] - window);
  return recent.reduce((a, [, v]) => a + v, 0) / recent.length;
}

export const hasCollapsed = (saturation: number | null): boolean =>
  saturation !== null && saturation > COLLAPSE_SATURATION;

/** Evaluation steps with a picture of the objective, ascending. */
export function pictureSteps(curves: readonly EvalCurve[]): number[] {
  const output = OBJECTIVE_PICTURE.output.name;
  return [
    ...new Set(curves.filter((c) => c.split === OBJECTIVE_PICTURE_SPLIT && c.metric === output).map((c) => c.step)),
  ].sort((a, b) => a - b);
}

/**
 * The objective's output against the one-step advantage at one evaluation, coloured by the action gap (policy's
 * action minus the buffer's), each point named by its time in the sub-trajectory. Steps missing a value are left out.
 */
export function picturePoints(curves: readonly EvalCurve[], step: number): ScatterPoint[] {
  const curve = (name: string) =>
    curves.find((c) => c.split === OBJECTIVE_PICTURE_SPLIT && c.step === step && c.metric === name)?.values ?? [];
  const output = curve(OBJECTIVE_PICTURE.output.name);
  const advantage = curve(OBJECTIVE_PICTURE.advantage.name);
  const gap = curve(OBJECTIVE_PICTURE.actionGap.name);
  const time = curve(OBJECTIVE_PICTURE.time.name);
  return output.flatMap((y, i): ScatterPoint[] => {
    const x = advantage[i];
    if (y === null || x === null || x === undefined) return [];
    const t = time[i];
    return [{ name: `step ${i + 1} · t/T ${formatNumber(t ?? null, 2)}`, x, y, color: gap[i] ?? null }];
  });
}
