// Bundles the Node side (CLI, worker, its ES threads, metric reader thread, Electron main and preload) into
// dist/main as CommonJS.
import { build } from 'esbuild';
import { nodeBundle } from './node-bundle.mjs';

const entries = {
  cli: 'main/cli/index.ts',
  worker: 'main/worker/index.ts',
  'store-reader': 'main/services/store/readerThread.ts',
  'candidate-thread': 'main/worker/candidateThread.ts',
  electron: 'main/electron/main.ts',
  preload: 'main/electron/preload.ts',
};

await build({
  ...nodeBundle,
  entryPoints: entries,
  outdir: 'dist/main',
  outExtension: { '.js': '.cjs' },
  sourcemap: 'linked',
});
