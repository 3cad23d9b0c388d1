// Principal components: the covariance and its products by TensorFlow.js matMuls, the top eigenvectors by
// subspace iteration with Rayleigh-Ritz (small eigenproblems by Jacobi in float64), from a fixed seed.
import * as tf from '@tensorflow/tfjs';
import { Rng, seedFrom } from '../rng.js';

export interface Pca {
  dim: number;
  k: number;
  mean: Float64Array;
  /** [k, dim] row-major, orthonormal rows, ordered by explained variance (largest first). */
  components: Float64Array;
  /** The variance along each component (the covariance's eigenvalues), descending. */
  variances: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric n x n matrix by cyclic Jacobi rotations; eigenvalues descending, vectors as rows.
 */
export function jacobiEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < n; r++) {
          const arp = a[r * n + p];
          const arq = a[r * n + q];
          a[r * n + p] = c * arp - s * arq;
          a[r * n + q] = s * arp + c * arq;
        }
        for (let r = 0; r < n; r++) {
          const apr = a[p * n + r];
          const aqr = a[q * n + r];
          a[p * n + r] = c * apr - s * aqr;
          a[q * n + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < n; r++) {
          const vrp = v[r * n + p];
          const vrq = v[r * n + q];
          v[r * n + p] = c * vrp - s * vrq;
          v[r * n + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j * n + j] - a[i * n + i]);
  const values = Float64Array.from(order, (i) => a[i * n + i]);
  const vectors = new Float64Array(n * n);
  order.forEach((col, row) => {
    for (let r = 0; r < n; r++) vectors[row * n + r] = v[r * n + col];
  });
  return { values, vectors };
}

function dot(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/**
 * Orthonormalises the vectors in place (modified Gram-Schmidt, twice); a vector that vanishes is replaced by a random
 * one.
 */
function orthonormalize(vectors: Float64Array[], rng: Rng): void {
  for (let j = 0; j < vectors.length; j++) {
    const x = vectors[j];
    for (let attempt = 0; ; attempt++) {
      const before = Math.sqrt(dot(x, x));
      for (let pass = 0; pass < 2; pass++) {
        for (let i = 0; i < j; i++) {
          const d = dot(vectors[i], x);
          for (let r = 0; r < x.length; r++) x[r] -= d * vectors[i][r];
        }
      }
      const norm = Math.sqrt(dot(x, x));
      if (norm > 1e-10 * before && norm > 0) {
        for (let r = 0; r < x.length; r++) x[r] /= norm;
        break;
      }
      if (attempt > 10) throw new Error('PCA: cannot build an orthonormal basis');
      for (let r = 0; r < x.length; r++) x[r] = rng.normal();
    }
  }
}

/** Linear combinations: out[j] = sum_b w[b, j] * vectors[b] (w is p x p row-major). */
function combine(vectors: Float64Array[], w: Float64Array): Float64Array[] {
  const p = vectors.length;
  return vectors.map((_, j) => {
    const out = new Float64Array(vectors[0].length);
    for (let b = 0; b < p; b++) {
      const coef = w[b * p + j];
      const x = vectors[b];
      for (let r = 0; r < out.length; r++) out[r] += coef * x[r];
    }
    return out;
  });
}

/** Multiplies a symmetric n x n matrix with each of p vectors. */
type Multiply = (vectors: Float64Array[]) => Promise<Float64Array[]>;

/**
 * Relative change of the captured variance between two rounds below which subspace iteration stops (float32 products).
 */
const SETTLED = 1e-7;
const MAX_ITERATIONS = 300;

/**
 * The top k eigenvectors of a symmetric positive semi-definite n x n matrix: subspace iteration on a block of
 * k + oversampling vectors with a Rayleigh-Ritz step each round, until the Ritz values settle.
 */
export async function topEigen(
  multiply: Multiply,
  n: number,
  k: number,
): Promise<{ values: Float64Array; vectors: Float64Array }> {
  const p = Math.min(n, k + Math.max(8, k));
  const rng = new Rng(seedFrom('pca-start'));
  let q: Float64Array[] = Array.from({ length: p }, () => Float64Array.from({ length: n }, () => rng.normal()));
  orthonormalize(q, rng);
  let previous = -1;
  for (let iteration = 0; ; iteration++) {
    const z = await multiply(q);
    const t = new Float64Array(p * p);
    for (let a = 0; a < p; a++)
      for (let b = a; b < p; b++) t[a * p + b] = t[b * p + a] = (dot(q[a], z[b]) + dot(q[b], z[a])) / 2;
    const eig = jacobiEigen(t, p);
    // Ritz vectors as columns of w: eig.vectors holds them as rows.
    const w = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) w[a * p + b] = eig.vectors[b * p + a];
    const captured = eig.values.subarray(0, k).reduce((s, x) => s + x, 0);
    const settled = Math.abs(captured - previous) <= SETTLED * Math.abs(captured);
    if (settled || iteration >= MAX_ITERATIONS || p === n) {
      const ritz = combine(q, w);
      const vectors = new Float64Array(k * n);
      for (let j = 0; j < k; j++) {
        // Sign convention: the largest entry of each component is positive.
        let big = 0;
        for (let r = 0; r < n; r++) if (Math.abs(ritz[j][r]) > Math.abs(big)) big = ritz[j][r];
        const sign = big < 0 ? -1 : 1;
        for (let r = 0; r < n; r++) vectors[j * n + r] = sign * ritz[j][r];
      }
      return { values: Float64Array.from(eig.values.subarray(0, k), (x) => Math.max(x, 0)), vectors };
    }
    previous = captured;
    q = combine(z, w);
    orthonormalize(q, rng);
  }
}

/** Fits k principal components to `count` rows of `dim` values (population covariance). */
export async function fitPca(rows: Float32Array, count: number, dim: number, k: number): Promise<Pca> {
  if (k > dim) throw new Error(`PCA to ${k} dimensions needs at least ${k} input dimensions, not ${dim}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) mean[j] += rows[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= count;
  const centred = new Float32Array(count * dim);
  for (let i = 0; i < count; i++) for (let j = 0; j < dim; j++) centred[i * dim + j] = rows[i * dim + j] - mean[j];
  await tf.ready();
  // Transposed explicitly: on wasm only a plain 2-D matMul takes the fast XNNPACK path.
  const covariance = tf.tidy(() => {
    const x = tf.tensor2d(centred, [count, dim]);
    const c = tf.matMul(tf.transpose(x), x).div(count);
    return c.add(c.transpose()).div(2) as tf.Tensor2D; // exactly symmetric
  });
  const multiply: Multiply = async (vectors) => {
    const p = vectors.length;
    const block = new Float32Array(dim * p); // [dim, p]
    for (const [j, v] of vectors.entries()) for (const [r, x] of v.entries()) block[r * p + j] = x;
    const product = tf.tidy(() => tf.matMul(covariance, tf.tensor2d(block, [dim, p])));
    try {
      const values = await product.data();
      return vectors.map((_, j) => Float64Array.from({ length: dim }, (_, r) => values[r * p + j]));
    } finally {
      product.dispose();
    }
  };
  try {
    const { values, vectors } = await topEigen(multiply, dim, k);
    return { dim, k, mean, components: vectors, variances: values };
  } finally {
    covariance.dispose();
  }
}

/**
 * Projects the rows `indices` of `rows` ([*, dim]) onto the components: out[i] = (row - mean) . components,
 * [indices.length, k].
 */
export async function projectPca(pca: Pca, rows: Float32Array, indices: Int32Array): Promise<Float32Array> {
  const { dim, k } = pca;
  const count = indices.length;
  const out = new Float32Array(count * k);
  const offset = new Float64Array(k); // mean . component, subtracted after the matMul
  for (let j = 0; j < k; j++) for (let r = 0; r < dim; r++) offset[j] += pca.mean[r] * pca.components[j * dim + r];
  const basis = new Float32Array(dim * k); // [dim, k]
  for (let j = 0; j < k; j++) for (let r = 0; r < dim; r++) basis[r * k + j] = pca.components[j * dim + r];
  const chunk = Math.min(count, 8192);
  const buffer = new Float32Array(chunk * dim);
  const w = tf.tensor2d(basis, [dim, k]);
  try {
    for (let start = 0; start < count; start += chunk) {
      const end = Math.min(count, start + chunk);
      for (let i = start; i < end; i++)
        buffer.set(rows.subarray(indices[i] * dim, (indices[i] + 1) * dim), (i - start) * dim);
      const y = tf.tidy(() => tf.matMul(tf.tensor2d(buffer.subarray(0, (end - start) * dim), [end - start, dim]), w));
      try {
        const values = await y.data();
        for (let i = 0; i < values.length; i++) out[start * k + i] = values[i] - offset[i % k];
      } finally {
        y.dispose();
      }
    }
  } finally {
    w.dispose();
  }
  return out;
}
