// Chart downloads. PNG and SVG are figures: the chart drawn again offscreen with the light theme's colours
// whatever the page's theme, under its title (and the runs it shows), with its legend and axis names, at the
// zoom (and brushes) the user left it at. CSV is the chart's data table.
import { CHART_COLORS } from '../../../shared/figures/colors';
import { toCsv, type DataTable } from '../../../shared/figures/data';
import { figureOption } from '../../../shared/figures/frame';
import type { ComputedRef, InjectionKey } from 'vue';
import { init, type ChartOption, type ECharts } from './echarts';

/** A view provides what its figures show (a run, runs, an experiment): the exported figures' subtitle. */
export const FIGURE_SUBTITLE: InjectionKey<ComputedRef<string>> = Symbol('figure subtitle');

export interface FigureSpec {
  title: string;
  /** What the figure shows: its runs (r3, r5) or experiment. */
  subtitle?: string;
  /** The chart's option in given colours (ChartFrame's `build`). */
  light: ChartOption;
  /** Applies state the option does not hold (brushed intervals) to the offscreen chart. */
  replay?: (chart: ECharts) => void;
}

/** Room the figure's title and legend take above the plot, added to the chart's height. */
const HEADER = 56;

const measure = document.createElement('canvas').getContext('2d');
function textWidth(text: string, font: string): number {
  if (!measure) return text.length * 7;
  measure.font = font;
  return measure.measureText(text).width;
}

/** The figure's option: the light option laid out with title and legend, at the live chart's zoom window. */
function exportOption(live: ECharts, spec: FigureSpec, width: number): ChartOption {
  // Charts with a legend show it whenever a series has a name (the page hides it for one line).
  const named = ([] as { name?: string }[]).concat((spec.light.series as { name?: string }[]) ?? []);
  const legend = spec.light.legend && { ...(spec.light.legend as object), show: named.some((s) => s.name) };
  const option = figureOption(
    { ...spec.light, legend },
    { width, title: spec.title, subtitle: spec.subtitle, colors: CHART_COLORS.light, textWidth },
  );
  const zoom = ([] as object[]).concat(live.getOption().dataZoom ?? []).map((dz) => ({ ...dz, show: false }));
  return { ...option, dataZoom: zoom, animation: false };
}

function offscreen(spec: FigureSpec, option: ChartOption, opts: Parameters<typeof init>[2]): ECharts {
  const chart = init(opts?.ssr ? null : document.createElement('div'), null, opts);
  chart.setOption(option);
  spec.replay?.(chart);
  return chart;
}

/** The figure as a PNG at twice the chart's resolution. */
export function pngBlob(live: ECharts, spec: FigureSpec): Blob {
  const [width, height] = [live.getWidth(), live.getHeight() + HEADER];
  const chart = offscreen(spec, exportOption(live, spec, width), { renderer: 'canvas', width, height });
  try {
    return dataUrlBlob(chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: CHART_COLORS.light.panel }));
  } finally {
    chart.dispose();
  }
}

/** The figure as an SVG document (ECharts' SVG renderer in server-side mode). */
export function svgText(live: ECharts, spec: FigureSpec): string {
  const [width, height] = [live.getWidth(), live.getHeight() + HEADER];
  const chart = offscreen(spec, exportOption(live, spec, width), { renderer: 'svg', ssr: true, width, height });
  try {
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function downloadBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function dataUrlBlob(url: string): Blob {
  const [head, body] = url.split(',', 2);
  const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0));
  return new Blob([bytes], { type: head.slice(5).split(';')[0] });
}

export function csvBlob(table: DataTable): Blob {
  return new Blob([toCsv(table)], { type: 'text/csv;charset=utf-8' });
}

/** A file name from a chart title: lower case, words joined by dashes. */
export function fileBase(title: string): string {
  return (
    title
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'chart'
  );
}
