// The line chart's ECharts option: lines over a value x axis, zoomable (LTTB sampling on top of the lab's
// downsampling), optional log axes, shaded bands (phases, plateau) and labelled ticks (phase names, sweep
// values). Pure: the page's LineChart and the CLI's figures draw from it.
import type { MarkAreaComponentOption } from 'echarts/components';
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
}

type MarkAreaData = NonNullable<MarkAreaComponentOption['data']>;

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
  const { series, xName = 'step', yName = '', bands = [], xTicks, yTicks, xRange, zoom = true } = input;
  const legend = series.filter((s) => !s.faint).length > 1;
  const style = axisStyle(c);
  const xt = ticks(xTicks);
  const yt = ticks(yTicks);
  const bandData = bands.map((b): MarkAreaData[number] => [
    { xAxis: b.from, name: b.label, itemStyle: { color: b.phase >= 0 ? c.phases[b.phase] : c.plateau } },
    { xAxis: b.to },
  ]);
  return {
    ...baseOption(c, {
      trigger: 'axis',
      axisPointer: { type: 'line' },
      formatter: (params: unknown) => {
        const items = (params as { seriesName: string; marker: string; value: XY }[]).filter(
          (p) => p.value[1] !== null,
        );
        if (!items.length) return '';
        const head = `${xName} ${show(items[0].value[0], xTicks)}`;
        return [head, ...items.map((p) => `${p.marker}${p.seriesName}: <b>${show(p.value[1], yTicks)}</b>`)].join(
          '<br>',
        );
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
      axisTick: { ...style.axisTick, ...yt.axisTick },
      axisLabel: { ...style.axisLabel, formatter: formatAxis, ...yt.axisLabel },
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
    series: series.map((s, i) => ({
      type: 'line',
      name: s.name,
      data: s.data,
      color: c.palette[(s.colorIndex ?? i) % c.palette.length],
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
    })),
  };
}
