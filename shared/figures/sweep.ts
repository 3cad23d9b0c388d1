// A sweep's grid as the phase charts see it: axis values, runs per grid point, positions on a log2 axis.
import type { Run } from '../api.js';
import type { Phase } from '../results.js';
import type { SweepPoint } from '../spec.js';
import { phaseIndex, phaseText, sortValues, type Band } from './data.js';

export type SweepValue = number | string;

/** The values an axis takes over the runs, in axis order. */
export function axisValues(runs: readonly Run[], path: string): SweepValue[] {
  return sortValues(runs.map((r) => r.sweepPoint[path]).filter((v) => v !== undefined));
}

/**
 * The runs at a grid point, oldest first: every axis named in `at` has that value (several: the seeds of a point
 * without one).
 */
export function runsAt(runs: readonly Run[], at: SweepPoint): Run[] {
  return runs
    .filter((r) => Object.entries(at).every(([path, v]) => r.sweepPoint[path] === v))
    .sort((a, b) => a.id - b.id);
}

/**
 * Positions on a value axis: log2 of the numbers (by default where they are all positive: pool sizes,
 * widths), the numbers themselves otherwise; strings ('fresh') follow the largest number, one mean
 * spacing apart.
 */
export function axisPositions(values: readonly SweepValue[], log = isLog2Axis(values)): number[] {
  const at = (v: number) => (log ? Math.log2(v) : v);
  const pos = values.filter((v): v is number => typeof v === 'number').map(at);
  const lo = Math.min(...pos);
  const hi = Math.max(...pos);
  const gap = pos.length > 1 ? (hi - lo) / (pos.length - 1) : 1;
  let next = pos.length ? hi : -1;
  return values.map((v) => {
    if (typeof v === 'number') return at(v);
    next += gap;
    return next;
  });
}

/** Whether axisPositions puts these values on a log2 scale. */
export function isLog2Axis(values: readonly SweepValue[]): boolean {
  const nums = values.filter((v): v is number => typeof v === 'number');
  return nums.length > 0 && nums.every((v) => v > 0);
}

/**
 * Phase regions along an axis: each point's phase holds halfway to its neighbours; neighbours with the
 * same label merge. Points without a phase (runs not finished) leave a gap; an uncertain phase (by its
 * confidence, where given) is labelled as such.
 */
export function phaseRegions(
  positions: readonly number[],
  phases: readonly (Phase | null | undefined)[],
  confidences: readonly (number | null | undefined)[] = [],
): Band[] {
  const bands: Band[] = [];
  positions.forEach((x, i) => {
    const p = phases[i];
    if (!p) return;
    const phase = phaseIndex(p);
    const label = phaseText(p, confidences[i], true);
    const from = i > 0 ? (positions[i - 1] + x) / 2 : x;
    const to = i < positions.length - 1 ? (x + positions[i + 1]) / 2 : x;
    const prev = bands[bands.length - 1];
    if (prev && prev.label === label && prev.to === from) prev.to = to;
    else bands.push({ from, to, label, phase });
  });
  return bands;
}
