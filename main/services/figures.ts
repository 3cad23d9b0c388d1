// Figures of stored runs, drawn with the page's own chart options (shared/figures): a sweep's phase
// heatmap and phase plot, summary figures along an axis, a scatter of runs, step curves and in-context
// learning curves. Each returns the chart's option with a title, a subtitle and notes for the terminal.
import type { ChartColors } from '../../shared/figures/colors.js';
import { chanceLine, contextLines } from '../../shared/figures/context.js';
import {
  curveObjective,
  ema,
  evalSteps,
  formatSweepValue,
  lastValues,
  splitsOf,
  type XY,
} from '../../shared/figures/data.js';
import type { ChartOption } from '../../shared/figures/option.js';
import { heatmapOption } from '../../shared/figures/heatmap.js';
import { lineOption, type ChartSeries } from '../../shared/figures/line.js';
import {
  defaultAxes,
  figureLine,
  figureOf,
  heatCells,
  phasePlot,
  sweepAxis,
  sweepLabels,
} from '../../shared/figures/phases.js';
import { evalMetricKey, parseEvalKey } from '../../shared/metrics.js';
import { SPLITS, lowerIsBetter, objectiveOf } from '../../shared/objectives/index.js';
import { scatterOption } from '../../shared/figures/scatter.js';
import { axisValues } from '../../shared/figures/sweep.js';
import {
  FigureError,
  drawable,
  holdOthers,
  noteMissing,
  numericFigures,
  pickRuns,
  requireDrawable,
  requireFigure,
  runLabel,
  selectRuns,
  subtitle,
  type LabReader,
  type Selection,
} from './figureRuns.js';
import type { Run } from '../../shared/api.js';
import { meanLines, seedGroups, statusCounts } from '../../shared/figures/seeds.js';

export interface Figure {
  option: ChartOption;
  title: string;
  subtitle: string;
  /** Said on stderr: axes held, runs left out. */
  notes: string[];
}

/**
 * What every figure is asked: the experiment, `--where` (axis path → value as typed), the colours, and whether to
 * draw the runs of a sweep over seeds one by one rather than each point's mean ± s.e. over its seeds.
 */
export interface FigureBase {
  experiment: string;
  where: Record<string, string>;
  colors: ChartColors;
  singleRuns: boolean;
}

const LINE_TYPES = ['solid', 'dashed', 'dotted'] as const;

/** The runs a figure draws one set of lines for: each run, or each sweep point's seeds where they are averaged. */
function lineUnits(sel: Selection, runs: readonly Run[]): Run[][] {
  return sel.seeds ? seedGroups(runs).map((g) => g.runs) : runs.map((r) => [r]);
}

/** Each unit's lines: a run's as they are, a point's seeds as their mean with its standard error shaded. */
function unitLines(sel: Selection, perRun: ChartSeries[][]): ChartSeries[] {
  return sel.seeds ? meanLines(perRun) : perRun.flat();
}

/** A figure's key without the `eval/` prefix, for titles. */
const short = (figure: string) => (parseEvalKey(figure) ? figure.slice(figure.indexOf('/') + 1) : figure);

/** Points a log axis can draw: non-positive values become gaps, counted in a note. */
function logSafe(series: ChartSeries[], axis: 0 | 1, flag: string, notes: string[]): ChartSeries[] {
  let dropped = 0;
  const out = series.map((s) => ({
    ...s,
    data: s.data.flatMap((p): XY[] => {
      const v = p[axis];
      if (v === null || v > 0) return [p];
      dropped++;
      return axis === 1 ? [[p[0], null]] : [];
    }),
  }));
  if (dropped) notes.push(`${flag}: ${dropped} points at or below zero left out`);
  return out;
}

export interface HeatmapRequest extends FigureBase {
  x?: string;
  y?: string;
  /** Default: the within-sequence improvement on unseen tasks. */
  figure?: string;
}

/** The Phases view's heatmap: a figure over two sweep axes, each cell labelled with its value and phase. */
export async function heatmapFigure(lab: LabReader, req: HeatmapRequest): Promise<Figure> {
  const sel = await selectRuns(lab, req.experiment, req.where, req.singleRuns);
  const free = drawable(sel).filter((p) => !(p in sel.where));
  let { x: xPath, y: yPath } = defaultAxes(free);
  if (req.x !== undefined || req.y !== undefined) {
    xPath = req.x ?? free.find((p) => p !== req.y) ?? null;
    const others = free.filter((p) => p !== xPath);
    yPath = req.y ?? others.find((p) => p.endsWith('numTasks')) ?? others[0] ?? null;
  }
  if (!xPath)
    throw new FigureError(
      `e${sel.experiment.id} has no sweep axis left to draw (its axes: ${sel.paths.join(', ') || 'none'})`,
    );
  for (const [flag, path] of [
    ['--x', xPath],
    ['--y', yPath],
  ] as const) {
    if (path === null) continue;
    requireDrawable(sel, path, flag);
    if (path in sel.where) throw new FigureError(`${flag} ${path}: the axis is fixed by --where`);
  }
  if (xPath === yPath) throw new FigureError(`--x and --y are both ${xPath}`);
  const improvement = objectiveOf(sel.experiment.spec.task).figures.improvement.name;
  const figure = requireFigure(sel, sel.runs, req.figure ?? evalMetricKey(SPLITS.unseen, improvement), '--figure');
  const notes: string[] = [];
  const held = holdOthers(sel, [xPath, ...(yPath ? [yPath] : [])], notes);
  const xValues = axisValues(sel.runs, xPath);
  const yValues = yPath ? axisValues(sel.runs, yPath) : [null];
  const cells = heatCells(sel.runs, { xPath, xValues, yPath, yValues, held }, figure);
  const drawn = sel.runs.filter((r) => Object.entries(held).every(([p, v]) => r.sweepPoint[p] === v));
  noteMissing(drawn, (r) => figureOf(r, figure) !== null, figure, notes);
  const option = heatmapOption(
    {
      xName: xPath,
      yName: yPath ?? '',
      xLabels: sweepLabels(xValues),
      yLabels: sweepLabels(yValues),
      valueName: figure,
      cells,
      lowerIsBetter: lowerIsBetter(figure),
    },
    req.colors,
  );
  return { option, title: short(figure), subtitle: subtitle(sel, held), notes };
}

export interface PhasePlotRequest extends FigureBase {
  x?: string;
}

/** The GPICL phase plot: within-sequence improvement along an axis, one line per split, phase regions shaded. */
export async function phasePlotFigure(lab: LabReader, req: PhasePlotRequest): Promise<Figure> {
  const sel = await selectRuns(lab, req.experiment, req.where, req.singleRuns);
  const free = drawable(sel).filter((p) => !(p in sel.where));
  const path = req.x ?? free.find((p) => p.endsWith('numTasks')) ?? (free.length === 1 ? free[0] : null);
  if (!path)
    throw new FigureError(
      `e${sel.experiment.id} has no number-of-tasks axis: ` +
        `name one with --x (its axes: ${sel.paths.join(', ') || 'none'})`,
    );
  requireDrawable(sel, path, '--x');
  const notes: string[] = [];
  const held = holdOthers(sel, [path], notes);
  const axis = sweepAxis(sel.runs, path, held);
  const objective = objectiveOf(sel.experiment.spec.task);
  const plot = phasePlot(axis, numericFigures(sel.runs), objective);
  if (!plot.series.length)
    throw new FigureError(
      `no run of e${sel.experiment.id} has a within-sequence improvement yet (${statusCounts(sel.runs)})`,
    );
  noteMissing(axis.runs.flat(), (r) => r.summary !== null, 'figures', notes);
  const yName = objective.figures.improvement.name;
  const option = lineOption(
    { series: plot.series, xName: axis.xName, yName, xTicks: axis.ticks, bands: plot.bands, zoom: false },
    req.colors,
  );
  return { option, title: 'Within-sequence improvement', subtitle: subtitle(sel, held), notes };
}

export interface VsRequest extends FigureBase {
  x: string;
  figures: string[];
  by?: string;
  logX: boolean;
  logY: boolean;
}

/** Summary figures along a sweep axis: one line per figure, and per value of `by`. */
export async function vsFigure(lab: LabReader, req: VsRequest): Promise<Figure> {
  const sel = await selectRuns(lab, req.experiment, req.where, req.singleRuns);
  requireDrawable(sel, req.x, '--x');
  if (req.by !== undefined) {
    requireDrawable(sel, req.by, '--by');
    if (req.by === req.x) throw new FigureError(`--x and --by are both ${req.x}`);
  }
  const figures = req.figures.map((f) => requireFigure(sel, sel.runs, f, '--figure'));
  const values = axisValues(sel.runs, req.x);
  if (req.logX && !values.every((v) => typeof v !== 'number' || v > 0))
    throw new FigureError(`--log-x: ${req.x} takes values at or below zero`);
  const notes: string[] = [];
  const held = holdOthers(sel, [req.x, ...(req.by ? [req.by] : [])], notes);
  const byValues = req.by ? axisValues(sel.runs, req.by) : [null];
  const byName = req.by?.split('.').pop();
  const axes = byValues.map((b) => sweepAxis(sel.runs, req.x, req.by ? { ...held, [req.by]: b! } : held, req.logX));
  let series: ChartSeries[] = figures.flatMap((figure, f) =>
    axes.map((axis, i) => {
      const by = req.by ? `${byName} = ${formatSweepValue(byValues[i]!)}` : '';
      const name = figures.length > 1 ? [short(figure), by].filter(Boolean).join(', ') : by || short(figure);
      return {
        name,
        ...figureLine(axis, figure),
        colorIndex: req.by ? i : f,
        lineType: req.by ? LINE_TYPES[f % LINE_TYPES.length] : 'solid',
      };
    }),
  );
  if (req.logY) series = logSafe(series, 1, '--log-y', notes);
  noteMissing(
    axes.flatMap((a) => a.runs.flat()),
    (r) => figures.every((f) => figureOf(r, f) !== null),
    'figures',
    notes,
  );
  const option = lineOption(
    {
      series,
      xName: axes[0].xName,
      yName: figures.length === 1 ? short(figures[0]) : '',
      xTicks: axes[0].ticks,
      logY: req.logY,
      zoom: false,
    },
    req.colors,
  );
  return {
    option,
    title: `${figures.map(short).join(', ')} vs ${req.x.split('.').pop()}`,
    subtitle: subtitle(sel, held),
    notes,
  };
}

export interface ScatterRequest extends Omit<FigureBase, 'experiment' | 'singleRuns'> {
  experiments: string[];
  x: string;
  y: string;
  color?: string;
  logX: boolean;
  logY: boolean;
}

/** One point per run, summary figure against summary figure; one series (shape, legend entry) per experiment. */
export async function scatterFigure(lab: LabReader, req: ScatterRequest): Promise<Figure> {
  const notes: string[] = [];
  // One point per run: seeds are points of their own.
  const selections = await Promise.all(req.experiments.map((e) => selectRuns(lab, e, req.where, true)));
  const groups = selections.map((sel) => {
    for (const [flag, figure] of [
      ['--x', req.x],
      ['--y', req.y],
      ['--color', req.color],
    ] as const)
      if (figure !== undefined) requireFigure(sel, sel.runs, figure, flag);
    const drawn = sel.runs.filter((r) => figureOf(r, req.x) !== null && figureOf(r, req.y) !== null);
    noteMissing(sel.runs, (r) => drawn.includes(r), `${req.x} and ${req.y}`, notes);
    const points = drawn.map((r) => ({
      name: `r${r.id} ${runLabel(sel, r, sel.runs)}`,
      label: runLabel(sel, r, sel.runs),
      x: figureOf(r, req.x)!,
      y: figureOf(r, req.y)!,
      color: req.color ? figureOf(r, req.color) : null,
    }));
    return { name: sel.experiment.name, points };
  });
  for (const [flag, log, axis] of [
    ['--log-x', req.logX, 'x'],
    ['--log-y', req.logY, 'y'],
  ] as const) {
    if (log && groups.some((g) => g.points.some((p) => p[axis] <= 0)))
      throw new FigureError(`${flag}: ${axis === 'x' ? req.x : req.y} has values at or below zero`);
  }
  const input = {
    xName: req.x,
    yName: req.y,
    groups,
    colorName: req.color,
    lowerIsBetter: req.color ? lowerIsBetter(req.color) : false,
    logX: req.logX,
    logY: req.logY,
  };
  const names = selections.map((s) => `e${s.experiment.id} ${s.experiment.name}`);
  const colour = req.color ? [`colour: ${req.color}`] : [];
  return {
    option: scatterOption(input, req.colors),
    title: `${short(req.y)} vs ${short(req.x)}`,
    subtitle: [...names, ...colour].join(' · '),
    notes,
  };
}

export interface LinesRequest extends FigureBase {
  metric: string;
  runs: string[];
  smooth: number;
  logX: boolean;
  logY: boolean;
}

/**
 * A step metric of each run (smoothed by an EMA of weight `smooth`), one line per run named by its sweep point; over
 * seeds, one per point: the mean of its seeds' (smoothed) lines with the standard error shaded.
 */
export async function linesFigure(lab: LabReader, req: LinesRequest): Promise<Figure> {
  const sel = await selectRuns(lab, req.experiment, req.where, req.singleRuns);
  const runs = pickRuns(sel, req.runs);
  const keys = [...new Set((await Promise.all(runs.map((r) => lab.listMetricKeys(r.id)))).flat())].sort();
  if (!keys.includes(req.metric)) {
    if (!keys.length)
      throw new FigureError(`no run of e${sel.experiment.id} drawn has metrics yet (${statusCounts(runs)})`);
    throw new FigureError(`--metric ${req.metric}: no run drawn has this metric (metrics: ${keys.join(', ')})`);
  }
  const notes: string[] = [];
  const stored = await lab.getSeries(
    runs.map((r) => r.id),
    [req.metric],
    { maxPoints: 1000 },
  );
  const drawn = runs.filter((r) => stored.some((s) => s.runId === r.id && s.steps.length));
  noteMissing(runs, (r) => drawn.includes(r), req.metric, notes);
  let series: ChartSeries[] = lineUnits(sel, drawn).flatMap((unit, i) =>
    unitLines(
      sel,
      unit.map((run) => [
        {
          name: runLabel(sel, run, runs),
          data: ema(lastValues(stored.find((s) => s.runId === run.id)), req.smooth),
          colorIndex: i,
        },
      ]),
    ),
  );
  if (req.logX) series = logSafe(series, 0, '--log-x', notes);
  if (req.logY) series = logSafe(series, 1, '--log-y', notes);
  const option = lineOption(
    { series, xName: 'step', yName: req.metric, logX: req.logX, logY: req.logY, zoom: false },
    req.colors,
  );
  const smoothing = req.smooth > 0 ? [`smoothed (EMA ${req.smooth})`] : [];
  return { option, title: req.metric, subtitle: [subtitle(sel, sel.where), ...smoothing].join(' · '), notes };
}

export interface ContextRequest extends FigureBase {
  split: string;
  runs: string[];
  /** An evaluation step, or the last one of each run. */
  step: number | 'last';
  baselines: boolean;
  logY: boolean;
}

/**
 * In-context (or within-lifetime) curves of one split against position, one line per run (and its baselines); over
 * seeds, per sweep point the mean of its seeds' curves with the standard error shaded.
 */
export async function contextFigure(lab: LabReader, req: ContextRequest): Promise<Figure> {
  const sel = await selectRuns(lab, req.experiment, req.where, req.singleRuns);
  const runs = pickRuns(sel, req.runs);
  const notes: string[] = [];
  const all = await Promise.all(runs.map(async (run) => ({ run, curves: await lab.getEvalCurves(run.id) })));
  const evaluated = all.filter((c) => curveObjective(c.curves));
  noteMissing(runs, (r) => evaluated.some((c) => c.run === r), 'evaluations', notes);
  if (!evaluated.length)
    throw new FigureError(`no run of e${sel.experiment.id} drawn has been evaluated yet (${statusCounts(runs)})`);
  const objectives = new Set(evaluated.map((c) => curveObjective(c.curves)!));
  if (objectives.size > 1)
    throw new FigureError(
      'the runs drawn mix objectives (accuracy and MSE curves): pick runs of one task family with --runs',
    );
  const objective = [...objectives][0];
  const metric = objective.curve.name;
  const splits = splitsOf(evaluated.flatMap((c) => c.curves));
  if (!splits.includes(req.split))
    throw new FigureError(`--split ${req.split}: the runs drawn were evaluated on ${splits.join(', ')}`);
  const units = lineUnits(
    sel,
    evaluated.map((c) => c.run),
  );
  const single = units.length === 1;
  const steps = new Set<number>();
  const curvesOf = (run: Run) => evaluated.find((c) => c.run === run)!.curves;
  let series: ChartSeries[] = units.flatMap((unit, i) =>
    unitLines(
      sel,
      unit.map((run) => {
        const available = evalSteps(curvesOf(run), metric);
        const step = req.step === 'last' ? available.at(-1)! : req.step;
        if (!available.includes(step))
          throw new FigureError(`--step ${step}: r${run.id} was evaluated at steps ${available.join(', ')}`);
        steps.add(step);
        const label = runLabel(sel, run, runs);
        const name = (kind: string) =>
          single ? kind : kind === 'model' && !req.baselines ? label : `${label} ${kind}`;
        return contextLines(curvesOf(run), {
          split: req.split,
          step,
          metric,
          colorIndex: i,
          baselines: req.baselines,
          name,
          ownColors: single,
        });
      }),
    ),
  );
  // One chance line where every run drawn has the same (a sweep over the number of classes has several: none).
  const chances = new Set(evaluated.map(({ run }) => objective.chance?.(run.spec.task) ?? null));
  const [chance] = chances;
  if (chances.size === 1 && chance !== null && chance !== undefined)
    series = [...series, ...chanceLine(series, chance)];
  if (req.logY) series = logSafe(series, 1, '--log-y', notes);
  const option = lineOption(
    {
      series,
      xName: objective.positionName(evaluated[0].run.spec.task),
      yName: objective.curve.label,
      logY: req.logY,
      zoom: false,
    },
    req.colors,
  );
  const at = steps.size === 1 ? `step ${[...steps][0]}` : 'last evaluation';
  const title = `${objective.curveTitle}: ${req.split}`;
  return {
    option,
    title,
    subtitle: [subtitle(sel, sel.where), single ? units[0].map((r) => `r${r.id}`).join(' ') : '', at]
      .filter(Boolean)
      .join(' · '),
    notes,
  };
}
