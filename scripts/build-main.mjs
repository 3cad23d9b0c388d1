// Bundles the Node side (CLI, worker, Electron main and preload) into dist/main as CommonJS.
// Dependencies stay external: native modules and tfjs's wasm files load from node_modules.
import { build } from 'esbuild';

const entries = {
  cli: 'main/cli/index.ts',
  worker: 'main/worker/index.ts',
  electron: 'main/electron/main.ts',
  preload: 'main/electron/preload.ts',
};

await build({
  entryPoints: entries,
  outdir: 'dist/main',
  outExtension: { '.js': '.cjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Sources are ES modules that use import.meta.url; give the CommonJS bundles an equivalent.
  define: { 'import.meta.url': '__metalab_import_meta_url' },
  banner: { js: "const __metalab_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
