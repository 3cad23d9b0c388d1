// In-context learning curves: a run's per-position accuracy (or MSE) at one evaluation, with its baselines.
import type { EvalCurve } from '../api.js';
import { baselineCurves, positionPoints } from './data.js';
import { formatNumber } from './format.js';
import { type ChartSeries, levelLine } from './line.js';

const LINE_TYPES = ['dashed', 'dotted'] as const;

export interface ContextPick {
  split: string;
  /** The evaluation step; undefined before the first evaluation (baselines only). */
  step: number | undefined;
  /** The model's curve metric (the objective's, see curveObjective). */
  metric: string;
  /** Palette index shared by the model's line and its baselines'. */
  colorIndex: number;
  /** Whether to add the objective's baselines (stored once, at step 0). */
  baselines: boolean;
  /** A line's name from its kind: 'model' or a baseline's name. */
  name: (kind: string) => string;
  /** Each baseline in a colour of its own (one run's figure: many baselines, e.g. a bandit's, stay apart). */
  ownColors?: boolean;
}

/** One split's curves at one evaluation: the model's, then each baseline's, dashed or dotted in the same colour. */
export function contextLines(curves: readonly EvalCurve[], pick: ContextPick): ChartSeries[] {
  const { split, step, metric, colorIndex, name } = pick;
  const model = curves.find((c) => c.step === step && c.split === split && c.metric === metric);
  const baselines = pick.baselines ? baselineCurves(curves, metric) : [];
  const kinds = [...new Set(baselines.map((b) => b.curve.metric))];
  return [
    ...(model ? [{ name: name('model'), data: positionPoints(model.values), colorIndex }] : []),
    ...baselines
      .filter((b) => b.curve.split === split)
      .map(({ baseline, curve }, j) => ({
        name: name(baseline.label),
        data: positionPoints(curve.values),
        colorIndex: pick.ownColors ? colorIndex + 1 + j : colorIndex,
        lineType: LINE_TYPES[kinds.indexOf(curve.metric) % 2],
      })),
  ];
}

/** The chance level (objective.chance) as a line across the positions `lines` span; none without lines. */
export function chanceLine(lines: readonly ChartSeries[], chance: number): ChartSeries[] {
  const xs = lines.flatMap((l) => l.data.map(([x]) => x));
  if (!xs.length) return [];
  return [levelLine(`chance (${formatNumber(chance, 3)})`, chance, [Math.min(...xs), Math.max(...xs)])];
}
