// The line chart's ECharts option: lines over a value x axis, zoomable (LTTB sampling on top of the lab's
// downsampling), optional log axes, shaded bands (phases, plateau), a band around a line (mean ± s.e. of seeds)
// and labelled ticks (phase names, sweep values). Pure: the page's LineChart and the CLI's figures draw from it.
import type { LineSeriesOption } from 'echarts/charts';
import type { MarkAreaComponentOption, MarkLineComponentOption } from 'echarts/components';
import { formatAxis, formatNumber } from './format.js';
import { axisStyle, baseOption, type ChartColors } from './colors.js';
import { ema, type Band, type XY } from './data.js';
import type { ChartOption } from './option.js';

export interface ChartSeries {
  name: string;
  data: XY[];
  /** Palette index, so a smoothed line and its raw data share a colour. */
  colorIndex?: number;
  lineType?: 'solid' | 'dashed' | 'dotted';
  /** Drawn thin and pale: the raw data under a smoothed line. */
  faint?: boolean;
  /** A step line (the phase code), never resampled. */
  step?: boolean;
  /** A reference level (a threshold, zero): a plain line without point symbols. */
  level?: boolean;
  /** A shaded band of this half-width at each point (a mean's standard error over seeds; null: none there). */
  spread?: (number | null)[];
}

/** The palette's neutral grey: reference levels (zero, chance). */
const NEUTRAL = 9;

/** A dashed horizontal line at `y` across `xRange`, for a level to read a chart against. */
export function levelLine(name: string, y: number, xRange: [number, number], colorIndex = NEUTRAL): ChartSeries {
  return {
    name,
    data: [
      [xRange[0], y],
      [xRange[1], y],
    ],
    colorIndex,
    lineType: 'dashed',
    level: true,
  };
}

/** The raw line, and with smoothing on (weight > 0), its exponential moving average over it in the same colour. */
export function smoothedLines(name: string, data: XY[], weight: number, colorIndex = 0): ChartSeries[] {
  if (!data.length) return [];
  if (weight <= 0) return [{ name, data, colorIndex }];
  return [
    { name, data, colorIndex, faint: true },
    { name: `${name} (smoothed)`, data: ema(data, weight), colorIndex },
  ];
}

export interface Tick {
  value: number;
  label: string;
}

export interface LineInput {
  series: ChartSeries[];
  /** Default 'step'. */
  xName?: string;
  yName?: string;
  logX?: boolean;
  logY?: boolean;
  bands?: Band[];
  /** Only these x ticks, with these labels. */
  xTicks?: Tick[];
  yTicks?: Tick[];
  /** A fixed x extent, so charts zooming together (by percentage) show the same steps. */
  xRange?: [number, number];
  /** Zoom by dragging or with a slider under the plot. */
  zoom?: boolean;
  /** Labelled vertical lines at these x values (where a run was resumed). */
  marks?: Tick[];
}

type MarkAreaData = NonNullable<MarkAreaComponentOption['data']>;

function markLines(marks: readonly Tick[], c: ChartColors): MarkLineComponentOption {
  return {
    silent: true,
    symbol: 'none',
    lineStyle: { color: c.muted, type: 'dashed', width: 1 },
    label: { color: c.muted, fontSize: 10, position: 'insideEndTop', formatter: (p) => p.name ?? '' },
    data: marks.map((m) => ({ xAxis: m.value, name: m.label })),
  };
}

/** A band's edges around y (none without a spread there). */
function bandEdges(y: number | null, spread: number | null | undefined): number[] {
  return y === null || spread === null || spread === undefined ? [] : [y - spread, y + spread];
}

/** Ids of the series that draw a line's band (left out of the tooltip, which gives the spread with the line). */
const BAND_ID = 'band:';

/**
 * A line's band as ECharts draws one: its lower edge, invisible, and the band's width stacked on it, filled.
 * On a log axis a lower edge at or below zero cannot be drawn: the band has a gap there.
 */
function bandSeries(s: ChartSeries, i: number, color: string, logY: boolean): LineSeriesOption[] {
  const spread = s.spread ?? [];
  const lower = s.data.map(([x, y], j): XY => {
    const low = bandEdges(y, spread[j])[0] ?? null;
    return [x, low === null || (logY && low <= 0) ? null : low];
  });
  const edge: LineSeriesOption = {
    type: 'line',
    name: s.name,
    stack: `${BAND_ID}${i}`,
    // Stack across signs too: a band around a negative mean, or crossing zero.
    stackStrategy: 'all',
    showSymbol: false,
    connectNulls: false,
    lineStyle: { opacity: 0 },
    silent: true,
    emphasis: { disabled: true },
    z: 0,
  };
  return [
    { ...edge, id: `${BAND_ID}${i}:lower`, data: lower },
    {
      ...edge,
      id: `${BAND_ID}${i}`,
      data: lower.map(([x, low], j) => [x, low === null ? null : 2 * spread[j]!]),
      areaStyle: { color, opacity: 0.22 },
    },
  ];
}

/** A step of 1, 2 or 5 times a power of ten, near `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * power;
}

/**
 * Ticks of a log axis over [lo, hi] (lo > 0): over wide ranges 1, 2 and 5 of each decade; over less than a decade
 * evenly spaced round values, so a loss going from 2.3 to 2.0 crosses several labelled ticks (ECharts labels only
 * powers of the base, and none may fall in such a range).
 */
export function logTicks(lo: number, hi: number): number[] {
  const round = (v: number) => Number(v.toPrecision(12));
  if (hi / lo < 10) {
    const step = niceStep((hi - lo) / 5 || lo / 10);
    // Ends that are multiples of the step are ticks, whatever the rounding of the division.
    const first = Math.ceil(lo / step - 1e-9);
    return Array.from({ length: Math.floor(hi / step + 1e-9) - first + 1 }, (_, i) => round((first + i) * step));
  }
  const decades = Math.log10(hi / lo);
  const mantissas = decades > 6 ? [1] : decades > 3 ? [1, 3] : [1, 2, 5];
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mantissas) {
      const v = round(m * 10 ** e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push(v);
    }
  }
  return out;
}

/** A log y axis fitted to the positive values of the lines and their bands, with logTicks; none without any. */
function logAxis(series: readonly ChartSeries[]) {
  const ys = series
    .flatMap((s) => s.data.flatMap(([, y], j) => [y, ...bandEdges(y, s.spread?.[j])]))
    .filter((y): y is number => y !== null && y > 0);
  if (!ys.length) return {};
  const [lo, hi] = [Math.min(...ys), Math.max(...ys)];
  const values = logTicks(lo, hi);
  // A little room above and below the lines, as much in ratio on both sides.
  const pad = (hi / lo) ** 0.04;
  return {
    min: lo / pad,
    max: hi * pad,
    axisTick: { customValues: values },
    axisLabel: { customValues: values },
  };
}

function ticks(list: Tick[] | undefined) {
  if (!list?.length) return {};
  const labels = new Map(list.map((t) => [t.value, t.label]));
  const values = list.map((t) => t.value);
  return {
    min: Math.min(...values),
    max: Math.max(...values),
    axisTick: { customValues: values },
    axisLabel: { customValues: values, formatter: (v: number) => labels.get(v) ?? '' },
  };
}

/** A value for the tooltip: a tick label where the axis has them, else a short number. */
function show(v: unknown, list: Tick[] | undefined): string {
  const label = typeof v === 'number' ? list?.find((t) => t.value === v)?.label : undefined;
  return label ?? (typeof v === 'number' ? formatNumber(v) : String(v ?? '–'));
}

export function lineOption(input: LineInput, c: ChartColors): ChartOption {
  const { series, xName = 'step', yName = '', bands = [], marks = [], xTicks, yTicks, xRange, zoom = true } = input;
  const legend = series.filter((s) => !s.faint).length > 1;
  const style = axisStyle(c);
  const xt = ticks(xTicks);
  const yt = ticks(yTicks);
  const yl = input.logY && !yTicks ? logAxis(series) : {};
  const bandData = bands.map((b): MarkAreaData[number] => [
    { xAxis: b.from, name: b.label, itemStyle: { color: b.phase >= 0 ? c.phases[b.phase] : c.plateau } },
    { xAxis: b.to },
  ]);
  return {
    ...baseOption(c, {
      trigger: 'axis',
      axisPointer: { type: 'line' },
      formatter: (params: unknown) => {
        type Item = { seriesId: string; seriesName: string; marker: string; value: (number | null)[] };
        const items = (params as Item[]).filter((p) => p.value[1] !== null && !p.seriesId.startsWith(BAND_ID));
        if (!items.length) return '';
        const head = `${xName} ${show(items[0].value[0], xTicks)}`;
        // A line with a band carries its spread as a third value.
        const spread = (p: Item) => (typeof p.value[2] === 'number' ? ` ± ${formatNumber(p.value[2])}` : '');
        const line = (p: Item) => `${p.marker}${p.seriesName}: <b>${show(p.value[1], yTicks)}</b>${spread(p)}`;
        return [head, ...items.map(line)].join('<br>');
      },
    }),
    legend: {
      show: legend,
      type: 'scroll' as const,
      top: 0,
      itemWidth: 18,
      itemGap: 8,
      textStyle: { color: c.muted, fontSize: 11 },
      pageTextStyle: { color: c.muted },
      pageIconColor: c.accent,
      pageIconInactiveColor: c.grid,
    },
    grid: { left: yTicks ? 120 : 68, right: 20, top: legend ? 34 : 14, bottom: zoom ? 62 : 40 },
    xAxis: {
      type: input.logX ? 'log' : 'value',
      name: xName,
      nameLocation: 'middle',
      nameGap: 26,
      min: xRange?.[0] ?? 'dataMin',
      max: xRange?.[1] ?? 'dataMax',
      ...style,
      ...xt,
      axisTick: { ...style.axisTick, ...xt.axisTick },
      axisLabel: { ...style.axisLabel, hideOverlap: true, ...xt.axisLabel },
    },
    yAxis: {
      type: input.logY ? 'log' : 'value',
      name: yName,
      nameLocation: 'middle',
      nameGap: 50,
      scale: true,
      ...style,
      ...yt,
      ...yl,
      axisTick: { ...style.axisTick, ...yt.axisTick, ...yl.axisTick },
      axisLabel: { ...style.axisLabel, formatter: formatAxis, ...yt.axisLabel, ...yl.axisLabel },
    },
    dataZoom: zoom
      ? [
          { type: 'inside', filterMode: 'none' },
          {
            type: 'slider',
            height: 16,
            bottom: 6,
            filterMode: 'none',
            textStyle: { color: c.muted },
            borderColor: c.grid,
          },
        ]
      : [],
    series: series.flatMap((s, i): LineSeriesOption[] => {
      const color = c.palette[(s.colorIndex ?? i) % c.palette.length];
      const line: LineSeriesOption = {
        type: 'line',
        name: s.name,
        data: s.spread ? s.data.map(([x, y], j) => [x, y, s.spread![j]]) : s.data,
        color,
        showSymbol: s.data.length < 30 && !s.step && !s.level,
        symbolSize: 5,
        sampling: s.step ? undefined : 'lttb',
        step: s.step ? 'end' : undefined,
        connectNulls: false,
        lineStyle: { width: s.faint ? 1 : 1.8, opacity: s.faint ? 0.3 : 1, type: s.lineType ?? 'solid' },
        itemStyle: { opacity: s.faint ? 0.3 : 1 },
        emphasis: { disabled: true },
        z: s.faint ? 1 : 2,
        markArea:
          i === 0 && bandData.length
            ? { silent: true, label: { color: c.muted, fontSize: 11, position: 'insideTop' }, data: bandData }
            : undefined,
        markLine: i === 0 && marks.length ? markLines(marks, c) : undefined,
      };
      return s.spread?.some((e) => e !== null) ? [line, ...bandSeries(s, i, color, input.logY ?? false)] : [line];
    }),
  };
}
