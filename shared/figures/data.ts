// Pure transforms from the lab's records to what the charts draw (no DOM, no ECharts).
import type { EvalCurve, Run, Series } from '../api.js';
import { objectiveOfCurve, sortSplits, type BaselineInfo, type ObjectiveInfo } from '../objectives/index.js';
import { PHASE_LABELS, phaseCode, phaseUncertain, type Phase, type RunSummary } from '../results.js';
import { SPREAD } from './seeds.js';

export type XY = [number, number | null];
export type Cell = string | number | null;

/** The rows behind a chart: what its CSV holds and its table shows. */
export interface DataTable {
  columns: string[];
  rows: Cell[][];
}

export function lastValues(series: Series | undefined): XY[] {
  return series ? series.steps.map((step, i) => [step, series.last[i]]) : [];
}

/**
 * Exponential moving average with the start-up bias removed (as TensorBoard smooths), so the first points
 * are not dragged towards zero. `weight` 0 leaves the data as it is; gaps (null) stay gaps.
 */
export function ema(data: readonly XY[], weight: number): XY[] {
  if (weight <= 0) return data.slice();
  let acc = 0;
  let n = 0;
  return data.map(([x, y]) => {
    if (y === null || !Number.isFinite(y)) return [x, null];
    acc = weight * acc + (1 - weight) * y;
    n++;
    return [x, acc / (1 - weight ** n)];
  });
}

/** Coarse buckets outside [from, to] with the finer ones fetched for that range in between. */
export function spliceRange(coarse: Series, fine: Series, from: number, to: number): Series {
  const before = coarse.steps.filter((s) => s < from).length;
  const after = coarse.steps.findIndex((s) => s > to);
  const splice = <T>(c: T[], f: T[]) => [...c.slice(0, before), ...f, ...(after < 0 ? [] : c.slice(after))];
  return {
    ...coarse,
    steps: splice(coarse.steps, fine.steps),
    min: splice(coarse.min, fine.min),
    max: splice(coarse.max, fine.max),
    last: splice(coarse.last, fine.last),
  };
}

export interface Band {
  from: number;
  to: number;
  label: string;
  /** Index into PHASE_LABELS, or -1 for a band that is not a phase (the plateau). */
  phase: number;
}

/**
 * Phase bands over training: each evaluation's label holds from its step until the next evaluation
 * (the last one until `endStep`); neighbours with the same label merge.
 */
export function phaseBands(points: readonly XY[], endStep: number): Band[] {
  const bands: Band[] = [];
  points.forEach(([step, code], i) => {
    if (code === null || PHASE_LABELS[code] === undefined) return;
    const to = Math.max(points[i + 1]?.[0] ?? endStep, step);
    const prev = bands[bands.length - 1];
    if (prev && prev.phase === code && prev.to === step) prev.to = to;
    else bands.push({ from: step, to, label: PHASE_LABELS[code], phase: code });
  });
  return bands;
}

/**
 * A run's summary as one flat record for tables: steps, backend, phase (marked where uncertain), plateau
 * (`start..end`), every figure.
 */
export function flatSummary(summary: RunSummary): Record<string, string | number | null> {
  const p = summary.plateau;
  const plateau = p ? `${p.start}..${p.end ?? 'open'}` : null;
  const phase = summary.phase && phaseText(summary.phase, summary.phaseConfidence);
  return { steps: summary.steps, backend: summary.backend, phase, plateau, ...summary.figures };
}

/** The plateau the run's summary names (an open one runs to the last step), or null. */
export function plateauBand(summary: Run['summary'], lastStep: number): Band | null {
  const plateau = summary?.plateau;
  if (!plateau) return null;
  return {
    from: plateau.start,
    to: plateau.end ?? lastStep,
    label: plateau.end === null ? 'plateau (open)' : 'plateau',
    phase: -1,
  };
}

/** The objective whose model curve the curves hold (accuracy for classification, MSE for regression), if any. */
export function curveObjective(curves: readonly EvalCurve[]): ObjectiveInfo | null {
  for (const c of curves) {
    const objective = objectiveOfCurve(c.metric);
    if (objective) return objective;
  }
  return null;
}

/** Steps at which the model was evaluated, ascending. */
export function evalSteps(curves: readonly EvalCurve[], metric: string): number[] {
  return [...new Set(curves.filter((c) => c.metric === metric).map((c) => c.step))].sort((a, b) => a - b);
}

/** Evaluation splits in a stable order: seen, unseen, then the extra datasets. */
export function splitsOf(curves: readonly EvalCurve[]): string[] {
  return sortSplits(curves.map((c) => c.split));
}

/**
 * The baselines' curves of the objective whose model curve is `metric`, by baseline: computed once, stored at step 0.
 */
export function baselineCurves(
  curves: readonly EvalCurve[],
  metric: string,
): { baseline: BaselineInfo; curve: EvalCurve }[] {
  const objective = objectiveOfCurve(metric);
  if (!objective) return [];
  return objective.baselines.flatMap((baseline) =>
    curves.filter((c) => c.metric === objective.baselineCurve(baseline.name)).map((curve) => ({ baseline, curve })),
  );
}

/** Per-position values as points at positions 1..L. */
export function positionPoints(values: readonly (number | null)[]): XY[] {
  return values.map((v, i) => [i + 1, v]);
}

export type Leaf = string | number | boolean | null;

/** A nested spec as dotted paths to leaves; arrays are leaves (written as JSON), as sweep values are. */
export function flatten(value: unknown, prefix = '', out: Record<string, Leaf> = {}): Record<string, Leaf> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out[prefix] = Array.isArray(value) ? JSON.stringify(value) : (value as Leaf);
  }
  return out;
}

/** The dotted paths whose values are not all equal across the flattened specs (a missing field differs). */
export function differingPaths(specs: readonly Record<string, Leaf>[]): string[] {
  const paths = [...new Set(specs.flatMap((s) => Object.keys(s)))].sort();
  return paths.filter((p) => specs.some((s) => s[p] !== specs[0][p] || !(p in s)));
}

/** Sweep values in axis order: numbers ascending, then strings ('fresh' after every pool size). */
export function sortValues(values: Iterable<number | string>): (number | string)[] {
  return [...new Set(values)].sort(compareSweepValues);
}

/** Numbers first, in order, then names (a number of tasks before 'fresh'). */
export function compareSweepValues(a: number | string, b: number | string): number {
  return typeof a === 'number' && typeof b === 'number'
    ? a - b
    : typeof a === 'number'
      ? -1
      : typeof b === 'number'
        ? 1
        : a.localeCompare(b);
}

const superscripts = '⁰¹²³⁴⁵⁶⁷⁸⁹';
/** A sweep value for an axis label: powers of two from 1024 up as 2ⁿ. */
export function formatSweepValue(v: number | string): string {
  if (typeof v === 'string') return v;
  const e = Math.log2(v);
  if (v >= 1024 && Number.isInteger(e)) return `2${[...String(e)].map((d) => superscripts[Number(d)]).join('')}`;
  return String(v);
}

/** Short phase names that fit in a heatmap cell. */
export const PHASE_SHORT = ['none', 'memorize', 'task ID', 'learn'] as const;

/**
 * A phase label as the page, the CLI and the figures write it, marked where it is within noise (phaseUncertain):
 * 'task identification (uncertain, 62%)', or for a heatmap cell 'task ID?'.
 */
export function phaseText(phase: Phase, confidence: number | null | undefined, short = false): string {
  const i = phaseCode(phase);
  if (!phaseUncertain(confidence)) return short ? PHASE_SHORT[i] : phase;
  return short ? `${PHASE_SHORT[i]}?` : `${phase} (uncertain, ${Math.round(confidence! * 100)}%)`;
}

/** A phase as an index into PHASE_LABELS (-1 when unknown). */
export function phaseIndex(phase: Phase | null | undefined): number {
  return phase ? phaseCode(phase) : -1;
}

/** RFC 4180 CSV: fields with commas, quotes or line breaks are quoted; missing values are empty. */
export function toCsv(table: DataTable): string {
  const field = (v: Cell) => {
    const s = v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return `${[table.columns, ...table.rows].map((row) => row.map(field).join(',')).join('\r\n')}\r\n`;
}

/** Line series as a long table: one row per point, with each point's spread where some line has a band. */
export function seriesTable(
  series: readonly { name: string; data: readonly XY[]; spread?: readonly (number | null)[] }[],
  xName: string,
  yName: string,
): DataTable {
  const spread = series.some((s) => s.spread);
  return {
    columns: ['series', xName, yName || 'value', ...(spread ? [SPREAD] : [])],
    rows: series.flatMap((s) => s.data.map(([x, y], i) => [s.name, x, y, ...(spread ? [s.spread?.[i] ?? null] : [])])),
  };
}
