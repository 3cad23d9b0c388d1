// The dataset layer: the registry of dataset sources, prepared datasets (cached in-process), listing, importing.
import {
  DATASET_NAME,
  importedNames,
  importedSource,
  readManifest,
  writeImport,
  type ImportRequest,
  type Manifest,
} from './imported.js';
import { IdxError } from './idx.js';
import { mnist } from './mnist.js';
import { packagedSources } from './packaged.js';
import { checkOptions, preprocess } from './preprocess.js';
import { random } from './random.js';
import type { DataContext, DatasetInfo, DatasetSource, PreparedDataset, PreprocessOptions } from './types.js';

export { IdxError } from './idx.js';
export type { ImportRequest, Manifest } from './imported.js';

/** The built-in datasets. Adding one: a file exporting a DatasetSource, and one line here. */
export const DATASETS: readonly DatasetSource[] = [mnist, random];

/** The source of a dataset, and what identifies its current data (for the cache). */
function resolve(name: string, context: DataContext): { source: DatasetSource; version: string } {
  const builtIn = DATASETS.find((s) => s.name === name);
  if (builtIn) return { source: builtIn, version: builtIn.seeded ? `seed ${context.seed}` : 'bundled' };
  const manifest = context.dataDir && DATASET_NAME.test(name) ? readManifest(name, context.dataDir) : null;
  if (manifest && context.dataDir)
    return { source: importedSource(manifest, context.dataDir), version: `${context.dataDir} ${manifest.importedAt}` };
  const packaged = packagedSources().find((s) => s.name === name);
  if (packaged) return { source: packaged, version: 'packaged' };
  throw new Error(
    `unknown dataset '${name}': available are ${listDatasets(context.dataDir)
      .map((d) => d.name)
      .join(', ')}` +
      (context.dataDir
        ? ` (imported ones live in ${context.dataDir})`
        : ' (no data folder for imported datasets here)') +
      '; import IDX files with `metalab import`',
  );
}

/** Prepared datasets by name, data version and options; the promise is shared so concurrent requests load once. */
const cache = new Map<string, Promise<PreparedDataset>>();
const CACHE_LIMIT = 16;

/** A dataset reduced and normalised as `options` say; cached in-process (every evaluation and run asks again). */
export async function loadDataset(
  name: string,
  options: PreprocessOptions,
  context: DataContext,
): Promise<PreparedDataset> {
  const { source, version } = resolve(name, context);
  checkOptions(name, source.counts, options);
  const { inputDim, method, normalization, classes } = options;
  const key = JSON.stringify([name, version, inputDim, method, normalization, classes]);
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // most recently used last
    cache.set(key, hit);
    return hit;
  }
  const prepared = source.load(context).then((raw) => preprocess(name, raw, options));
  cache.set(key, prepared);
  prepared.catch(() => {
    if (cache.get(key) === prepared) cache.delete(key);
  });
  while (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return prepared;
}

/** Forgets every prepared dataset (tests; memory). */
export function clearDatasetCache(): void {
  cache.clear();
}

/** Every dataset a spec can name: the built-in ones, those imported into `dataDir`, then packaged ones found here. */
export function listDatasets(dataDir: string | null): DatasetInfo[] {
  const builtIn = DATASETS.map((s) => ({ name: s.name, description: s.description, ...s.counts, imported: false }));
  const imported = dataDir
    ? importedNames(dataDir).flatMap((name) => {
        const manifest = readManifest(name, dataDir);
        const source = manifest && importedSource(manifest, dataDir);
        return source ? [{ name, description: source.description, ...source.counts, imported: true }] : [];
      })
    : [];
  const packaged = packagedSources()
    .filter((s) => !imported.some((d) => d.name === s.name))
    .map((s) => ({ name: s.name, description: s.description, ...s.counts, imported: false }));
  return [...builtIn, ...imported, ...packaged];
}

/**
 * Imports IDX files as dataset `name` into `dataDir` (see ImportRequest): everything is validated before anything
 * is written, and a failed import leaves nothing behind. Throws IdxError for invalid files or names.
 */
export function importIdx(request: ImportRequest, dataDir: string): Manifest {
  if (DATASETS.some((s) => s.name === request.name))
    throw new IdxError(`'${request.name}' is a built-in dataset; choose another name`);
  return writeImport(request, dataDir);
}
