// Datasets imported into the data folder: `<dataDir>/<name>/` holds uncompressed IDX files and manifest.json.
import fs from 'node:fs';
import path from 'node:path';
import { checkPair, encodeIdx, IdxError, readIdxImages, readIdxLabels, type IdxImages, type IdxLabels } from './idx.js';
import type { DatasetCounts, DatasetSource, RawImages } from './types.js';

/** The names datasets may have (the spec's `datasetName`); also keeps names from leaving the data folder. */
export const DATASET_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export interface ImportRequest {
  name: string;
  trainImages: string;
  trainLabels: string;
  /** Without test files, the last 1/6 of each class's training examples (in file order) become the test split. */
  testImages?: string;
  testLabels?: string;
  /** Refuse labels >= this. */
  maxClasses?: number;
}

export interface Manifest extends DatasetCounts {
  format: 1;
  name: string;
  testSplit: 'files' | 'held-out';
  /** The imported files, as given (resolved to absolute paths). */
  source: { trainImages: string; trainLabels: string; testImages: string | null; testLabels: string | null };
  importedAt: string;
}

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};
const MANIFEST = 'manifest.json';

interface Split {
  images: IdxImages;
  labels: IdxLabels;
}

/** Examples `indices` of a split, copied. */
function subset(split: Split, indices: number[]): Split {
  const size = split.images.width * split.images.height;
  const data = new Uint8Array(indices.length * size);
  const labels = new Uint8Array(indices.length);
  indices.forEach((from, to) => {
    data.set(split.images.data.subarray(from * size, (from + 1) * size), to * size);
    labels[to] = split.labels.labels[from];
  });
  return {
    images: { ...split.images, count: indices.length, data },
    labels: { ...split.labels, count: indices.length, labels },
  };
}

/**
 * Holds out the last 1/6 of each class (per class, so a file sorted by label still gives a test set of every class).
 */
function holdOut(all: Split): { train: Split; test: Split } {
  const byClass: number[][] = Array.from({ length: all.labels.numClasses }, () => []);
  for (const [i, label] of all.labels.labels.entries()) byClass[label].push(i);
  const train: number[] = [];
  const test: number[] = [];
  for (const members of byClass) {
    const cut = members.length - Math.floor(members.length / 6);
    for (const [rank, i] of members.entries()) (rank < cut ? train : test).push(i);
  }
  if (!test.length)
    throw new IdxError(
      `${all.labels.file}: too few examples (${all.labels.count}) to hold out a test split; give test files`,
    );
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train: subset(all, train), test: subset(all, test) };
}

function readSplit(imagesFile: string, labelsFile: string, maxClasses?: number): Split {
  const images = readIdxImages(imagesFile);
  const labels = readIdxLabels(labelsFile, maxClasses);
  checkPair(images, labels);
  return { images, labels };
}

/** Validates every file, then writes the dataset into `<dataDir>/<name>/` atomically (temp folder, then rename). */
export function writeImport(request: ImportRequest, dataDir: string): Manifest {
  const { name } = request;
  if (!DATASET_NAME.test(name))
    throw new IdxError(
      `'${name}' is not a valid dataset name: use lower-case letters, digits and '-', up to 64 characters`,
    );
  const target = path.join(dataDir, name);
  if (fs.existsSync(target))
    throw new IdxError(`a dataset named '${name}' already exists in ${target}; delete that folder to import it again`);
  const { maxClasses } = request;
  if (maxClasses !== undefined && !(Number.isInteger(maxClasses) && maxClasses >= 1 && maxClasses <= 256)) {
    throw new IdxError(`the class limit must be a whole number from 1 to 256, not ${maxClasses}`);
  }
  if (!request.testImages !== !request.testLabels)
    throw new IdxError('give both test files (images and labels) or neither');

  const given =
    request.testImages && request.testLabels ? readSplit(request.testImages, request.testLabels, maxClasses) : null;
  const all = readSplit(request.trainImages, request.trainLabels, maxClasses);
  if (given && (given.images.width !== all.images.width || given.images.height !== all.images.height)) {
    throw new IdxError(
      `${given.images.file} holds ${given.images.height} x ${given.images.width} images ` +
        `but ${all.images.file} holds ${all.images.height} x ${all.images.width}`,
    );
  }
  const { train, test } = given ? { train: all, test: given } : holdOut(all);
  const manifest: Manifest = {
    format: 1,
    name,
    width: train.images.width,
    height: train.images.height,
    trainCount: train.images.count,
    testCount: test.images.count,
    numClasses: Math.max(train.labels.numClasses, test.labels.numClasses),
    testSplit: given ? 'files' : 'held-out',
    source: {
      trainImages: path.resolve(request.trainImages),
      trainLabels: path.resolve(request.trainLabels),
      testImages: request.testImages ? path.resolve(request.testImages) : null,
      testLabels: request.testLabels ? path.resolve(request.testLabels) : null,
    },
    importedAt: new Date().toISOString(),
  };

  fs.mkdirSync(dataDir, { recursive: true });
  // Not mkdtemp: its folders are private (0700) whatever the umask says.
  const temp = path.join(dataDir, `.import-${name}-${process.pid}-${Date.now()}`);
  fs.mkdirSync(temp);
  try {
    for (const [key, split] of [
      ['train', train],
      ['test', test],
    ] as const) {
      const { count, height, width, data } = split.images;
      fs.writeFileSync(path.join(temp, FILES[`${key}Images`]), encodeIdx('images', [count, height, width], data));
      fs.writeFileSync(path.join(temp, FILES[`${key}Labels`]), encodeIdx('labels', [count], split.labels.labels));
    }
    fs.writeFileSync(path.join(temp, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    fs.renameSync(temp, target);
  } catch (err) {
    fs.rmSync(temp, { recursive: true, force: true });
    throw err;
  }
  return manifest;
}

/** The manifest of an imported dataset; null where there is none (an error where it is unreadable). */
export function readManifest(name: string, dataDir: string): Manifest | null {
  if (!DATASET_NAME.test(name)) return null;
  const file = path.join(dataDir, name, MANIFEST);
  if (!fs.existsSync(file)) return null;
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Manifest>;
  if (
    manifest.format !== 1 ||
    manifest.name !== name ||
    !manifest.trainCount ||
    !manifest.testCount ||
    !manifest.numClasses
  ) {
    throw new Error(`${file} is not a metalab dataset manifest`);
  }
  return manifest as Manifest;
}

/** The names of the datasets imported into `dataDir` that have a readable manifest. */
export function importedNames(dataDir: string | null): string[] {
  if (!dataDir || !fs.existsSync(dataDir)) return [];
  return fs
    .readdirSync(dataDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && DATASET_NAME.test(e.name))
    .map((e) => e.name)
    .filter((name) => {
      try {
        return readManifest(name, dataDir) !== null;
      } catch {
        return false;
      }
    })
    .sort();
}

function toRaw(split: Split, numClasses: number): RawImages {
  const { width, height, count, data } = split.images;
  const pixels = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) pixels[i] = data[i] / 255;
  return { width, height, count, pixels, labels: split.labels.labels, numClasses };
}

/** Where the four IDX files of a dataset lie. */
export type IdxFiles = Record<keyof typeof FILES, string>;

/** The four IDX files under their standard names in `dir` (`suffix` '.gz' for gzipped ones). */
export function idxPaths(dir: string, suffix = ''): IdxFiles {
  const at = (file: string) => path.join(dir, file + suffix);
  return {
    trainImages: at(FILES.trainImages),
    trainLabels: at(FILES.trainLabels),
    testImages: at(FILES.testImages),
    testLabels: at(FILES.testLabels),
  };
}

/** A dataset source that reads IDX files where they lie, checking them against the counts it announces. */
export function idxSource(
  name: string,
  description: string,
  counts: DatasetCounts,
  files: IdxFiles,
  where: string,
): DatasetSource {
  const read = (split: 'train' | 'test', count: number): Split => {
    const s = readSplit(files[`${split}Images`], files[`${split}Labels`]);
    if (s.images.count !== count || s.images.width !== counts.width || s.images.height !== counts.height) {
      throw new Error(
        `${where}: the ${split} files are not the expected ${count} images of ${counts.width}x${counts.height}`,
      );
    }
    return s;
  };
  return {
    name,
    description,
    counts,
    async load() {
      return {
        train: toRaw(read('train', counts.trainCount), counts.numClasses),
        test: toRaw(read('test', counts.testCount), counts.numClasses),
      };
    },
  };
}

/** The registry entry of an imported dataset. */
export function importedSource(manifest: Manifest, dataDir: string): DatasetSource {
  const dir = path.join(dataDir, manifest.name);
  const { width, height, trainCount, testCount, numClasses } = manifest;
  const heldOut = manifest.testSplit === 'held-out' ? ' (test: last 1/6 of each class)' : '';
  const source = path.basename(manifest.source.trainImages);
  const description = `imported ${manifest.importedAt.slice(0, 10)} from ${source}${heldOut}`;
  return idxSource(
    manifest.name,
    description,
    { width, height, trainCount, testCount, numClasses },
    idxPaths(dir),
    `${dir} (import the dataset again)`,
  );
}
