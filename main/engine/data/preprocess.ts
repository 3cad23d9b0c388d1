// From raw images to Examples: keep the first `classes` labels, reduce to `inputDim` (PCA, resize or none),
// z-normalise with the training split's statistics.
import type { DatasetCounts, Examples, PreparedDataset, PreprocessOptions, RawImages } from './types.js';

/** PCA is fitted on at most this many training examples (evenly spaced through the split). */
export const PCA_FIT_LIMIT = 10_000;

/** Why the options cannot apply to a dataset of these sizes, naming the option at fault; null where they can. */
export function optionsProblem(
  name: string,
  counts: DatasetCounts,
  options: PreprocessOptions,
): { option: 'inputDim' | 'classes'; message: string } | null {
  const { inputDim: d, method, classes } = options;
  const pixels = counts.width * counts.height;
  const inputDim = (message: string) => ({ option: 'inputDim' as const, message });
  if (!Number.isInteger(d) || d < 1) return inputDim(`inputDim must be a positive whole number, not ${d}`);
  if (!Number.isInteger(classes) || classes < 1) {
    return { option: 'classes', message: `classes must be a positive whole number, not ${classes}` };
  }
  if (classes > counts.numClasses) {
    return {
      option: 'classes',
      message: `dataset '${name}' has ${counts.numClasses} classes; the task asks for ${classes}`,
    };
  }
  const shape = `${counts.width}x${counts.height} = ${pixels} pixels`;
  if (method === 'none' && d !== pixels) {
    return inputDim(`preprocess 'none' keeps the ${shape} of '${name}': inputDim must be ${pixels}, not ${d}`);
  }
  if (method === 'resize' && Math.round(Math.sqrt(d)) ** 2 !== d) {
    return inputDim(
      `preprocess 'resize' makes s x s images: inputDim must be a perfect square (such as 16, 64 or 196), not ${d}`,
    );
  }
  if (method === 'pca' && d > pixels)
    return inputDim(`preprocess 'pca' cannot make ${d} dimensions from the ${shape} of '${name}'`);
  return null;
}

/** Throws a clear error where the options cannot apply to a dataset of these sizes (checked before loading it). */
export function checkOptions(name: string, counts: DatasetCounts, options: PreprocessOptions): void {
  const problem = optionsProblem(name, counts, options);
  if (problem) throw new Error(problem.message);
}

/** Indices of the examples whose label is below `classes`. */
function kept(raw: RawImages, classes: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < raw.count; i++) if (raw.labels[i] < classes) out.push(i);
  return Int32Array.from(out);
}

function copyRows(raw: RawImages, indices: Int32Array): Float32Array {
  const dim = raw.width * raw.height;
  const out = new Float32Array(indices.length * dim);
  for (const [to, from] of indices.entries()) out.set(raw.pixels.subarray(from * dim, (from + 1) * dim), to * dim);
  return out;
}

/**
 * weights[o] lists (input index, weight) of output pixel o: the share of each input pixel it covers (area averaging).
 */
function areaWeights(inSize: number, outSize: number): { index: number; weight: number }[][] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, o) => {
    const lo = o * scale;
    const hi = lo + scale;
    const taps: { index: number; weight: number }[] = [];
    for (let i = Math.floor(lo); i < Math.min(inSize, Math.ceil(hi)); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap > 1e-9) taps.push({ index: i, weight: overlap / scale });
    }
    return taps;
  });
}

/** Area resampling to s x s (separable: rows, then columns). */
function resize(raw: RawImages, indices: Int32Array, s: number): Float32Array {
  const { width: w, height: h } = raw;
  const xs = areaWeights(w, s);
  const ys = areaWeights(h, s);
  const out = new Float32Array(indices.length * s * s);
  const rows = new Float64Array(h * s);
  indices.forEach((from, to) => {
    const image = raw.pixels.subarray(from * w * h, (from + 1) * w * h);
    rows.fill(0);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < s; x++) for (const t of xs[x]) rows[y * s + x] += t.weight * image[y * w + t.index];
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        let v = 0;
        for (const t of ys[y]) v += t.weight * rows[t.index * s + x];
        out[to * s * s + y * s + x] = v;
      }
    }
  });
  return out;
}

/** Mean and scale per dimension from the training inputs; `global` uses one pooled standard deviation for all. */
function normalizer(
  inputs: Float32Array,
  count: number,
  dim: number,
  mode: PreprocessOptions['normalization'],
): { mean: Float64Array; scale: Float64Array } {
  const mean = new Float64Array(dim);
  const variance = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += inputs[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= count;
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) variance[j] += (inputs[i * dim + j] - mean[j]) ** 2;
  for (let j = 0; j < dim; j++) variance[j] /= count;
  const usable = (std: number) => (std > 1e-12 ? std : 1); // constant dimensions stay 0 after centring
  const pooled = usable(Math.sqrt(variance.reduce((a, b) => a + b, 0) / dim));
  const scale = Float64Array.from(variance, (v) => (mode === 'global' ? pooled : usable(Math.sqrt(v))));
  return { mean, scale };
}

function examples(
  inputs: Float32Array,
  labels: Int32Array,
  dim: number,
  classes: number,
  norm: { mean: Float64Array; scale: Float64Array },
): Examples {
  const count = labels.length;
  for (let i = 0; i < count; i++)
    for (let j = 0; j < dim; j++) inputs[i * dim + j] = (inputs[i * dim + j] - norm.mean[j]) / norm.scale[j];
  const members: number[][] = Array.from({ length: classes }, () => []);
  for (const [i, label] of labels.entries()) members[label].push(i);
  return { count, dim, inputs, labels, numClasses: classes, byClass: members.map((m) => Int32Array.from(m)) };
}

/** Reduces and normalises both splits; the PCA basis and the normalisation come from the training split only. */
export async function preprocess(
  name: string,
  raw: { train: RawImages; test: RawImages },
  options: PreprocessOptions,
): Promise<PreparedDataset> {
  const { train, test } = raw;
  if (train.width !== test.width || train.height !== test.height)
    throw new Error(`dataset '${name}': its training and test images differ in size`);
  const numClasses = Math.max(train.numClasses, test.numClasses);
  checkOptions(
    name,
    { width: train.width, height: train.height, trainCount: train.count, testCount: test.count, numClasses },
    options,
  );
  const { inputDim: d, classes } = options;
  const trainIdx = kept(train, classes);
  const testIdx = kept(test, classes);
  const labelsOf = (split: RawImages, idx: Int32Array) => Int32Array.from(idx, (i) => split.labels[i]);
  const trainLabels = labelsOf(train, trainIdx);
  for (let c = 0; c < classes; c++)
    if (!trainLabels.includes(c)) throw new Error(`dataset '${name}' has no training examples of class ${c}`);
  if (!testIdx.length) throw new Error(`dataset '${name}' has no test examples of classes 0..${classes - 1}`);

  let reduce: (split: RawImages, idx: Int32Array) => Promise<Float32Array>;
  if (options.method === 'none') reduce = async (split, idx) => copyRows(split, idx);
  else if (options.method === 'resize') reduce = async (split, idx) => resize(split, idx, Math.round(Math.sqrt(d)));
  else {
    // Loaded here so that listing and importing datasets (CLI, services) do not load TensorFlow.js.
    const { fitPca, projectPca } = await import('./pca.js');
    const fitCount = Math.min(trainIdx.length, PCA_FIT_LIMIT);
    const fitIdx = Int32Array.from(
      { length: fitCount },
      (_, i) => trainIdx[Math.floor((i * trainIdx.length) / fitCount)],
    );
    const pca = await fitPca(copyRows(train, fitIdx), fitCount, train.width * train.height, d);
    reduce = (split, idx) => projectPca(pca, split.pixels, idx);
  }
  const trainInputs = await reduce(train, trainIdx);
  const testInputs = await reduce(test, testIdx);
  const norm = normalizer(trainInputs, trainIdx.length, d, options.normalization);
  return {
    name,
    train: examples(trainInputs, trainLabels, d, classes, norm),
    test: examples(testInputs, labelsOf(test, testIdx), d, classes, norm),
  };
}
