// The colour theme (light / dark), remembered across sessions; charts re-render when it changes.
import { computed, ref } from 'vue';
import { CHART_COLORS, type ChartColors, type ThemeName } from '../../shared/figures/colors';

const saved = localStorage.getItem('metalab-theme');
export const theme = ref<ThemeName>(
  saved === 'dark' || saved === 'light' ? saved : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light',
);

export function setTheme(value: ThemeName): void {
  theme.value = value;
  document.documentElement.dataset.theme = value;
  localStorage.setItem('metalab-theme', value);
}

/** The current theme's chart colours; read it inside a computed option so charts re-render. */
export const chartColors = computed<ChartColors>(() => CHART_COLORS[theme.value]);

setTheme(theme.value);
