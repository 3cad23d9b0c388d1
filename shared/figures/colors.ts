// Chart colours per theme: the page's colours (style.css holds the same values as CSS variables) plus
// line palettes, ramps and band fills that read on both backgrounds. Pure data: the page and the CLI's
// figures draw with the same colours.
import type { TooltipComponentOption } from 'echarts/components';

export type ThemeName = 'light' | 'dark';

export interface ChartColors {
  text: string;
  muted: string;
  grid: string;
  panel: string;
  accent: string;
  /** Fill of a cell that has no value yet. */
  empty: string;
  /** Line colours, distinguishable on both backgrounds. */
  palette: string[];
  /** Low-to-high ramp for heatmaps and visual maps. */
  ramp: string[];
  /** Fills for the four phase labels (PHASE_LABELS order), translucent over the plot. */
  phases: string[];
  plateau: string;
}

export const CHART_COLORS: Record<ThemeName, ChartColors> = {
  light: {
    text: '#1c2330',
    muted: '#5b6577',
    grid: '#dde1e8',
    panel: '#ffffff',
    accent: '#2f6feb',
    empty: '#e8ecf2',
    palette: [
      '#2f6feb',
      '#d1495b',
      '#1a936f',
      '#e08e0b',
      '#7b4fbf',
      '#0096c7',
      '#c2185b',
      '#6b7a34',
      '#8d6e63',
      '#455a64',
    ],
    ramp: ['#e3ecf7', '#b4d0ea', '#6baed6', '#2171b5', '#08306b'],
    phases: ['rgba(120,130,150,0.14)', 'rgba(224,142,11,0.18)', 'rgba(123,79,191,0.16)', 'rgba(26,147,111,0.18)'],
    plateau: 'rgba(209,73,91,0.12)',
  },
  dark: {
    text: '#e3e8ef',
    muted: '#98a2b3',
    grid: '#2a3240',
    panel: '#181d26',
    accent: '#4c8dff',
    empty: '#262e3b',
    palette: [
      '#6ea2ff',
      '#ff7b8a',
      '#4fd1a5',
      '#f6b94a',
      '#b18cff',
      '#4cc9f0',
      '#f06292',
      '#b5c96a',
      '#c7a58f',
      '#a3b5c2',
    ],
    ramp: ['#2a3b55', '#1f5f99', '#2e86c1', '#7fc4f0', '#e3f2ff'],
    phases: ['rgba(160,170,190,0.12)', 'rgba(246,185,74,0.18)', 'rgba(177,140,255,0.18)', 'rgba(79,209,165,0.18)'],
    plateau: 'rgba(255,123,138,0.14)',
  },
};

/** Axis lines, labels and grid lines in the theme's colours. */
export function axisStyle(c: ChartColors) {
  return {
    axisLine: { lineStyle: { color: c.grid } },
    axisTick: { lineStyle: { color: c.grid } },
    axisLabel: { color: c.muted },
    splitLine: { lineStyle: { color: c.grid } },
    nameTextStyle: { color: c.muted },
  };
}

/** What a tooltip formatter is told about the item under the pointer. */
export interface ItemParams {
  seriesIndex: number;
  dataIndex: number;
}

/**
 * What every chart shares: no animation (live data redraws often), theme text, a themed tooltip (with the chart's own
 * settings).
 */
export function baseOption(c: ChartColors, tooltip: TooltipComponentOption) {
  return {
    animation: false,
    color: c.palette,
    textStyle: { color: c.text },
    tooltip: { backgroundColor: c.panel, borderColor: c.grid, textStyle: { color: c.text }, ...tooltip },
  };
}
