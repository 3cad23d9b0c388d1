// ECharts in server-side mode for `metalab figure`: the chart types the lab's figures use, the SVG renderer,
// and a figure option (shared/figures) rendered to an SVG document without a DOM.
import { HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { format, init, setPlatformAPI, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { platformApi } from 'zrender/lib/core/platform.js';
import { figureOption, type FigureFrame } from '../../shared/figures/frame.js';
import type { ChartOption } from '../../shared/figures/option.js';

use([
  LineChart,
  HeatmapChart,
  ScatterChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DataZoomComponent,
  MarkAreaComponent,
  MarkLineComponent,
  VisualMapComponent,
  TitleComponent,
  SVGRenderer,
]);

// Without a DOM, ECharts has no canvas to measure text with and estimates widths from a table of a narrow
// font; viewers often draw the SVG in a wider one (DejaVu Sans is 10-15% wider). Widening the estimate makes
// legends, labels and centred titles leave room for either.
const estimate = platformApi.measureText;
setPlatformAPI({ measureText: (text, font) => ({ width: estimate(text, font).width * 1.15 }) });

const textWidth = (text: string, font: string) => format.getTextRect(text, font).width;

/** The option laid out as a figure (title, wrapped legend) and rendered as an SVG document. */
export function figureSvg(option: ChartOption, frame: Omit<FigureFrame, 'textWidth'>, height: number): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width: frame.width, height });
  try {
    chart.setOption(figureOption(option, { ...frame, textWidth }));
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
