// A sweep's phase diagram as the Phases view and the CLI's figures draw it: heatmap cells over two axes
// (each labelled with its run's phase), and summary figures along one axis with the phase regions shaded. A sweep
// over seeds is drawn as each point's mean ± s.e. over its seeds unless a chart draws or holds the seed axis.
import type { Run } from '../api.js';
import { evalMetricKey, parseEvalKey } from '../metrics.js';
import { sortSplits, type ObjectiveInfo } from '../objectives/index.js';
import { PHASE_LABELS } from '../results.js';
import type { SweepPoint } from '../spec.js';
import { PHASE_SHORT, formatSweepValue, phaseIndex, phaseText, type Band, type DataTable } from './data.js';
import type { HeatCell } from './heatmap.js';
import type { ChartSeries, Tick } from './line.js';
import { SEED_AXIS, SPREAD, figureSpread, hasSeedAxis, majorityPhase, seedsText, statusCounts } from './seeds.js';
import { axisPositions, axisValues, isLog2Axis, phaseRegions, runsAt, type SweepValue } from './sweep.js';

/** Heatmap axes by default: rows are the number of tasks (as in GPICL's heatmaps), columns the next axis. */
export function defaultAxes(paths: readonly string[]): { x: string | null; y: string | null } {
  const y = paths.length > 1 ? (paths.find((p) => p.endsWith('numTasks')) ?? paths[0]) : null;
  return { x: paths.find((p) => p !== y) ?? null, y };
}

/** The phase code's axis ticks, labelled with the phase names. */
export const PHASE_TICKS: Tick[] = PHASE_LABELS.map((label, value) => ({ value, label }));

/** Where the axes a chart does not draw are held: at the value picked, else at their largest. */
export function heldPoint(
  runs: readonly Run[],
  paths: readonly string[],
  picked: Readonly<Record<string, SweepValue>> = {},
): SweepPoint {
  return Object.fromEntries(paths.map((p) => [p, picked[p] ?? axisValues(runs, p).at(-1)!]));
}

/** A run's summary figure where it is a number. */
export function figureOf(run: Run | undefined, figure: string): number | null {
  return run?.summary?.figures[figure] ?? null;
}

/** A run's phase as text, marked where it is uncertain; null before the run has one. */
export function runPhaseText(run: Run | undefined, short = false): string | null {
  const summary = run?.summary;
  return summary?.phase ? phaseText(summary.phase, summary.phaseConfidence, short) : null;
}

export const HEATMAP_EXTRA_COLUMNS = ['phase', 'run', 'status'];

export interface Grid {
  xPath: string;
  xValues: readonly SweepValue[];
  /** Null for a one-axis sweep: one row. */
  yPath: string | null;
  yValues: readonly (SweepValue | null)[];
  /** The other axes' values. */
  held: SweepPoint;
}

/** Whether a chart over these axes averages over seeds: the runs have a seed axis it neither draws nor holds. */
export function bySeeds(runs: readonly Run[], paths: readonly string[]): boolean {
  return hasSeedAxis(runs) && !paths.includes(SEED_AXIS);
}

/** The phase most of the runs end in, with how many agree: `task ID 2/3` (or `task identification 2/3`). */
export function majorityText(runs: readonly Run[], short: boolean): string | null {
  const m = majorityPhase(runs);
  if (!m) return null;
  const i = phaseIndex(m.phase);
  return `${short ? PHASE_SHORT[i] : PHASE_LABELS[i]} ${m.agree}/${m.n}`;
}

/** A cell of a point's seeds: their figure's mean ± s.e., the phase most of them end in with the agreement. */
function seedCell(runs: readonly Run[], figure: string, x: number, y: number): HeatCell {
  const s = figureSpread(runs, figure);
  const ids = runs.map((r) => `r${r.id}`).join(' ');
  const phase = majorityText(runs, false);
  const note = majorityText(runs, true) ?? (runs.length ? statusCounts(runs) : 'no run');
  return {
    x,
    y,
    value: s?.mean ?? null,
    seeds: { n: s?.n ?? 0, se: s?.se ?? null },
    // As for one run: finished seeds without the figure show a dash above their phase.
    note: !s && runs.some((r) => r.summary) ? `–\n${note}` : note,
    detail: [ids, phase, statusCounts(runs)].filter(Boolean).join(' · ') || 'no run',
    extra: [phase, ids || null, statusCounts(runs) || null],
  };
}

/**
 * One cell per grid point: the run's figure, its phase (or status) as the note; where the grid names no seed of a
 * sweep over seeds, the mean ± s.e. over the point's seeds.
 */
export function heatCells(runs: readonly Run[], grid: Grid, figure: string): HeatCell[] {
  const seeds = bySeeds(runs, [grid.xPath, grid.yPath ?? '', ...Object.keys(grid.held)]);
  return grid.yValues.flatMap((yv, y) =>
    grid.xValues.map((xv, x) => {
      const at = runsAt(runs, { ...grid.held, [grid.xPath]: xv, ...(grid.yPath ? { [grid.yPath]: yv! } : {}) });
      if (seeds) return seedCell(at, figure, x, y);
      const run = at[0];
      const value = figureOf(run, figure);
      const phase = runPhaseText(run);
      const note = runPhaseText(run, true) ?? run?.status ?? 'no run';
      return {
        x,
        y,
        value,
        // A finished run without the figure (no `seen` split where every task is fresh): a dash above its phase.
        note: run?.summary && value === null ? `–\n${note}` : note,
        detail: run ? `r${run.id} · ${phase ?? run.status}` : 'no run',
        extra: [phase, run ? `r${run.id}` : null, run?.status ?? null],
      };
    }),
  );
}

/** Axis labels for a heatmap: powers of two from 1024 up as 2ⁿ. */
export function sweepLabels(values: readonly (SweepValue | null)[]): string[] {
  return values.map((v) => (v === null ? '' : formatSweepValue(v)));
}

/** One axis of a sweep as a line chart's x: each value's position, tick and runs (the others held). */
export interface SweepAxis {
  path: string;
  values: SweepValue[];
  positions: number[];
  ticks: Tick[];
  /** The runs at each value: one, or each seed's where the held point names no seed of a sweep over seeds. */
  runs: Run[][];
  /** Whether the runs at a value are seeds, drawn as their mean ± s.e. */
  seeds: boolean;
  /** The axis name, marked '(log2)' where the positions are log2 of the values. */
  xName: string;
}

export function sweepAxis(runs: readonly Run[], path: string, held: SweepPoint, log?: boolean): SweepAxis {
  const values = axisValues(runs, path);
  const positions = axisPositions(values, log);
  return {
    path,
    values,
    positions,
    ticks: positions.map((value, i) => ({ value, label: formatSweepValue(values[i]) })),
    runs: values.map((v) => runsAt(runs, { ...held, [path]: v })),
    seeds: bySeeds(runs, [path, ...Object.keys(held)]),
    xName: `${path}${(log ?? isLog2Axis(values)) ? ' (log2)' : ''}`,
  };
}

/** A summary figure of each run along the axis (gaps where a run has none); over seeds, their mean and s.e. */
export function figureLine(axis: SweepAxis, figure: string): Pick<ChartSeries, 'data' | 'spread'> {
  if (!axis.seeds) return { data: axis.positions.map((x, j) => [x, figureOf(axis.runs[j][0], figure)]) };
  const spreads = axis.runs.map((at) => figureSpread(at, figure));
  return {
    data: axis.positions.map((x, j) => [x, spreads[j]?.mean ?? null]),
    spread: spreads.map((s) => s?.se ?? null),
  };
}

/** The most runs at one value of the axis: how many seeds its means are of (at most). */
export function seedCount(axis: SweepAxis): number {
  return Math.max(0, ...axis.runs.map((at) => at.length));
}

/** The GPICL phase plot: within-sequence improvement, one line per evaluation split, phase regions shaded. */
export interface PhasePlot {
  series: ChartSeries[];
  bands: Band[];
  table: DataTable;
}

/** Within-sequence improvement along the axis: `figureKeys` are the figures the runs have (splits come from them). */
export function phasePlot(axis: SweepAxis, figureKeys: readonly string[], objective: ObjectiveInfo): PhasePlot {
  const improvement = objective.figures.improvement.name;
  const splits = sortSplits(
    figureKeys.flatMap((k) => (parseEvalKey(k)?.name === improvement ? [parseEvalKey(k)!.split] : [])),
  );
  const key = (split: string) => evalMetricKey(split, improvement);
  const seeds = axis.seeds ? ` · ${seedsText(seedCount(axis))}` : '';
  return {
    series: splits.map((split, i) => ({ name: `${split}${seeds}`, ...figureLine(axis, key(split)), colorIndex: i })),
    // Over seeds, each value's region is the phase most of its seeds end in.
    bands: phaseRegions(
      axis.positions,
      axis.runs.map((at) => majorityPhase(at)?.phase),
      axis.seeds ? [] : axis.runs.map((at) => at[0]?.summary?.phaseConfidence),
    ),
    table: {
      columns: [axis.path, 'split', improvement, ...(axis.seeds ? [SPREAD, 'n'] : []), 'phase', 'run'],
      rows: axis.values.flatMap((v, j) => {
        const at = axis.runs[j];
        const phase = axis.seeds ? majorityText(at, false) : runPhaseText(at[0]);
        const ids = at.map((r) => `r${r.id}`).join(' ') || null;
        return splits.map((split) => {
          const s = figureSpread(at, key(split));
          return [v, split, s?.mean ?? null, ...(axis.seeds ? [s?.se ?? null, s?.n ?? 0] : []), phase, ids];
        });
      }),
    },
  };
}
