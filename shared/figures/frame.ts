// A chart's option laid out for a fixed-size figure: a title, a legend that wraps over rows instead of
// scrolling, room for both. The host renders it (metalab figure: ECharts' SVG renderer in server-side mode).
import type { GridComponentOption, LegendComponentOption, TitleComponentOption } from 'echarts/components';
import type { ChartColors } from './colors.js';
import type { ChartOption } from './option.js';

export interface FigureFrame {
  width: number;
  /** Omitted or empty: no title. */
  title?: string;
  /** A smaller line under the title: what the figure shows (experiment, held axes). */
  subtitle?: string;
  colors: ChartColors;
  /** Width in pixels of a text in a CSS font, as the renderer will lay it out. */
  textWidth: (text: string, font: string) => number;
}

const TITLE_SIZE = 15;
const SUBTITLE_SIZE = 11;
const LEGEND_PADDING = 5;
const LEGEND_ITEM_HEIGHT = 14;
/** Between the icon and the text of a legend item (ECharts' fixed gap). */
const LEGEND_TEXT_GAP = 5;

/**
 * Rows a plain horizontal legend wraps into, as ECharts lays it out (items left to right, a new row when
 * the next would pass the width), with its own text measure; `width` is kept narrower than the chart so
 * an estimate errs towards one row too many, never too few.
 */
function legendRows(
  names: readonly string[],
  legend: LegendComponentOption,
  width: number,
  textWidth: FigureFrame['textWidth'],
): number {
  const font = `${legend.textStyle?.fontSize ?? 12}px sans-serif`;
  const itemWidth = Number(legend.itemWidth ?? 25);
  const gap = Number(legend.itemGap ?? 10);
  let rows = 1;
  let x = 0;
  for (const name of names) {
    const w = itemWidth + LEGEND_TEXT_GAP + textWidth(name, font);
    if (x > 0 && x + w > width) {
      rows++;
      x = 0;
    }
    x += w + gap;
  }
  return rows;
}

/** The option as a figure: its background, a centred title, the legend below it in rows, the plot below both. */
export function figureOption(option: ChartOption, frame: FigureFrame): ChartOption {
  const c = frame.colors;
  const titleHeight = frame.title ? (frame.subtitle ? 48 : 32) : 0;
  const title: TitleComponentOption = {
    show: Boolean(frame.title),
    text: frame.title,
    subtext: frame.subtitle,
    left: 'center',
    top: 6,
    itemGap: 4,
    textStyle: { color: c.text, fontSize: TITLE_SIZE, fontWeight: 600 },
    subtextStyle: { color: c.muted, fontSize: SUBTITLE_SIZE },
  };
  const grid = { ...(option.grid as GridComponentOption) };
  const shown = option.legend as LegendComponentOption | undefined;
  let legend = shown;
  if (shown?.show) {
    const names = [
      ...new Set(
        ([] as { name?: string }[])
          .concat((option.series as { name?: string }[]) ?? [])
          .flatMap((s) => (s.name ? [s.name] : [])),
      ),
    ];
    legend = {
      ...shown,
      type: 'plain',
      top: titleHeight,
      left: 'center',
      itemGap: Math.max(Number(shown.itemGap ?? 10), 14),
    };
    const rows = legendRows(names, legend, frame.width - 60, frame.textWidth);
    grid.top = titleHeight + 2 * LEGEND_PADDING + rows * LEGEND_ITEM_HEIGHT + (rows - 1) * Number(legend.itemGap) + 14;
  } else {
    grid.top = Number(grid.top ?? 0) + titleHeight;
  }
  // A little more margin than on the page, where the panel's padding gives it: labels at the edges stay whole.
  grid.right = Number(grid.right ?? 0) + 12;
  grid.bottom = Number(grid.bottom ?? 0) + 6;
  return { ...option, backgroundColor: c.panel, title, legend, grid, dataZoom: [] };
}
