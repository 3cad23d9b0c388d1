// Chart downloads: PNG from the canvas, SVG from an offscreen server-side render of the same option, CSV.
import { toCsv, type DataTable } from '../../../shared/figures/data';
import { init, type ChartOption, type ECharts } from './echarts';

function renderSvg(option: ChartOption, width: number, height: number): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption(option);
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

/** The chart as drawn (zoom and brushes included), at twice the resolution, without the zoom slider. */
export function pngBlob(chart: ECharts, background: string): Blob {
  return dataUrlBlob(
    chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: background, excludeComponents: ['dataZoom'] }),
  );
}

/**
 * The chart as an SVG document: its current option (zoom window and brushes included) rendered again
 * by ECharts' SVG renderer in server-side mode, at the chart's size, with the zoom slider hidden.
 */
export function svgText(chart: ECharts, background: string): string {
  const option = chart.getOption() as ChartOption;
  const dataZoom = ([] as object[]).concat(option.dataZoom ?? []).map((dz) => ({ ...dz, show: false }));
  return renderSvg(
    { ...option, dataZoom, animation: false, backgroundColor: background },
    chart.getWidth(),
    chart.getHeight(),
  );
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
