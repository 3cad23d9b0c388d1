// Datasets as the task families see them: labelled examples already reduced to d dimensions.

/** Raw labelled images, pixel values scaled to [0, 1], row-major [count, height * width]. */
export interface RawImages {
  width: number;
  height: number;
  count: number;
  pixels: Float32Array;
  labels: Uint8Array;
  numClasses: number;
}

/** Sizes of a dataset, known without loading it (for listings). */
export interface DatasetCounts {
  width: number;
  height: number;
  trainCount: number;
  testCount: number;
  numClasses: number;
}

/** One row of the dataset listing the UI shows: the contract's type. */
export type { DatasetInfo } from '../../../shared/api.js';

/** Where the data of one named dataset comes from (a registry entry). */
export interface DatasetSource {
  name: string;
  description: string;
  counts: DatasetCounts;
  /** True where the data depends on DataContext.seed (generated datasets): the cache keys on the seed. */
  seeded?: boolean;
  /** Training and test examples; the two never share an example. */
  load(context: DataContext): Promise<{ train: RawImages; test: RawImages }>;
}

export interface DataContext {
  /** Folder holding imported datasets ($METALAB_HOME/datasets); null where none is configured. */
  dataDir: string | null;
  /** Seed for datasets that are generated (`random`). */
  seed: number;
}

export interface PreprocessOptions {
  /** Target dimension d. */
  inputDim: number;
  method: 'pca' | 'resize' | 'none';
  normalization: 'global' | 'per-dimension';
  /** Keep only labels 0..classes-1. */
  classes: number;
}

/**
 * One split of a prepared dataset: inputs [count, dim] (z-normalised with the training split's statistics) and labels.
 */
export interface Examples {
  count: number;
  dim: number;
  inputs: Float32Array;
  labels: Int32Array;
  numClasses: number;
  /** Indices of the examples of each class, for sampling. */
  byClass: Int32Array[];
}

export interface PreparedDataset {
  name: string;
  train: Examples;
  test: Examples;
}
