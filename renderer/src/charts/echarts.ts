// The one place the page assembles ECharts (tree-shaken): every chart type and component its charts draw.
// The option builders are in shared/figures.
import { HeatmapChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  ParallelComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { use } from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

// Canvas draws on the page; SVG renders exports (server-side-rendering mode, offscreen).
use([
  LineChart,
  HeatmapChart,
  ScatterChart,
  ParallelChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  DataZoomComponent,
  MarkAreaComponent,
  MarkLineComponent,
  VisualMapComponent,
  ParallelComponent,
  TitleComponent,
  CanvasRenderer,
  SVGRenderer,
]);

export type { ChartOption } from '../../../shared/figures/option';
export { connect, init, type ECharts } from 'echarts/core';
