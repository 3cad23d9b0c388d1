// `random`: Gaussian "images" with uniformly random labels, so there is nothing to learn across examples
// (the Random column of the GPICL paper's table). Generated from the context's seed.
import { Rng, seedFrom } from '../rng.js';
import type { DatasetSource, RawImages } from './types.js';

const SIZE = 28;
const CLASSES = 10;

/** Unlike other RawImages the values are N(0, 1), not in [0, 1]; preprocessing does not care. */
function generate(rng: Rng, count: number): RawImages {
  const pixels = rng.fillNormal(new Float32Array(count * SIZE * SIZE));
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) labels[i] = rng.int(CLASSES);
  return { width: SIZE, height: SIZE, count, pixels, labels, numClasses: CLASSES };
}

export const random: DatasetSource = {
  name: 'random',
  description: 'Gaussian noise inputs (28x28) with uniformly random labels, generated from the seed: nothing to learn',
  counts: { width: SIZE, height: SIZE, trainCount: 10_000, testCount: 2_000, numClasses: CLASSES },
  seeded: true,
  async load(context) {
    return {
      train: generate(new Rng(seedFrom(context.seed, 'random-dataset', 'train')), 10_000),
      test: generate(new Rng(seedFrom(context.seed, 'random-dataset', 'test')), 2_000),
    };
  },
};
