// Seeds aggregated (shared/figures/seeds.ts and its use in the figure builders): the mean and standard error
// against hand-computed values, groups of seeds, heatmap cells and the phase plot over seeds, the band series.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../shared/api';
import { CHART_COLORS } from '../../shared/figures/colors';
import { seriesTable, type XY } from '../../shared/figures/data';
import { heatmapOption, heatmapTable } from '../../shared/figures/heatmap';
import { lineOption } from '../../shared/figures/line';
import { heatCells, phasePlot, sweepAxis } from '../../shared/figures/phases';
import {
  formatSpread,
  majorityPhase,
  meanLine,
  meanLines,
  meanSe,
  seedGroups,
  type Spread,
} from '../../shared/figures/seeds';
import { evalMetricKey } from '../../shared/metrics';
import { objectiveOf } from '../../shared/objectives';
import type { Phase } from '../../shared/results';

const FIGURE = 'eval/unseen/last_mse';
const IMPROVEMENT = evalMetricKey('unseen', 'improvement');

/** A run as the lab lists it: only what the figures read is filled in. */
function run(id: number, sweepPoint: Run['sweepPoint'], value: number | null, phase: Phase | null, experimentId = 1) {
  const figures = { [FIGURE]: value, [IMPROVEMENT]: value === null ? null : value / 10 };
  return {
    id,
    experimentId,
    sweepPoint,
    status: value === null ? 'running' : 'finished',
    summary: value === null ? null : { steps: 60, backend: 'wasm', phase, plateau: null, figures },
  } as Run;
}

const expectSpread = (s: Spread | null, mean: number, se: number | null, n: number) => {
  expect(s).not.toBeNull();
  expect(s!.mean).toBeCloseTo(mean, 10);
  if (se === null) expect(s!.se).toBeNull();
  else expect(s!.se).toBeCloseTo(se, 10);
  expect(s!.n).toBe(n);
};

describe('the mean over seeds and its standard error', () => {
  it('is the sample sd over √n; one value has no spread; missing values do not count', () => {
    // 1, 3, 5: mean 3, sample variance (4 + 0 + 4) / 2 = 4, s.e. 2 / √3
    expectSpread(meanSe([1, 3, 5]), 3, 2 / Math.sqrt(3), 3);
    expectSpread(meanSe([7, null, undefined, Number.NaN]), 7, null, 1);
    expect(meanSe([null])).toBeNull();
    expect(formatSpread(meanSe([1, 3, 5]))).toBe('3 ± 1.2 (n=3)');
    expect(formatSpread(meanSe([0.5]))).toBe('0.5000 (n=1)');
  });

  it('averages three seeds on the steps all of them have, whatever their grids', () => {
    const a: XY[] = [
      [0, 1],
      [10, 2],
      [20, 3],
      [30, 4],
    ];
    // Finer and shorter (still running): step 5 only here, no step 30.
    const b: XY[] = [
      [0, 3],
      [5, 9],
      [10, 5],
      [20, 6],
    ];
    const c: XY[] = [
      [20, 9],
      [0, 5],
      [10, 7],
      [40, 1],
    ];
    // A run without points yet (queued) is not a seed of the mean.
    const line = meanLine([a, b, c, []]);
    expect(line.n).toBe(3);
    expect(line.data.map(([x]) => x)).toEqual([0, 10, 20]);
    // step 0: 1 3 5 → 3 ± 2/√3; step 10: 2 5 7 → 14/3, variance (64/9 + 1/9 + 49/9) / 2 = 19/3; step 20: 3 6 9
    const expected = [
      [3, 2 / Math.sqrt(3)],
      [14 / 3, Math.sqrt(19 / 3 / 3)],
      [6, Math.sqrt(3)],
    ];
    expected.forEach(([mean, se], i) => {
      expect(line.data[i][1]).toBeCloseTo(mean, 10);
      expect(line.spread[i]).toBeCloseTo(se, 10);
    });
    // A gap in one seed leaves that step out.
    expect(meanLine([a, b.map(([x, y]): XY => [x, x === 10 ? null : y])]).data.map(([x]) => x)).toEqual([0, 20]);
  });

  it('matches lines by name, keeps the first seed style, and says what the line is the mean of', () => {
    const perSeed = [0, 1, 2].map((s) => [
      { name: 'e1', data: [[1, s] as XY], colorIndex: 4, lineType: 'dashed' as const },
      { name: 'ridge', data: [[1, 10 + s] as XY] },
    ]);
    const lines = meanLines(perSeed);
    expect(lines.map((l) => l.name)).toEqual(['e1 · mean ± s.e. of 3 seeds', 'ridge · mean ± s.e. of 3 seeds']);
    expect(lines[0]).toMatchObject({ colorIndex: 4, lineType: 'dashed', data: [[1, 1]] });
    expect(lines[1].data).toEqual([[1, 11]]);
    expect(lines[0].spread![0]).toBeCloseTo(1 / Math.sqrt(3), 10);
    expect(meanLines([perSeed[0]])[0].name).toBe('e1 · 1 seed');
  });
});

describe('groups of seeds', () => {
  it('groups runs by experiment and sweep point apart from the seed', () => {
    const runs = [
      run(1, { 'task.numTasks': 1, seed: 0 }, 1, null),
      run(2, { 'task.numTasks': 4, seed: 0 }, 1, null),
      run(3, { seed: 1, 'task.numTasks': 1 }, 1, null),
      run(4, { 'task.numTasks': 1, seed: 0 }, 1, null, 2),
      run(5, {}, 1, null, 3),
    ];
    const groups = seedGroups(runs);
    expect(groups.map((g) => g.runs.map((r) => r.id))).toEqual([[1, 3], [2], [4], [5]]);
    expect(groups[0]).toMatchObject({ experimentId: 1, point: { 'task.numTasks': 1 } });
  });

  it('takes the phase most seeds end in, a tie going to the one reached first', () => {
    const phases: (Phase | null)[] = ['memorization', 'task identification', 'task identification', null];
    const runs = phases.map((p, i) => run(i + 1, { seed: i }, p === null ? null : 1, p));
    expect(majorityPhase(runs)).toEqual({ phase: 'task identification', agree: 2, n: 3 });
    expect(majorityPhase(runs.slice(0, 2))).toMatchObject({ phase: 'memorization', agree: 1, n: 2 });
    expect(majorityPhase(runs.slice(3))).toBeNull();
  });
});

/** Two pool sizes x three seeds; at 4 tasks one seed is still running. */
const SWEEP = [
  run(1, { 'task.numTasks': 1, seed: 0 }, 0.2, 'memorization'),
  run(2, { 'task.numTasks': 1, seed: 1 }, 0.4, 'memorization'),
  run(3, { 'task.numTasks': 1, seed: 2 }, 0.9, 'task identification'),
  run(4, { 'task.numTasks': 4, seed: 0 }, 0.5, 'general learning-to-learn'),
  run(5, { 'task.numTasks': 4, seed: 1 }, 0.7, 'general learning-to-learn'),
  run(6, { 'task.numTasks': 4, seed: 2 }, null, null),
];
const grid = { xPath: 'task.numTasks', xValues: [1, 4], yPath: null, yValues: [null], held: {} };

describe('heatmap cells over seeds', () => {
  it('shows each point as the mean ± s.e. of its seeds, with the majority phase and its agreement', () => {
    const cells = heatCells(SWEEP, grid, FIGURE);
    expect(cells).toHaveLength(2);
    // 0.2 0.4 0.9: mean 0.5, variance (0.09 + 0.01 + 0.16) / 2 = 0.13
    expect(cells[0].value).toBeCloseTo(0.5, 10);
    expect(cells[0].seeds!.se).toBeCloseTo(Math.sqrt(0.13 / 3), 10);
    expect(cells[0]).toMatchObject({ seeds: { n: 3 }, note: 'memorize 2/3' });
    expect(cells[0].extra).toEqual(['memorization 2/3', 'r1 r2 r3', '3 finished']);
    expect(cells[1].value).toBeCloseTo(0.6, 10);
    expect(cells[1].seeds!.se).toBeCloseTo(0.1, 10);
    expect(cells[1]).toMatchObject({ seeds: { n: 2 }, note: 'learn 2/2' });
    expect(cells[1].detail).toContain('2 finished, 1 running');

    const input = {
      xName: 'task.numTasks',
      yName: '',
      xLabels: ['1', '4'],
      yLabels: [''],
      valueName: FIGURE,
      cells,
      extraColumns: ['phase', 'run', 'status'],
    };
    const table = heatmapTable(input);
    expect(table.columns).toEqual(['', 'task.numTasks', FIGURE, 's.e.', 'n', 'phase', 'run', 'status']);
    expect(table.rows[1].slice(4)).toEqual([2, 'general learning-to-learn 2/2', 'r4 r5 r6', '2 finished, 1 running']);
    // The cell's text: mean ± s.e., then the phase; coloured by the mean.
    const option = heatmapOption(input, CHART_COLORS.light);
    const [filled] = option.series as { data: { value: number[] }[]; label: { formatter: (p: unknown) => string } }[];
    expect(filled.data[0].value[2]).toBeCloseTo(0.5, 10);
    expect(filled.label.formatter({ seriesIndex: 0, dataIndex: 0 })).toBe('0.500 ± 0.21\nmemorize 2/3');
  });

  it('draws single runs where the grid holds the seed, as before', () => {
    const cells = heatCells(SWEEP, { ...grid, held: { seed: 1 } }, FIGURE);
    expect(cells.map((c) => [c.value, c.note, c.seeds])).toEqual([
      [0.4, 'memorize', undefined],
      [0.7, 'learn', undefined],
    ]);
    expect(heatmapTable({ xName: 'x', yName: 'y', xLabels: [], yLabels: [], valueName: 'v', cells }).columns).toEqual([
      'y',
      'x',
      'v',
    ]);
  });

  it('plots the mean improvement along the axis with its s.e. band, each region the majority phase', () => {
    const axis = sweepAxis(SWEEP, 'task.numTasks', {});
    expect(axis.seeds).toBe(true);
    expect(axis.runs.map((at) => at.map((r) => r.id))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const plot = phasePlot(axis, [IMPROVEMENT], objectiveOf({ family: 'linear-regression' }));
    expect(plot.series).toHaveLength(1);
    expect(plot.series[0].name).toBe('unseen · mean ± s.e. of 3 seeds');
    expect(plot.series[0].data[1][1]).toBeCloseTo(0.06, 10);
    expect(plot.series[0].spread![1]).toBeCloseTo(0.01, 10);
    expect(plot.bands.map((b) => b.label)).toEqual(['memorize', 'learn']);
    expect(plot.table.columns).toEqual(['task.numTasks', 'split', 'improvement', 's.e.', 'n', 'phase', 'run']);
    expect(plot.table.rows[0].slice(4)).toEqual([3, 'memorization 2/3', 'r1 r2 r3']);
  });
});

describe('the band of a line', () => {
  const line = {
    name: 'e1 · mean ± s.e. of 3 seeds',
    data: [
      [0, 2],
      [10, 1],
      [20, null],
    ] as XY[],
    spread: [0.5, 1.5, null],
    colorIndex: 2,
  };

  it('draws the mean, its lower edge and the stacked width (2 s.e.) in the line colour, filled', () => {
    const option = lineOption({ series: [line] }, CHART_COLORS.light);
    type Out = { id?: string; name: string; data: unknown[]; stack?: string; areaStyle?: { color: string } };
    const series = option.series as Out[];
    expect(series).toHaveLength(3);
    const [mean, lower, width] = series;
    expect(mean.data).toEqual([
      [0, 2, 0.5],
      [10, 1, 1.5],
      [20, null, null],
    ]);
    expect(lower.data).toEqual([
      [0, 1.5],
      [10, -0.5],
      [20, null],
    ]);
    expect(width.data).toEqual([
      [0, 1],
      [10, 3],
      [20, null],
    ]);
    expect(lower.stack).toBe(width.stack);
    expect([lower.name, width.name]).toEqual([line.name, line.name]);
    expect(width.areaStyle?.color).toBe(CHART_COLORS.light.palette[2]);
    // The tooltip gives the mean with its spread, and not the band's own series.
    const tooltip = option.tooltip as { formatter: (p: unknown) => string };
    const text = tooltip.formatter(
      series.map((s, i) => ({ seriesId: s.id ?? `s${i}`, seriesName: s.name, marker: '', value: s.data[0] })),
    );
    expect(text).toBe(`step 0<br>${line.name}: <b>2</b> ± 0.5000`);
    // On a log axis a lower edge at or below zero is a gap.
    const log = lineOption({ series: [line], logY: true }, CHART_COLORS.light).series as Out[];
    expect(log[1].data[1]).toEqual([10, null]);
    expect(log[2].data[1]).toEqual([10, null]);
  });

  it('draws no band without a spread, and tables the spread beside each point', () => {
    expect(lineOption({ series: [{ ...line, spread: [null, null, null] }] }, CHART_COLORS.light).series).toHaveLength(
      1,
    );
    const table = seriesTable([line, { name: 'r7', data: [[0, 3]] }], 'step', 'loss');
    expect(table.columns).toEqual(['series', 'step', 'loss', 's.e.']);
    expect(table.rows).toEqual([
      [line.name, 0, 2, 0.5],
      [line.name, 10, 1, 1.5],
      [line.name, 20, null, null],
      ['r7', 0, 3, null],
    ]);
  });
});
