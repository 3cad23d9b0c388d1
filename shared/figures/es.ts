// What the page draws of a black-box learner's run (ES, FME and its baselines): fitness over generations, the best
// and the mean with one standard deviation either side; and FME's archive as recorded at each evaluation (split
// ARCHIVE_SPLIT). Pure: the run view draws from it.
import type { EvalCurve } from '../api.js';
import { ARCHIVE_PICTURE, ARCHIVE_SPLIT } from '../objectives/rl.js';
import type { XY } from './data.js';
import type { ChartSeries } from './line.js';
import type { ScatterPoint } from './scatter.js';

/** best, mean, and mean -/+ spread (dashed, in the mean's colour), each point at its step. */
export function fitnessLines(best: readonly XY[], mean: readonly XY[], spread: readonly XY[]): ChartSeries[] {
  const sd = new Map(spread.map(([x, y]) => [x, y]));
  const side = (sign: number) =>
    mean.flatMap(([x, y]): XY[] => (y === null || !sd.has(x) ? [] : [[x, y + sign * (sd.get(x) ?? 0)]]));
  if (!mean.length) return [];
  return [
    { name: 'best member', data: [...best], colorIndex: 1 },
    { name: 'mean', data: [...mean], colorIndex: 0 },
    { name: 'mean − sd', data: side(-1), colorIndex: 0, lineType: 'dashed' },
    { name: 'mean + sd', data: side(1), colorIndex: 0, lineType: 'dashed' },
  ];
}

/** Evaluation steps at which an FME run recorded its archive, in order. */
export function archiveSteps(curves: readonly EvalCurve[]): number[] {
  const steps = curves.filter((c) => c.split === ARCHIVE_SPLIT && c.metric === ARCHIVE_PICTURE.fitness.name);
  return [...new Set(steps.map((c) => c.step))].sort((a, b) => a - b);
}

/** The archive at `step`: each solution at (the step that made it, its fitness), coloured by its lineage depth. */
export function archivePicture(curves: readonly EvalCurve[], step: number): ScatterPoint[] {
  const values = (name: string) =>
    curves.find((c) => c.split === ARCHIVE_SPLIT && c.step === step && c.metric === name)?.values ?? [];
  const [fitness, born, depth] = [ARCHIVE_PICTURE.fitness, ARCHIVE_PICTURE.born, ARCHIVE_PICTURE.depth].map((f) =>
    values(f.name),
  );
  return fitness.flatMap((y, k): ScatterPoint[] =>
    y === null || born[k] === null
      ? []
      : [{ name: `solution ${k + 1} of the archive (depth ${depth[k]})`, x: born[k]!, y, color: depth[k] ?? null }],
  );
}
