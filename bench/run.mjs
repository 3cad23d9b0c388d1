// `npm run bench [-- options]`: bundles the TypeScript harness (bench/main.ts) with esbuild, the way
// scripts/build-main.mjs bundles the app, and runs it. Options: see bench/main.ts (--help).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const entry = process.env.METALAB_BENCH_ENTRY ?? 'bench/main.ts';
const outfile = path.join(root, 'bench', 'results', 'build', `${path.basename(entry, '.ts')}.cjs`);
await build({
  entryPoints: [path.join(root, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
  define: { 'import.meta.url': '__metalab_import_meta_url' },
  banner: { js: "const __metalab_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
});
process.chdir(root);
createRequire(import.meta.url)(outfile);
