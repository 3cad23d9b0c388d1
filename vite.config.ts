import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// The page is built once and served by both hosts: from file:// in Electron (hence relative asset
// paths) and from the web host.
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [vue()],
  build: { outDir: '../dist/renderer', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
});
