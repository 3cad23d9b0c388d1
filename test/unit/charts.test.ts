// The pure transforms behind the charts: smoothing, phase bands and regions, sweep axes, spec diffs, CSV;
// the chart colours against the page's.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appRoot } from '../../main/services/paths';
import { CHART_COLORS } from '../../shared/figures/colors';
import {
  differingPaths,
  ema,
  flatten,
  formatSweepValue,
  lastValues,
  phaseBands,
  sortValues,
  spliceRange,
  toCsv,
} from '../../shared/figures/data';
import { lineOption, logTicks } from '../../shared/figures/line';
import { scatterOption, spreadOffsets } from '../../shared/figures/scatter';
import { axisPositions, phaseRegions } from '../../shared/figures/sweep';

describe('chart data', () => {
  it('smooths without start-up bias and keeps gaps', () => {
    const out = ema(
      [
        [0, 2],
        [1, 2],
        [2, null],
        [3, 4],
      ],
      0.5,
    );
    expect(out[0]).toEqual([0, 2]);
    expect(out[1]).toEqual([1, 2]);
    expect(out[2]).toEqual([2, null]);
    // acc = 0.5*(0.5*(0.5*0+1)+1)+2 = 2.75 over 1 - 0.125
    expect(out[3][1]).toBeCloseTo(2.75 / 0.875, 10);
    expect(ema([[0, 5]], 0)).toEqual([[0, 5]]);
  });

  it('merges neighbouring evaluations with the same phase into one band up to the end step', () => {
    const bands = phaseBands(
      [
        [0, 0],
        [100, 1],
        [200, 1],
        [300, 3],
      ],
      400,
    );
    expect(bands.map((b) => [b.from, b.to, b.phase])).toEqual([
      [0, 100, 0],
      [100, 300, 1],
      [300, 400, 3],
    ]);
  });

  it("puts pool sizes on a log2 axis with 'fresh' one step past the largest", () => {
    const values = sortValues([16, 'fresh', 1, 4]);
    expect(values).toEqual([1, 4, 16, 'fresh']);
    expect(axisPositions(values)).toEqual([0, 2, 4, 6]);
    expect(axisPositions([0, 1, 2])).toEqual([0, 1, 2]);
    expect(formatSweepValue(65536)).toBe('2¹⁶');
    expect(formatSweepValue(512)).toBe('512');
  });

  it('shades phase regions halfway between points and leaves unfinished points out', () => {
    const regions = phaseRegions(
      [0, 2, 4, 6],
      ['memorization', 'memorization', undefined, 'general learning-to-learn'],
    );
    expect(regions.map((r) => [r.from, r.to, r.label])).toEqual([
      [0, 3, 'memorize'],
      [5, 6, 'learn'],
    ]);
  });

  it('lists only the spec paths that differ, a missing field included', () => {
    const a = flatten({ model: { kind: 'lstm', hidden: 64 }, seed: 1, dims: [1, 2] });
    const b = flatten({ model: { kind: 'lstm', hidden: 128 }, seed: 1, dims: [1, 2], note: 'x' });
    expect(a.dims).toBe('[1,2]');
    expect(differingPaths([a, b])).toEqual(['model.hidden', 'note']);
  });

  it('writes RFC 4180 CSV', () => {
    expect(
      toCsv({
        columns: ['name', 'value'],
        rows: [
          ['a,b', 1],
          ['say "hi"', null],
        ],
      }),
    ).toBe('name,value\r\n"a,b",1\r\n"say ""hi""",\r\n');
  });

  it("draws in the page's colours: style.css holds the same values for each theme", () => {
    const css = fs.readFileSync(path.join(appRoot(), 'renderer', 'src', 'style.css'), 'utf8');
    const vars = (selector: string) => {
      const block = css.slice(css.indexOf(selector)).split('}')[0];
      return Object.fromEntries(
        [...block.matchAll(/--([\w-]+):\s*([^;]+);/g)].map(([, name, value]) => [name, value.trim()]),
      );
    };
    for (const [theme, selector] of [
      ['light', ':root {'],
      ['dark', ":root[data-theme='dark'] {"],
    ] as const) {
      const v = vars(selector);
      const c = CHART_COLORS[theme];
      expect([c.text, c.muted, c.grid, c.panel, c.accent, c.empty], theme).toEqual([
        v.fg,
        v['fg-muted'],
        v.border,
        v.panel,
        v.accent,
        v.bar,
      ]);
    }
  });

  it('reads series columns as (step, last) pairs and splices a zoomed range into coarse buckets', () => {
    const series = (steps: number[], last: number[]) => ({ runId: 1, key: 'loss', steps, min: last, max: last, last });
    const coarse = series([10, 20, 30, 40, 50], [1, 2, 3, 4, 5]);
    expect(lastValues(coarse)).toEqual([
      [10, 1],
      [20, 2],
      [30, 3],
      [40, 4],
      [50, 5],
    ]);
    expect(lastValues(undefined)).toEqual([]);
    const fine = series([22, 25, 28, 31], [2.2, 2.5, 2.8, 3.1]);
    expect(spliceRange(coarse, fine, 21, 35)).toEqual(
      series([10, 20, 22, 25, 28, 31, 40, 50], [1, 2, 2.2, 2.5, 2.8, 3.1, 4, 5]),
    );
    expect(spliceRange(coarse, fine, 0, 100)).toEqual(fine);
  });
});

describe('chart options', () => {
  it('labels a log axis over a narrow range with round values, and a wide one with 1, 2 and 5 per decade', () => {
    // A loss going from 2.3 to 2.0 crosses labelled ticks (ECharts' own log axis labels powers of ten only).
    expect(logTicks(2.0, 2.3)).toEqual([2, 2.05, 2.1, 2.15, 2.2, 2.25, 2.3]);
    expect(logTicks(0.9, 5.4)).toEqual([1, 2, 3, 4, 5]);
    expect(logTicks(0.03, 4)).toEqual([0.05, 0.1, 0.2, 0.5, 1, 2]);
    expect(logTicks(1e-4, 1e4)).toEqual([1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000, 1e4]);
    const option = lineOption({ series: [{ name: 'loss', data: lossData(2.3, 2.0) }], logY: true }, CHART_COLORS.light);
    const y = option.yAxis as { type: string; min: number; max: number; axisLabel: { customValues: number[] } };
    expect(y.type).toBe('log');
    expect(y.axisLabel.customValues.length).toBeGreaterThanOrEqual(5);
    expect(y.min).toBeLessThan(2);
    expect(y.max).toBeGreaterThan(2.3);
  });

  it('marks where a run resumed with labelled vertical lines', () => {
    const option = lineOption(
      { series: [{ name: 'loss', data: lossData(2, 1) }], marks: [{ value: 500, label: 'resumed' }] },
      CHART_COLORS.dark,
    );
    const [first] = option.series as { markLine?: { data: { xAxis: number; name: string }[] } }[];
    expect(first.markLine?.data).toEqual([{ xAxis: 500, name: 'resumed' }]);
  });

  it('sets points that fall on one spot apart, each by the same distance, and leaves single points alone', () => {
    const points = [
      { x: 10, y: 5 },
      { x: 10, y: 5 },
      { x: 10, y: 5 },
      { x: 20, y: 5 },
    ];
    const offsets = spreadOffsets(points);
    expect(offsets[3]).toEqual([0, 0]);
    const same = offsets.slice(0, 3);
    for (const [i, a] of same.entries()) {
      const b = same[(i + 1) % 3];
      expect(Math.hypot(a[0] - b[0], a[1] - b[1])).toBeGreaterThanOrEqual(11);
    }
    const option = scatterOption(
      {
        xName: 'parameters',
        yName: 'state size',
        colorName: 'eval/unseen/last_acc',
        groups: [{ name: '', points: points.map((p, i) => ({ ...p, name: `r${i}`, color: i })) }],
      },
      CHART_COLORS.light,
    );
    const [series] = option.series as { data: { symbolOffset: [number, number] }[] }[];
    expect(series.data.map((d) => d.symbolOffset)).toEqual(offsets);
    // The figure the colours show is named on the colour bar.
    expect((option.visualMap as { text: string[] }).text[0]).toBe('eval/unseen/last_acc');
  });
});

function lossData(from: number, to: number): [number, number][] {
  return Array.from({ length: 50 }, (_, i) => [i, from + ((to - from) * i) / 49]);
}
