// `metalab figure`: an SVG figure of stored runs, drawn with the page's own chart options and rendered by
// ECharts' server-side SVG renderer (no browser).
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CHART_COLORS, type ThemeName } from '../../shared/figures/colors.js';
import { FigureError, type LabReader } from '../services/figureRuns.js';
import {
  contextFigure,
  heatmapFigure,
  linesFigure,
  phasePlotFigure,
  scatterFigure,
  vsFigure,
  type Figure,
  type FigureBase,
} from '../services/figures.js';
import { databaseFile, defaultHome } from '../services/paths.js';
import { UsageError, positiveInt } from './args.js';
import { openLab } from './lab.js';

const OPTIONS = {
  x: { type: 'string' },
  y: { type: 'string' },
  figure: { type: 'string', multiple: true },
  by: { type: 'string' },
  color: { type: 'string' },
  metric: { type: 'string' },
  runs: { type: 'string' },
  smooth: { type: 'string' },
  split: { type: 'string' },
  step: { type: 'string' },
  baselines: { type: 'boolean' },
  'single-runs': { type: 'boolean' },
  'log-x': { type: 'boolean' },
  'log-y': { type: 'boolean' },
  where: { type: 'string', multiple: true },
  title: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  theme: { type: 'string' },
  out: { type: 'string' },
} as const;
type Option = keyof typeof OPTIONS;
type Values = ReturnType<typeof parse>['values'];

const COMMON: Option[] = ['where', 'title', 'width', 'height', 'theme', 'out'];

type Draw = (lab: LabReader, base: FigureBase) => Promise<Figure>;

/**
 * Each kind: the options it takes besides the common ones, and its request from them (checked before the lab opens).
 */
const KINDS: Record<string, { options: Option[]; request: (v: Values) => Draw }> = {
  heatmap: {
    options: ['x', 'y', 'figure', 'single-runs'],
    request: (v) => {
      if ((v.figure?.length ?? 0) > 1) throw new UsageError('metalab figure heatmap takes one --figure');
      return (lab, base) => heatmapFigure(lab, { ...base, x: v.x, y: v.y, figure: v.figure?.[0] });
    },
  },
  'phase-plot': {
    options: ['x', 'single-runs'],
    request: (v) => (lab, base) => phasePlotFigure(lab, { ...base, x: v.x }),
  },
  vs: {
    options: ['x', 'figure', 'by', 'log-x', 'log-y', 'single-runs'],
    request: (v) => {
      const x = required(v.x, 'vs', '--x PATH');
      const figures = v.figure ?? [];
      if (!figures.length) throw new UsageError('metalab figure vs needs --figure F (one or more)');
      return (lab, base) => vsFigure(lab, { ...base, x, figures, by: v.by, ...logs(v) });
    },
  },
  scatter: {
    options: ['x', 'y', 'color', 'log-x', 'log-y'],
    request: (v) => {
      const [x, y] = [required(v.x, 'scatter', '--x F'), required(v.y, 'scatter', '--y F')];
      return (lab, { experiment, ...base }) =>
        scatterFigure(lab, { ...base, experiments: experiment.split(','), x, y, color: v.color, ...logs(v) });
    },
  },
  lines: {
    options: ['metric', 'runs', 'smooth', 'log-x', 'log-y', 'single-runs'],
    request: (v) => {
      const [metric, smooth] = [required(v.metric, 'lines', '--metric KEY'), smoothing(v.smooth)];
      return (lab, base) => linesFigure(lab, { ...base, metric, runs: runList(v.runs), smooth, ...logs(v) });
    },
  },
  context: {
    options: ['split', 'runs', 'step', 'baselines', 'log-y', 'single-runs'],
    request: (v) => {
      const [split, step] = [required(v.split, 'context', '--split S'), evalStep(v.step)];
      return (lab, base) =>
        contextFigure(lab, {
          ...base,
          split,
          runs: runList(v.runs),
          step,
          baselines: v.baselines ?? false,
          logY: v['log-y'] ?? false,
        });
    },
  },
};

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    // node:util's messages run on with advice about '--'; the first sentence names the problem.
    throw new UsageError(`metalab figure: ${(err as Error).message.split('. ')[0]}`);
  }
}

function required(value: string | undefined, kind: string, flag: string): string {
  if (value === undefined) throw new UsageError(`metalab figure ${kind} needs ${flag}`);
  return value;
}

function logs(v: Values): { logX: boolean; logY: boolean } {
  return { logX: v['log-x'] ?? false, logY: v['log-y'] ?? false };
}

function runList(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').filter(Boolean);
}

function smoothing(value: string | undefined): number {
  if (value === undefined) return 0;
  const w = Number(value);
  if (!(w >= 0 && w < 1))
    throw new UsageError(`--smooth must be a weight from 0 up to (not including) 1, not '${value}'`);
  return w;
}

function evalStep(value: string | undefined): number | 'last' {
  if (value === undefined || value === 'last') return 'last';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--step must be an evaluation step or 'last', not '${value}'`);
  return n;
}

function wherePoint(list: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(
    list.map((item) => {
      const at = item.indexOf('=');
      if (at <= 0) throw new UsageError(`--where takes PATH=VALUE, not '${item}'`);
      return [item.slice(0, at).trim(), item.slice(at + 1).trim()];
    }),
  );
}

export async function commandFigure(args: string[]): Promise<number> {
  const { values: v, positionals } = parse(args);
  const [kind, experiment, ...rest] = positionals;
  const spec = Object.hasOwn(KINDS, kind) ? KINDS[kind] : undefined;
  if (!spec)
    throw new UsageError(
      kind
        ? `unknown figure '${kind}' (figures: ${Object.keys(KINDS).join(', ')})`
        : `metalab figure needs a kind: ${Object.keys(KINDS).join(', ')}`,
    );
  if (!experiment || rest.length)
    throw new UsageError(
      `metalab figure ${kind} takes one experiment id${kind === 'scatter' ? ' (or several: e3,e4)' : ''}`,
    );
  if (kind !== 'scatter' && experiment.includes(','))
    throw new UsageError(`metalab figure ${kind} draws one experiment, not '${experiment}'`);
  for (const option of Object.keys(v) as Option[]) {
    if (!COMMON.includes(option) && !spec.options.includes(option))
      throw new UsageError(`--${option} does not apply to metalab figure ${kind}`);
  }
  const out = required(v.out, kind, '--out FILE.svg');
  if (!out.toLowerCase().endsWith('.svg')) throw new UsageError(`--out names an .svg file, not '${out}'`);
  const theme = (v.theme ?? 'light') as ThemeName;
  if (!(theme in CHART_COLORS)) throw new UsageError(`--theme must be light or dark, not '${v.theme}'`);
  const width = positiveInt(v.width, '--width') ?? 720;
  const height = positiveInt(v.height, '--height') ?? 420;
  const where = wherePoint(v.where);
  const draw = spec.request(v);

  const file = databaseFile(defaultHome());
  if (!fs.existsSync(file)) return fail(`no runs are stored yet (no database at ${file})`);
  const lab = openLab();
  let svg: string;
  let figure: Figure;
  try {
    const colors = CHART_COLORS[theme];
    figure = await draw(lab, { experiment, where, colors, singleRuns: v['single-runs'] ?? false });
    const title = v.title ?? figure.title;
    // ECharts loads only once there is something to draw (it takes longer than the checks before it).
    const { figureSvg } = await import('./svg.js');
    svg = figureSvg(figure.option, { width, title, subtitle: title ? figure.subtitle : undefined, colors }, height);
  } catch (err) {
    if (err instanceof FigureError) return fail(err.message);
    throw err;
  } finally {
    await lab.close();
  }
  try {
    fs.writeFileSync(out, svg);
  } catch (err) {
    return fail(`cannot write ${out} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  for (const note of figure.notes) process.stderr.write(`note: ${note}\n`);
  process.stdout.write(`wrote ${path.resolve(out)}\n`);
  return 0;
}

function fail(message: string): number {
  process.stderr.write(`error: ${message}\nno figure was written.\n`);
  return 2;
}
