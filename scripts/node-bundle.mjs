// esbuild options shared by every Node bundle (the app's dist/main, the benchmark harness): CommonJS for Node 20,
// dependencies external (native modules and tfjs's wasm files load from node_modules).
export const nodeBundle = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  logLevel: 'warning',
  // Sources are ES modules that use import.meta.url; give the CommonJS bundles an equivalent.
  define: { 'import.meta.url': '__metalab_import_meta_url' },
  banner: { js: "const __metalab_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
};
