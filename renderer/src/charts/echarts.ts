// The one place ECharts is assembled (tree-shaken): every chart type and component the page and the
// CLI's figures draw.
import { HeatmapChart, LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import type { HeatmapSeriesOption, LineSeriesOption, ParallelSeriesOption, ScatterSeriesOption } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  ParallelComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import type {
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption,
} from 'echarts/components';
import { use, type ComposeOption } from 'echarts/core';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

// Canvas draws on the page; SVG renders exports and figures (server-side-rendering mode, no DOM needed).
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
  VisualMapComponent,
  ParallelComponent,
  TitleComponent,
  CanvasRenderer,
  SVGRenderer,
]);

export type ChartOption = ComposeOption<
  | LineSeriesOption
  | HeatmapSeriesOption
  | ScatterSeriesOption
  | ParallelSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | DataZoomComponentOption
  | VisualMapComponentOption
>;
// (ParallelComponentOption is left out of ChartOption: with it, ECharts' ComposeOption rejects every option.)

export { connect, format, init, setPlatformAPI, type ECharts } from 'echarts/core';
