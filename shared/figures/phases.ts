// A sweep's phase diagram as the Phases view and the CLI's figures draw it: heatmap cells over two axes
// (each labelled with its run's phase), and summary figures along one axis with the phase regions shaded.
import type { Run } from '../api.js';
import { evalMetricKey, parseEvalKey } from '../metrics.js';
import { sortSplits, type ObjectiveInfo } from '../objectives/index.js';
import { PHASE_LABELS } from '../results.js';
import type { SweepPoint } from '../spec.js';
import { PHASE_SHORT, formatSweepValue, phaseIndex, type Band, type DataTable, type XY } from './data.js';
import type { HeatCell } from './heatmap.js';
import type { ChartSeries, Tick } from './line.js';
import { axisPositions, axisValues, isLog2Axis, phaseRegions, runAt, type SweepValue } from './sweep.js';

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

function phaseOf(run: Run | undefined): number {
  return phaseIndex(run?.summary?.phase);
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

/** One cell per grid point: the run's figure, its phase (or status) as the note. */
export function heatCells(runs: readonly Run[], grid: Grid, figure: string): HeatCell[] {
  return grid.yValues.flatMap((yv, y) =>
    grid.xValues.map((xv, x) => {
      const run = runAt(runs, { ...grid.held, [grid.xPath]: xv, ...(grid.yPath ? { [grid.yPath]: yv! } : {}) });
      const phase = phaseOf(run);
      return {
        x,
        y,
        value: figureOf(run, figure),
        note: phase >= 0 ? PHASE_SHORT[phase] : (run?.status ?? 'no run'),
        detail: run ? `r${run.id} · ${phase >= 0 ? PHASE_LABELS[phase] : run.status}` : 'no run',
        extra: [phase >= 0 ? PHASE_LABELS[phase] : null, run ? `r${run.id}` : null, run?.status ?? null],
      };
    }),
  );
}

/** Axis labels for a heatmap: powers of two from 1024 up as 2ⁿ. */
export function sweepLabels(values: readonly (SweepValue | null)[]): string[] {
  return values.map((v) => (v === null ? '' : formatSweepValue(v)));
}

/** One axis of a sweep as a line chart's x: each value's position, tick and run (the others held). */
export interface SweepAxis {
  path: string;
  values: SweepValue[];
  positions: number[];
  ticks: Tick[];
  runs: (Run | undefined)[];
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
    runs: values.map((v) => runAt(runs, { ...held, [path]: v })),
    xName: `${path}${(log ?? isLog2Axis(values)) ? ' (log2)' : ''}`,
  };
}

/** A summary figure of each run along the axis (gaps where a run has none). */
export function figureLine(axis: SweepAxis, figure: string): XY[] {
  return axis.positions.map((x, j) => [x, figureOf(axis.runs[j], figure)]);
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
  return {
    series: splits.map((split, i) => ({ name: split, data: figureLine(axis, key(split)), colorIndex: i })),
    bands: phaseRegions(
      axis.positions,
      axis.runs.map((r) => r?.summary?.phase),
    ),
    table: {
      columns: [axis.path, 'split', improvement, 'phase', 'run'],
      rows: axis.values.flatMap((v, j) => {
        const run = axis.runs[j];
        const phase = phaseOf(run);
        return splits.map((split) => [
          v,
          split,
          figureOf(run, key(split)),
          phase >= 0 ? PHASE_LABELS[phase] : null,
          run ? `r${run.id}` : null,
        ]);
      }),
    },
  };
}
