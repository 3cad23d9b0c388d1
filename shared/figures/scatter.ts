// The scatter chart's ECharts option and data: points on two value axes, one series per group (shape and
// legend entry each), optionally coloured by a third value through a continuous visual map and labelled.
// Pure: the page's ScatterChart and the CLI's figures draw from it.
import { formatNumber } from './format.js';
import { axisStyle, baseOption, type ChartColors, type ItemParams } from './colors.js';
import type { DataTable } from './data.js';
import type { ChartOption } from './option.js';

export interface ScatterPoint {
  /** The point in the tooltip and the table: the run and its sweep point. */
  name: string;
  x: number;
  y: number;
  color: number | null;
  /** Written beside the point where given. */
  label?: string;
}

export interface ScatterGroup {
  /** The legend entry; shown where there is more than one group. */
  name: string;
  points: ScatterPoint[];
}

export interface ScatterInput {
  xName: string;
  yName: string;
  groups: ScatterGroup[];
  /** What colours the points (through a visual map); absent: each group in its palette colour. */
  colorName?: string;
  lowerIsBetter?: boolean;
  /** Log axes; absent: an axis goes logarithmic when its values are all positive and span more than a factor of 8. */
  logX?: boolean;
  logY?: boolean;
  /** What a point's name is, as the table's column; default 'run'. */
  pointName?: string;
}

const SYMBOLS = ['circle', 'triangle', 'rect', 'diamond', 'roundRect', 'pin'];

/** Pixels between the centres of points drawn apart because they fall on one spot. */
const SPREAD = 12;

/**
 * Symbol offsets in pixels that set points with equal coordinates apart on a small circle around their spot (a
 * sweep's runs often share a parameter count and state size); [0, 0] for a point alone.
 */
export function spreadOffsets(points: readonly { x: number; y: number }[]): [number, number][] {
  const spots = new Map<string, number[]>();
  for (const [i, p] of points.entries()) {
    const spot = `${p.x},${p.y}`;
    spots.set(spot, [...(spots.get(spot) ?? []), i]);
  }
  const offsets = points.map((): [number, number] => [0, 0]);
  for (const same of spots.values()) {
    if (same.length < 2) continue;
    const radius = SPREAD / (2 * Math.sin(Math.PI / same.length));
    same.forEach((i, k) => {
      const angle = (2 * Math.PI * k) / same.length - Math.PI / 2;
      offsets[i] = [Math.round(radius * Math.cos(angle)), Math.round(radius * Math.sin(angle))];
    });
  }
  return offsets;
}

function axisType(values: number[], log: boolean | undefined): 'log' | 'value' {
  if (log !== undefined) return log ? 'log' : 'value';
  return values.length && values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) > 8 ? 'log' : 'value';
}

export function scatterOption(input: ScatterInput, c: ChartColors): ChartOption {
  const { xName, yName, groups, colorName } = input;
  const style = axisStyle(c);
  const points = groups.flatMap((g) => g.points);
  const colors = points.map((p) => p.color).filter((v): v is number => v !== null);
  const min = colors.length ? Math.min(...colors) : 0;
  const max = colors.length ? Math.max(...colors) : 1;
  const legend = groups.length > 1;
  const offsets = spreadOffsets(points);
  const offsetOf = new Map(points.map((p, i) => [p, offsets[i]]));
  const xs = points.map((p) => p.x);
  const xType = axisType(xs, input.logX);
  // Labels beside the point, on its left in the right part of the plot so they stay inside it.
  const at = (x: number) => (xType === 'log' ? Math.log(x) : x);
  const [xMin, xMax] = [Math.min(...xs.map(at)), Math.max(...xs.map(at))];
  const side = (x: number) => (xMax > xMin && (at(x) - xMin) / (xMax - xMin) > 0.6 ? 'left' : 'right');
  const axis = (name: string, type: 'log' | 'value') => ({
    type,
    name,
    nameLocation: 'middle' as const,
    nameGap: 30,
    scale: true,
    ...style,
  });
  return {
    ...baseOption(c, {
      formatter: (p: unknown) => {
        const { seriesIndex, dataIndex } = p as ItemParams;
        const point = groups[seriesIndex].points[dataIndex];
        const color = colorName ? `<br>${colorName}: <b>${formatNumber(point.color)}</b>` : '';
        return `${point.name}<br>${xName}: ${formatNumber(point.x)}<br>${yName}: ${formatNumber(point.y)}${color}`;
      },
    }),
    legend: { show: legend, top: 0, itemGap: 12, textStyle: { color: c.muted, fontSize: 11 } },
    grid: { left: 64, right: colorName ? 112 : 24, top: legend ? 34 : 16, bottom: 48 },
    xAxis: axis(xName, xType),
    yAxis: {
      ...axis(
        yName,
        axisType(
          points.map((p) => p.y),
          input.logY,
        ),
      ),
      nameGap: 46,
    },
    visualMap: colorName
      ? {
          type: 'continuous' as const,
          dimension: 2,
          min,
          max: max > min ? max : min + 1,
          formatter: (v: unknown) => formatNumber(Number(v)),
          calculable: true,
          // The figure the colours show, named above the colour bar.
          text: [colorName, ''],
          textGap: 14,
          right: 4,
          top: 'middle',
          itemHeight: 140,
          // From poor (red) to good (blue) on either theme.
          inRange: {
            color: input.lowerIsBetter
              ? [c.palette[0], c.palette[3], c.palette[1]]
              : [c.palette[1], c.palette[3], c.palette[0]],
          },
          outOfRange: { color: c.grid },
          textStyle: { color: c.muted },
        }
      : [],
    series: groups.map((g, i) => ({
      type: 'scatter',
      name: g.name,
      symbol: legend ? SYMBOLS[i % SYMBOLS.length] : 'circle',
      symbolSize: 14,
      // Where the visual map colours the points, the legend keys groups by shape alone.
      itemStyle: { ...(colorName ? { color: c.muted } : {}), borderColor: c.panel, borderWidth: 1 },
      label: {
        show: g.points.some((p) => p.label),
        fontSize: 10,
        color: c.muted,
        formatter: (p: unknown) => g.points[(p as ItemParams).dataIndex].label ?? '',
      },
      labelLayout: { hideOverlap: true, moveOverlap: 'shiftY' as const },
      data: g.points.map((p) => ({
        value: [p.x, p.y, p.color ?? '-'],
        symbolOffset: offsetOf.get(p),
        label: { position: side(p.x) },
      })),
    })),
  };
}

/** The scatter's data: one row per point. */
export function scatterTable(input: ScatterInput): DataTable {
  const many = input.groups.length > 1;
  return {
    columns: [
      ...(many ? ['group'] : []),
      input.pointName ?? 'run',
      input.xName,
      input.yName,
      ...(input.colorName ? [input.colorName] : []),
    ],
    rows: input.groups.flatMap((g) =>
      g.points.map((p) => [...(many ? [g.name] : []), p.name, p.x, p.y, ...(input.colorName ? [p.color] : [])]),
    ),
  };
}
