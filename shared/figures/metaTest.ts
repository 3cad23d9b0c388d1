// The meta-test of a learned objective: on each environment, the evaluation return of every learner against the
// environment steps it took (a learned objective beside a random one, TD3, PPO, RL²…), one line per learner: the
// mean over its seeds, with a band of ± its standard error where there are several (as seeds are shown everywhere:
// ./seeds.ts).
// Pure: the page's Objectives view draws from it.
import type { LineSeriesOption } from 'echarts/charts';
import type { RunSpec, SweepPoint } from '../spec.js';
import type { ChartColors } from './colors.js';
import type { DataTable, XY } from './data.js';
import { formatNumber, formatPoint } from './format.js';
import { learnerLabel, type KnownObjectives } from './learner.js';
import { lineOption } from './line.js';
import type { ChartOption } from './option.js';
import { SPREAD, meanSe } from './seeds.js';

/**
 * y at x on the polyline through `points` (ascending x, gaps skipped), linear between neighbours; null outside
 * its range.
 */
export function interpolate(points: readonly XY[], x: number): number | null {
  let prev: [number, number] | null = null;
  for (const [px, py] of points) {
    if (py === null || !Number.isFinite(py)) continue;
    if (px === x) return py;
    if (px > x) {
      if (!prev) return null;
      return prev[1] + ((py - prev[1]) * (x - prev[0])) / (px - prev[0]);
    }
    prev = [px, py];
  }
  return null;
}

/**
 * Evaluations (training step, return) placed at the environment steps taken by then: `envSteps` is the run's
 * `env_steps` metric (training step, total environment steps; possibly downsampled), read between its points
 * linearly, from 0 at step 0. Evaluations past its last point are left out.
 */
export function atEnvSteps(returns: readonly XY[], envSteps: readonly XY[]): XY[] {
  const known = envSteps.filter((p) => p[1] !== null);
  const withStart: XY[] = known.length && known[0][0] > 0 ? [[0, 0], ...known] : known;
  return returns.flatMap(([step, value]): XY[] => {
    const x = interpolate(withStart, step);
    return x === null || value === null || !Number.isFinite(value) ? [] : [[x, value]];
  });
}

/** A learner's line at one x: the mean over the seeds whose curves reach x, and its standard error. */
export interface SeedPoint {
  x: number;
  mean: number;
  /** Null for one seed. */
  se: number | null;
  /** Seeds whose curve spans x. */
  seeds: number;
}

/** Seeds' curves on the union of their x values (each read between its points), averaged where they overlap. */
export function acrossSeeds(curves: readonly XY[][]): SeedPoint[] {
  const usable = curves.map((c) => c.filter((p): p is [number, number] => p[1] !== null)).filter((c) => c.length);
  const xs = [...new Set(usable.flatMap((c) => c.map((p) => p[0])))].sort((a, b) => a - b);
  return xs.flatMap((x) => {
    const spread = meanSe(usable.map((c) => interpolate(c, x)));
    return spread ? [{ x, mean: spread.mean, se: spread.se, seeds: spread.n }] : [];
  });
}

/** What the meta-test needs of a run. */
export interface MetaTestRun {
  id: number;
  experimentId: number;
  spec: RunSpec;
  sweepPoint: SweepPoint;
}

export interface Learner {
  name: string;
  runIds: number[];
}

/**
 * Runs grouped into learners: the same learner label, algorithm, model and training (the seed, name, backend and
 * evaluation may differ), so that a learner's seeds make one line. Learners that share a label are told apart by
 * their experiments and sweep points.
 */
export function learnersOf(runs: readonly MetaTestRun[], objectives: KnownObjectives): Learner[] {
  const groups = new Map<string, { label: string; runs: MetaTestRun[] }>();
  for (const run of runs) {
    const label = learnerLabel(run.spec, objectives);
    const { task, model, training } = run.spec;
    const key = JSON.stringify([label, task, model, training]);
    const group = groups.get(key) ?? { label, runs: [] };
    group.runs.push(run);
    groups.set(key, group);
  }
  const list = [...groups.values()];
  return list.map(({ label, runs: members }) => {
    const shared = list.filter((g) => g.label === label).length > 1;
    const experiments = [...new Set(members.map((r) => `e${r.experimentId}`))].join(', ');
    const { seed: _seed, ...point } = members[0].sweepPoint;
    const where = Object.keys(point).length ? ` ${formatPoint(point)}` : '';
    return { name: shared ? `${label} · ${experiments}${where}` : label, runIds: members.map((r) => r.id) };
  });
}

export interface LearnerCurve {
  name: string;
  /** Palette index, the same for a learner on every environment's chart. */
  colorIndex: number;
  points: SeedPoint[];
}

export interface MetaTestInput {
  learners: LearnerCurve[];
  xName: string;
  yName: string;
}

const BAND = 'band:';

/** Mean lines, and under each learner with several seeds its band (a stacked pair: mean − s.e., then 2 s.e.). */
export function metaTestOption(input: MetaTestInput, c: ChartColors): ChartOption {
  const { learners, xName, yName } = input;
  const base = lineOption(
    {
      series: learners.map((l) => ({
        name: l.name,
        data: l.points.map((p) => [p.x, p.mean]),
        colorIndex: l.colorIndex,
      })),
      xName,
      yName,
      zoom: false,
    },
    c,
  );
  const bands = learners
    .filter((l) => l.points.some((p) => p.seeds > 1))
    .flatMap((l): LineSeriesOption[] => {
      const color = c.palette[l.colorIndex % c.palette.length];
      const banded = (p: SeedPoint, v: (se: number) => number): XY => [p.x, p.se === null ? null : v(p.se)];
      // Named as the mean line, so that its legend entry shows and hides the band too; stacked whatever the signs
      // (ECharts' default stacks negative and positive values apart).
      const common = {
        type: 'line' as const,
        name: l.name,
        stack: `${BAND}${l.name}`,
        stackStrategy: 'all' as const,
        showSymbol: false,
        color,
      };
      return [
        {
          ...common,
          id: `${BAND}low:${l.name}`,
          data: l.points.map((p) => banded(p, (se) => p.mean - se)),
          lineStyle: { opacity: 0 },
        },
        {
          ...common,
          id: `${BAND}width:${l.name}`,
          data: l.points.map((p) => banded(p, (se) => 2 * se)),
          lineStyle: { opacity: 0 },
          areaStyle: { color, opacity: 0.16 },
        },
      ];
    });
  const tooltip = {
    ...(base.tooltip as object),
    formatter: (params: unknown) => {
      const items = (params as { seriesIndex: number; dataIndex: number; marker: string }[]).filter(
        (p) => p.seriesIndex < learners.length,
      );
      if (!items.length) return '';
      const first = learners[items[0].seriesIndex].points[items[0].dataIndex];
      const rows = items.map(({ seriesIndex, dataIndex, marker }) => {
        const l = learners[seriesIndex];
        const p = l.points[dataIndex];
        const spread = p.se === null ? '' : ` ± ${formatNumber(p.se, 2)} (${SPREAD}, ${p.seeds} seeds)`;
        return `${marker}${l.name}: <b>${formatNumber(p.mean)}</b>${spread}`;
      });
      return [`${xName} ${formatNumber(first?.x)}`, ...rows].join('<br>');
    },
  };
  return { ...base, tooltip, series: [...(base.series as LineSeriesOption[]), ...bands] };
}

/** The chart's data: one row per learner and x. */
export function metaTestTable(input: MetaTestInput): DataTable {
  return {
    columns: ['learner', input.xName, `${input.yName} (mean)`, SPREAD, 'seeds'],
    rows: input.learners.flatMap((l) => l.points.map((p) => [l.name, p.x, p.mean, p.se, p.seeds])),
  };
}

/** A learner's return at the budget every learner of a chart reaches, and at the end of its own curve. */
export interface EqualStepsRow {
  name: string;
  colorIndex: number;
  /** At the equal budget: the mean over seeds, its s.e. (read between points), and how many seeds reach it. */
  mean: number | null;
  se: number | null;
  seeds: number;
  /** The mean at the learner's own last point, and its environment steps there. */
  lastMean: number | null;
  lastX: number | null;
}

/**
 * Learners compared at equal environment steps: the largest x every learner's curve reaches (null when some learner
 * has no point), and each learner there.
 */
export function atEqualSteps(learners: readonly LearnerCurve[]): { x: number | null; rows: EqualStepsRow[] } {
  const ends = learners.map((l) => l.points.at(-1)?.x ?? null);
  const x = ends.length && ends.every((e) => e !== null) ? Math.min(...(ends as number[])) : null;
  const at = (l: LearnerCurve, pick: (p: SeedPoint) => number | null) =>
    x === null
      ? null
      : interpolate(
          l.points.map((p) => [p.x, pick(p)]),
          x,
        );
  const rows = learners.map((l) => {
    const last = l.points.at(-1);
    const covering = x === null ? [] : l.points.filter((p) => p.x >= x);
    return {
      name: l.name,
      colorIndex: l.colorIndex,
      mean: at(l, (p) => p.mean),
      se: at(l, (p) => p.se),
      seeds: covering.length ? covering[0].seeds : 0,
      lastMean: last?.mean ?? null,
      lastX: last?.x ?? null,
    };
  });
  return { x, rows };
}
