// The option object every figure builder returns: ECharts' option type for the charts and components the
// lab draws. Types only: the page and the CLI each assemble the ECharts runtime they need.
import type { HeatmapSeriesOption, LineSeriesOption, ParallelSeriesOption, ScatterSeriesOption } from 'echarts/charts';
import type {
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
  VisualMapComponentOption,
} from 'echarts/components';
import type { ComposeOption } from 'echarts/core';

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
