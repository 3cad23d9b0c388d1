// Seeds aggregated: runs of one experiment that differ only in the `seed` sweep axis form a group, shown as the
// mean over its seeds with the standard error of that mean (curves: a shaded band; cells and tables: mean ± s.e.
// with n). Pure: the page and `metalab figure` group and average with these.
import type { Run } from '../api.js';
import type { Phase } from '../results.js';
import type { SweepPoint } from '../spec.js';
import type { XY } from './data.js';
import { formatNumber } from './format.js';
import type { ChartSeries } from './line.js';

/** The sweep axis that repeats an experiment over seeds. */
export const SEED_AXIS = 'seed';

/** The spread shown around every mean of seeds: the standard error of the mean (sample sd / √n). */
export const SPREAD = 's.e.';

export interface Spread {
  mean: number;
  /** Standard error of the mean; null for one value. */
  se: number | null;
  /** How many values the mean is of. */
  n: number;
}

/** The mean of the finite values and its standard error; null when there are none. */
export function meanSe(values: readonly (number | null | undefined)[]): Spread | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const n = xs.length;
  if (!n) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, se: null, n };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(variance / n), n };
}

/** `0.512 ± 0.031 (n=3)`; a single value without the spread; '–' for none. */
export function formatSpread(s: Spread | null, digits = 4): string {
  if (!s) return '–';
  const spread = s.se === null ? '' : ` ± ${formatNumber(s.se, 2)}`;
  return `${formatNumber(s.mean, digits)}${spread} (n=${s.n})`;
}

/** What a line or cell of `n` seeds shows, for legends and tooltips. */
export function seedsText(n: number): string {
  return n === 1 ? '1 seed' : `mean ± ${SPREAD} of ${n} seeds`;
}

export interface SeedGroup {
  experimentId: number;
  /** The runs' sweep point without the seed. */
  point: SweepPoint;
  /** In the order given. */
  runs: Run[];
}

/** Whether any of the runs comes from an experiment swept over seeds. */
export function hasSeedAxis(runs: readonly Run[]): boolean {
  return runs.some((r) => SEED_AXIS in r.sweepPoint);
}

/** The sweep point without the seed. */
export function withoutSeed(point: SweepPoint): SweepPoint {
  return Object.fromEntries(Object.entries(point).filter(([p]) => p !== SEED_AXIS));
}

/**
 * Runs by experiment and sweep point apart from the seed, in the order of each group's first run; a run of an
 * experiment not swept over seeds is a group of its own.
 */
export function seedGroups(runs: readonly Run[]): SeedGroup[] {
  const groups = new Map<string, SeedGroup>();
  for (const run of runs) {
    const point = withoutSeed(run.sweepPoint);
    const key = JSON.stringify([run.experimentId, Object.entries(point).sort()]);
    const group = groups.get(key) ?? { experimentId: run.experimentId, point, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  return [...groups.values()];
}

export interface MeanLine {
  /** The mean at each x value every line has a value at. */
  data: XY[];
  /** Its standard error there (null with one line). */
  spread: (number | null)[];
  /** The lines with any point (those without, e.g. of runs not started, are left out). */
  n: number;
}

/**
 * Lines of several seeds as one: at each x value where every line (with any points) has a value, their mean and
 * its standard error. Step grids can differ (a run still going, coarser buckets): only the common x values count,
 * so each point is a mean of all n seeds.
 */
export function meanLine(lines: readonly (readonly XY[])[]): MeanLine {
  const drawn = lines.filter((l) => l.length);
  const at = drawn.map((l) => new Map(l.filter(([, y]) => y !== null && Number.isFinite(y)) as [number, number][]));
  const xs = [...(at[0]?.keys() ?? [])].filter((x) => at.every((m) => m.has(x))).sort((a, b) => a - b);
  const points = xs.map((x) => [x, meanSe(at.map((m) => m.get(x)))!] as const);
  return {
    data: points.map(([x, s]) => [x, s.mean]),
    spread: points.map(([, s]) => s.se),
    n: drawn.length,
  };
}

/**
 * Each seed's lines (matched by name) as one mean line with its band, named with how many seeds it is the mean
 * of; the first seed's line gives colour and style.
 */
export function meanLines(perSeed: readonly (readonly ChartSeries[])[]): ChartSeries[] {
  const names = [...new Set(perSeed.flatMap((lines) => lines.map((s) => s.name)))];
  return names.flatMap((name) => {
    const lines = perSeed.flatMap((list) => list.filter((s) => s.name === name));
    const mean = meanLine(lines.map((s) => s.data));
    if (!mean.data.length) return [];
    return [{ ...lines[0], name: `${name} · ${seedsText(mean.n)}`, data: mean.data, spread: mean.spread }];
  });
}

/** A summary figure over a group's runs: mean ± s.e. of the runs that have it. */
export function figureSpread(runs: readonly Run[], figure: string): Spread | null {
  return meanSe(runs.map((r) => r.summary?.figures[figure]));
}

export interface Majority {
  phase: Phase;
  /** Runs that end in it, of `n` with a phase. */
  agree: number;
  n: number;
}

/** The phase most of the runs end in (a tie: the one reached first in the runs' order), with how many agree. */
export function majorityPhase(runs: readonly Run[]): Majority | null {
  const counts = new Map<Phase, number>();
  for (const r of runs) if (r.summary?.phase) counts.set(r.summary.phase, (counts.get(r.summary.phase) ?? 0) + 1);
  let best: Majority | null = null;
  const n = [...counts.values()].reduce((a, b) => a + b, 0);
  for (const [phase, agree] of counts) if (!best || agree > best.agree) best = { phase, agree, n };
  return best;
}

/** Runs by status, e.g. `2 running, 1 queued`. */
export function statusCounts(runs: readonly Run[]): string {
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
}
