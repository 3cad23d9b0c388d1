// The parallel-coordinates option: one line per run across hyper-parameter and result axes, each axis
// brushable (ECharts areaSelect). Pure: the page's ParallelChart draws from it.
import { formatAxis, formatNumber } from './format.js';
import { axisStyle, baseOption, type ChartColors, type ItemParams } from './colors.js';
import type { Cell, DataTable } from './data.js';
import type { ChartOption } from './option.js';

export interface ParallelDim {
  /** Stable id: an axis keeps its brush across redraws while its id stays. */
  id: string;
  name: string;
  /** Given for a categorical axis (strings, or a mix); absent for a numeric one. */
  categories?: string[];
}

export interface ParallelRow {
  id: number;
  name: string;
  values: Cell[];
}

export interface ParallelInput {
  dims: ParallelDim[];
  rows: ParallelRow[];
}

export function parallelOption({ dims, rows }: ParallelInput, c: ChartColors): ChartOption {
  const style = axisStyle(c);
  return {
    ...baseOption(c, {
      trigger: 'item',
      formatter: (p: unknown) => {
        const row = rows[(p as ItemParams).dataIndex];
        return [`<b>${row.name}</b>`, ...dims.map((d, i) => `${d.name}: ${formatNumber(row.values[i])}`)].join('<br>');
      },
    }),
    parallel: { left: 56, right: 120, top: 64, bottom: 28 },
    parallelAxis: dims.map((d, i) => ({
      id: d.id,
      dim: i,
      // Long names break at their slash so neighbouring axes' names do not run into each other.
      name: d.name.replace('/', '/\n'),
      type: d.categories ? 'category' : 'value',
      data: d.categories,
      scale: true,
      nameLocation: 'end',
      nameGap: 14,
      nameTextStyle: { color: c.text, fontSize: 11, lineHeight: 14 },
      axisLine: style.axisLine,
      axisTick: style.axisTick,
      axisLabel: { color: c.muted, formatter: d.categories ? undefined : formatAxis },
      areaSelectStyle: { width: 18, borderColor: c.accent, color: c.accent, opacity: 0.25 },
    })),
    series: [
      {
        type: 'parallel',
        inactiveOpacity: 0.08,
        activeOpacity: 1,
        lineStyle: { width: 2.2, opacity: 0.9 },
        emphasis: { lineStyle: { width: 4 } },
        data: rows.map((row, i) => ({
          name: row.name,
          value: row.values.map((v, j) => (v === null ? '-' : dims[j].categories ? String(v) : v)),
          lineStyle: { color: c.palette[i % c.palette.length] },
        })),
      },
    ],
  };
}

/** The chart's data: one row per run. */
export function parallelTable({ dims, rows }: ParallelInput): DataTable {
  return { columns: ['run', ...dims.map((d) => d.name)], rows: rows.map((r) => [r.name, ...r.values]) };
}
