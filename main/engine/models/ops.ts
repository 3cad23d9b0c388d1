// Dense-layer ops whose backward passes stay on tfjs-wasm's fast paths (DESIGN.md section 3; timings measured there).
import * as tf from '@tensorflow/tfjs';

/** Below this many elements a plain 2-D transpose is as fast as the blocked one. */
const BLOCKED_TRANSPOSE_MIN = 1 << 14;

/**
 * [m, n] -> [n, m]. tfjs-wasm's 2-D transpose strides through memory; for tall matrices two transposes of
 * small tiles ([m/r, r, n] -> [m/r, n, r] -> [n, m/r, r]) are ~3x faster.
 */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = x.shape;
  const rows = [32, 16, 8].find((r) => m % r === 0 && m > r);
  if (m * n < BLOCKED_TRANSPOSE_MIN || rows === undefined) return tf.transpose(x);
  return tf.tidy(() => tf.transpose(tf.transpose(x.reshape([m / rows, rows, n]), [0, 2, 1]), [1, 0, 2]).reshape([n, m]));
}

/** Column sums: [m, n] -> [n]. Summing rows after transpose2d is ~6x faster than tf.sum(x, 0) on tfjs-wasm. */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(transpose2d(x), 1));
}

/**
 * a [m, k] x b [k, n]. tf.matMul's own gradient uses transposed matMuls, which tfjs-wasm runs as a naive loop
 * (only 2-D, non-transposed matMul uses XNNPACK); transposing explicitly first keeps all three on XNNPACK.
 */
export const matMul2d = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sa, sb] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, transpose2d(sb)), tf.matMul(transpose2d(sa), dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/** x [m, n] * g [n] + b [n]; tf.add/tf.mul's own gradients would sum over axis 0 through a slow 2-D transpose. */
const scaleShiftOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  save([x, g]);
  return {
    value: tf.add(tf.mul(x, g), b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sx, sg] = saved as [tf.Tensor2D, tf.Tensor1D];
      const d = dy as tf.Tensor2D;
      return [tf.mul(d, sg), columnSum(tf.mul(d, sx)), columnSum(d)];
    },
  };
}) as (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D;

/** x [m, n] + b [n], with the bias gradient as a column sum. */
const addBiasOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, b] = args as [tf.Tensor2D, tf.Tensor1D];
  return { value: tf.add(x, b), gradFunc: (dy: tf.Tensor) => [tf.reshape(dy, dy.shape), columnSum(dy as tf.Tensor2D)] };
}) as (x: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/** x [..., n] * g [n] + b [n], computed on the [rows, n] view. */
export function scaleShift<T extends tf.Tensor>(x: T, g: tf.Tensor, b: tf.Tensor): T {
  return tf.tidy(() => {
    const n = x.shape[x.rank - 1];
    return scaleShiftOp(x.reshape([-1, n]), g as tf.Tensor1D, b as tf.Tensor1D).reshape(x.shape) as T;
  });
}

/** x [..., fanIn] x w [fanIn, fanOut] (+ b [fanOut]) -> [..., fanOut], through one 2-D matMul. */
export function linear<T extends tf.Tensor>(x: T, w: tf.Tensor, b?: tf.Tensor): T {
  return tf.tidy(() => {
    const [fanIn, fanOut] = w.shape;
    const y = matMul2d(x.reshape([-1, fanIn]), w as tf.Tensor2D);
    return (b ? addBiasOp(y, b as tf.Tensor1D) : y).reshape([...x.shape.slice(0, -1), fanOut]) as T;
  });
}
