// Chart colours from the page's CSS variables, so every chart follows the light / dark theme.
import { computed } from 'vue';
import { theme } from '../theme';

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

const palettes = {
  light: ['#2f6feb', '#d1495b', '#1a936f', '#e08e0b', '#7b4fbf', '#0096c7', '#c2185b', '#6b7a34', '#8d6e63', '#455a64'],
  dark: ['#6ea2ff', '#ff7b8a', '#4fd1a5', '#f6b94a', '#b18cff', '#4cc9f0', '#f06292', '#b5c96a', '#c7a58f', '#a3b5c2'],
};
const ramps = {
  light: ['#e3ecf7', '#b4d0ea', '#6baed6', '#2171b5', '#08306b'],
  dark: ['#2a3b55', '#1f5f99', '#2e86c1', '#7fc4f0', '#e3f2ff'],
};
const plateauFill = { light: 'rgba(209,73,91,0.12)', dark: 'rgba(255,123,138,0.14)' };
const phaseFills = {
  light: ['rgba(120,130,150,0.14)', 'rgba(224,142,11,0.18)', 'rgba(123,79,191,0.16)', 'rgba(26,147,111,0.18)'],
  dark: ['rgba(160,170,190,0.12)', 'rgba(246,185,74,0.18)', 'rgba(177,140,255,0.18)', 'rgba(79,209,165,0.18)'],
};

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Recomputed when the theme changes; read it inside a computed option so charts re-render. */
export const chartColors = computed<ChartColors>(() => {
  const t = theme.value;
  return {
    text: css('--fg'),
    muted: css('--fg-muted'),
    grid: css('--border'),
    panel: css('--panel'),
    accent: css('--accent'),
    empty: css('--bar'),
    palette: palettes[t],
    ramp: ramps[t],
    phases: phaseFills[t],
    plateau: plateauFill[t],
  };
});

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

/** What every chart shares: no animation (live data redraws often), theme text, a themed tooltip. */
export function baseOption(c: ChartColors) {
  return {
    animation: false,
    color: c.palette,
    textStyle: { color: c.text },
    tooltip: { backgroundColor: c.panel, borderColor: c.grid, textStyle: { color: c.text } },
  };
}
