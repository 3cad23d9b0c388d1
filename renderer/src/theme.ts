// The colour theme (light / dark), remembered across sessions; charts re-render when it changes.
import { ref } from 'vue';

export type Theme = 'light' | 'dark';

const saved = localStorage.getItem('metalab-theme');
export const theme = ref<Theme>(saved === 'dark' || saved === 'light' ? saved : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');

export function setTheme(value: Theme): void {
  theme.value = value;
  document.documentElement.dataset.theme = value;
  localStorage.setItem('metalab-theme', value);
}

setTheme(theme.value);
