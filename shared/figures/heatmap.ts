// The heatmap's ECharts option and data: a grid over two category axes, each cell coloured by its value and
// labelled with it (a mean of seeds: mean ± s.e.) and a short note (the phase); cells without a value (runs not
// finished) are drawn plain with their note. Pure: the page's HeatmapChart and the CLI's figures draw from it.
import { formatNumber } from './format.js';
import { axisStyle, baseOption, type ChartColors, type ItemParams } from './colors.js';
import type { Cell, DataTable } from './data.js';
import type { ChartOption } from './option.js';
import { SPREAD, seedsText } from './seeds.js';

export interface HeatCell {
  x: number;
  y: number;
  value: number | null;
  /** Second line of the cell's label. */
  note: string;
  /** Extra lines for the tooltip. */
  detail: string;
  /** Columns of this cell's table row, after y, x and value (and s.e. and n where cells have them). */
  extra: Cell[];
  /** Where the value is a mean over seeds: how many, and its standard error (null for one). */
  seeds?: { n: number; se: number | null };
}

export interface HeatmapInput {
  xName: string;
  yName: string;
  xLabels: string[];
  yLabels: string[];
  valueName: string;
  cells: HeatCell[];
  /** Extra table columns (see HeatCell.extra). */
  extraColumns?: string[];
  /** Reverse the colour ramp, so a good value (a low MSE) looks like a high accuracy. */
  lowerIsBetter?: boolean;
  /** Write each cell's value and note in it (off for dense maps). */
  cellLabels?: boolean;
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** A value with its spread where it is a mean of seeds: `0.512 ± 0.031`. */
function valueText(cell: HeatCell, digits?: number): string {
  const se = cell.seeds?.se;
  return `${formatNumber(cell.value, digits)}${se === null || se === undefined ? '' : ` ± ${formatNumber(se, 2)}`}`;
}

/** A cell's label: its value to three significant digits (± its spread), then its note. */
function cellLabel(cell: HeatCell): string {
  return `${valueText(cell, 3)}\n${cell.note}`;
}

export function heatmapOption(input: HeatmapInput, c: ChartColors): ChartOption {
  const { xName, yName, xLabels, yLabels, valueName, cells, cellLabels = true } = input;
  const filled = cells.filter((cell) => cell.value !== null);
  const empty = cells.filter((cell) => cell.value === null);
  const style = axisStyle(c);
  const values = filled.map((cell) => cell.value!).filter((v) => Number.isFinite(v));
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 1;
  const ramp = input.lowerIsBetter ? [...c.ramp].reverse() : c.ramp;
  // Cell text dark on pale cells and light on deep ones: pick by the ramp colour nearest the cell's.
  const textColor = (v: number) => {
    const t = max > min ? (v - min) / (max - min) : 0.5;
    return luminance(ramp[Math.round(t * (ramp.length - 1))]) > 0.45 ? '#10151d' : '#f5f8fc';
  };
  return {
    ...baseOption(c, {
      formatter: (p: unknown) => {
        const { seriesIndex, dataIndex } = p as ItemParams;
        const cell = (seriesIndex === 0 ? filled : empty)[dataIndex];
        const head = `${yName} ${yLabels[cell.y]} · ${xName} ${xLabels[cell.x]}`;
        const seeds = cell.seeds ? ` (${seedsText(cell.seeds.n)})` : '';
        return [head, `${valueName}: <b>${valueText(cell)}</b>${seeds}`, cell.detail].filter(Boolean).join('<br>');
      },
    }),
    grid: { left: 84, right: 112, top: 12, bottom: 44 },
    xAxis: {
      type: 'category',
      data: xLabels,
      name: xName,
      nameLocation: 'middle',
      nameGap: 28,
      ...style,
      splitArea: { show: false },
    },
    yAxis: {
      type: 'category',
      data: yLabels,
      name: yName,
      nameLocation: 'middle',
      nameGap: 62,
      ...style,
      splitArea: { show: false },
    },
    visualMap: [
      {
        type: 'continuous' as const,
        seriesIndex: 0,
        min,
        max: max > min ? max : min + 1,
        calculable: true,
        formatter: (v: unknown) => formatNumber(Number(v)),
        orient: 'vertical',
        right: 4,
        top: 'middle',
        itemHeight: 140,
        inRange: { color: ramp },
        textStyle: { color: c.muted },
      },
      // ECharts colours every heatmap series through a visual map: the cells without a figure get a plain one.
      {
        type: 'continuous' as const,
        show: false,
        seriesIndex: 1,
        min: 0,
        max: 1,
        inRange: { color: [c.empty, c.empty] },
      },
    ],
    series: [
      {
        type: 'heatmap',
        name: valueName,
        data: filled.map((cell) => ({ value: [cell.x, cell.y, cell.value], label: { color: textColor(cell.value!) } })),
        label: {
          show: cellLabels,
          fontSize: 11,
          lineHeight: 14,
          formatter: (p: unknown) => cellLabel(filled[(p as ItemParams).dataIndex]),
        },
        itemStyle: { borderColor: c.panel, borderWidth: 2 },
        emphasis: { itemStyle: { borderColor: c.text, borderWidth: 1 } },
      },
      {
        // Cells without a figure yet (queued, running, failed): drawn plain, labelled with their note.
        type: 'heatmap',
        name: 'no figure',
        data: empty.map((cell) => [cell.x, cell.y, 0]),
        label: {
          show: cellLabels,
          fontSize: 11,
          lineHeight: 14,
          color: c.muted,
          formatter: (p: unknown) => empty[(p as ItemParams).dataIndex].note,
        },
        itemStyle: { borderColor: c.panel, borderWidth: 2 },
      },
    ],
  };
}

/** The heatmap's data: one row per cell (y, x, value, its s.e. and n where cells are means of seeds, the extras). */
export function heatmapTable(input: HeatmapInput): DataTable {
  const seeds = input.cells.some((cell) => cell.seeds);
  return {
    columns: [
      input.yName,
      input.xName,
      input.valueName,
      ...(seeds ? [SPREAD, 'n'] : []),
      ...(input.extraColumns ?? []),
    ],
    rows: input.cells.map((cell) => [
      input.yLabels[cell.y],
      input.xLabels[cell.x],
      cell.value,
      ...(seeds ? [cell.seeds?.se ?? null, cell.seeds?.n ?? null] : []),
      ...cell.extra,
    ]),
  };
}
