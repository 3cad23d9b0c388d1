// `npm run bench [-- options]`: bundles the TypeScript harness (bench/main.ts) with esbuild, the way
// scripts/build-main.mjs bundles the app, and runs it. Options: see bench/main.ts (--help).
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBundle } from '../scripts/node-bundle.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const entry = process.env.METALAB_BENCH_ENTRY ?? 'bench/main.ts';
const outfile = path.join(root, 'bench', 'results', 'build', `${path.basename(entry, '.ts')}.cjs`);
await build({ ...nodeBundle, entryPoints: [path.join(root, entry)], outfile, sourcemap: 'inline' });
process.chdir(root);
createRequire(import.meta.url)(outfile);
