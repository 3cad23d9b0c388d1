// Layer ops whose forward and backward passes stay on tfjs-wasm's fast paths (measured in docs/performance.md):
// every matrix product is 2-D and untransposed (XNNPACK), transposes are explicit, and
// what surrounds the products runs as one fused kernel (./kernels.ts) on wasm and cpu, or as composite tfjs
// ops on other backends.
import * as tf from '@tensorflow/tfjs';
import {
  attentionGradKernel,
  attentionKernel,
  columnSumKernel,
  fastKernels,
  layerNormGradKernel,
  layerNormKernel,
  reluGradKernel,
  softmaxCrossEntropyKernel,
  softmaxGradKernel,
  softmaxKernel,
  transposeKernel,
} from './kernels.js';

/** Below this many elements a plain 2-D transpose is as fast as the blocked one. */
const BLOCKED_TRANSPOSE_MIN = 1 << 14;

/**
 * [m, n] -> [n, m]. tfjs-wasm's 2-D transpose strides through memory (~5 ns an element); a tiled kernel, or
 * elsewhere two transposes of small tiles ([m/r, r, n] -> [m/r, n, r] -> [n, m/r, r]), is several times faster.
 */
export function transpose2d(x: tf.Tensor2D): tf.Tensor2D {
  if (fastKernels()) return transposeKernel([x])[0] as tf.Tensor2D;
  const [m, n] = x.shape;
  const rows = [32, 16, 8].find((r) => m % r === 0 && m > r);
  if (m * n < BLOCKED_TRANSPOSE_MIN || rows === undefined) return tf.transpose(x);
  return tf.tidy(() => {
    const tiles = tf.transpose(x.reshape([m / rows, rows, n]), [0, 2, 1]);
    return tf.transpose(tiles, [1, 0, 2]).reshape([n, m]);
  });
}

/** Column sums: [m, n] -> [n] (tf.sum(x, 0) goes through a slow transpose on tfjs-wasm). */
export function columnSum(x: tf.Tensor2D): tf.Tensor1D {
  if (fastKernels()) return columnSumKernel([x])[0] as tf.Tensor1D;
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
      return [tf.matMul(dy as tf.Tensor2D, transpose2d(sb)), weightGrad(sa, dy as tf.Tensor2D)];
    },
  };
}) as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

/**
 * The gradient x^T dz of a weight [k, n], from x [m, k] and dz [m, n]. XNNPACK packs the right operand on every
 * call and runs ~1.5x faster when it is the narrower one: for n > k it computes (dz^T x)^T instead.
 */
function weightGrad(x: tf.Tensor2D, dz: tf.Tensor2D): tf.Tensor2D {
  return dz.shape[1] > x.shape[1] ? transpose2d(tf.matMul(transpose2d(dz), x)) : tf.matMul(transpose2d(x), dz);
}

/** dy through a bias (and a ReLU whose output was y): the pre-activation gradient and the bias gradient. */
function biasGrad(dy: tf.Tensor2D, y: tf.Tensor2D | null): [tf.Tensor2D, tf.Tensor1D] {
  if (fastKernels() && y) return reluGradKernel([dy, y]) as [tf.Tensor2D, tf.Tensor1D];
  const dz = y ? (tf.mul(dy, tf.step(y)) as tf.Tensor2D) : dy;
  return [dz, columnSum(dz)];
}

/**
 * x [m, k] w [k, n] + b [n] (then a ReLU) as one _FusedMatMul kernel (tf.fused.matMul would not fuse the ReLU
 * under a gradient tape). Not differentiable: for the inside of ops with their own gradient.
 */
export function fusedMatMul(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, relu: boolean): tf.Tensor2D {
  const [m, k] = x.shape;
  const n = w.shape[1];
  const attrs = { transposeA: false, transposeB: false, activation: relu ? 'relu' : 'linear', leakyreluAlpha: 0 };
  const inputs = { a: x.reshape([1, m, k]), b: w.reshape([1, k, n]), bias: b };
  const y = tf.engine().runKernel('_FusedMatMul', inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  return y.reshape([m, n]);
}

/**
 * x [m, k] w [k, n] + b [n], then a ReLU if asked: one XNNPACK call forward; backward, the products with
 * explicit transposes and one kernel for the bias (and ReLU) gradient.
 */
function denseOp(relu: boolean, inputGrad = true) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, w, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const y = fusedMatMul(x, w, b, relu);
    save(relu ? [x, w, y] : [x, w]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sw, sy] = saved as tf.Tensor2D[];
        const [dz, db] = biasGrad(dy as tf.Tensor2D, relu ? sy : null);
        return [inputGrad ? tf.matMul(dz, transpose2d(sw)) : tf.zerosLike(sx), weightGrad(sx, dz), db];
      },
    };
  }) as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;
}
const denseLinear = denseOp(false);
const denseRelu = denseOp(true);
const denseFromData = denseOp(false, false);

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

/** x [..., n] * g [n] + b [n], computed on the [rows, n] view. */
export function scaleShift<T extends tf.Tensor>(x: T, g: tf.Tensor, b: tf.Tensor): T {
  return tf.tidy(() => {
    const n = x.shape[x.rank - 1];
    return scaleShiftOp(x.reshape([-1, n]), g as tf.Tensor1D, b as tf.Tensor1D).reshape(x.shape) as T;
  });
}

/** x [..., fanIn] x w [fanIn, fanOut] (+ b [fanOut]) -> [..., fanOut], through one 2-D matMul. */
export function linear<T extends tf.Tensor>(x: T, w: tf.Tensor, b?: tf.Tensor): T {
  const dense2d = (x2: tf.Tensor2D) =>
    b ? denseLinear(x2, w as tf.Tensor2D, b as tf.Tensor1D) : matMul2d(x2, w as tf.Tensor2D);
  if (x.rank === 2) return dense2d(x as tf.Tensor as tf.Tensor2D) as tf.Tensor as T;
  const [fanIn, fanOut] = w.shape as [number, number];
  return tf.tidy(() => dense2d(x.reshape([-1, fanIn])).reshape([...x.shape.slice(0, -1), fanOut]) as T);
}

/** x [m, fanIn] w + b on data that is no variable (the model's input tokens): its gradient is not computed (0). */
export function linearOnData(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return denseFromData(x, w as tf.Tensor2D, b as tf.Tensor1D);
}

/** relu(x [m, fanIn] w + b): the matMul, bias and ReLU in one XNNPACK call. */
export function linearRelu(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return denseRelu(x, w as tf.Tensor2D, b as tf.Tensor1D);
}

const layerNormFused = (eps: number) =>
  tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, g, b, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, mean, rstd] = layerNormKernel([x, g, b], { eps });
    save([x, g, mean, rstd]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => layerNormGradKernel([dy, ...saved]),
    };
  }) as (x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor2D;
const layerNorms = new Map<number, ReturnType<typeof layerNormFused>>();

/** LayerNorm over the last axis of x [rows, n] with gain g and shift b (population variance, as PyTorch's). */
export function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor2D {
  if (fastKernels()) {
    if (!layerNorms.has(eps)) layerNorms.set(eps, layerNormFused(eps));
    return layerNorms.get(eps)!(x, g as tf.Tensor1D, b as tf.Tensor1D);
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return scaleShift(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))) as tf.Tensor2D, g, b);
  });
}

/** x [batch * T, d] + position[t] for each row's position t; position is [P >= T, d]. */
export function addPositions(x: tf.Tensor2D, position: tf.Tensor2D, seqLen: number): tf.Tensor2D {
  const [rows, d] = x.shape;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, p] = args as tf.Tensor2D[];
    return {
      value: tf.add(xx.reshape([rows / seqLen, seqLen, d]), tf.slice(p, [0, 0], [seqLen, d])).reshape([rows, d]),
      // The table's gradient sums over the batch: column sums of dy seen as [batch, T * d].
      gradFunc: (dy: tf.Tensor) => {
        const dp = columnSum(dy.reshape([rows / seqLen, seqLen * d])).reshape([seqLen, d]);
        return [
          dy.clone(),
          seqLen < p.shape[0]
            ? tf.pad(dp, [
                [0, p.shape[0] - seqLen],
                [0, 0],
              ])
            : dp,
        ];
      },
    };
  }) as (x: tf.Tensor2D, p: tf.Tensor2D) => tf.Tensor2D;
  return op(x, position);
}

/** Added to attention scores above the diagonal on the composite path: exp underflows to exactly 0 in float32. */
const MASKED = -1e9;

/**
 * Causal multi-head self-attention from the fused projection qkv [batch * T, 3d] (columns q, k, v) to
 * [batch * T, d] with the heads merged. Fused kernels on wasm and cpu: the batched and transposed matMuls of
 * the textbook formulation run as naive loops on tfjs-wasm (~2 GFLOP/s) and the head split/merge are transposes.
 */
export function causalAttention(qkv: tf.Tensor2D, batch: number, seqLen: number, heads: number): tf.Tensor2D {
  const d = qkv.shape[1] / 3;
  const attrs = { batch, seqLen, heads, d };
  if (fastKernels() && (d / heads) % 4 === 0) {
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
      const [y, p] = attentionKernel([x], attrs);
      save([x, p]);
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => attentionGradKernel([dy, ...saved], attrs)[0];
      return { value: y, gradFunc };
    }) as (x: tf.Tensor2D) => tf.Tensor2D;
    return op(qkv);
  }
  return tf.tidy(() => {
    const headSize = d / heads;
    const mask = new Float32Array(seqLen * seqLen);
    for (let i = 0; i < seqLen; i++) for (let j = i + 1; j < seqLen; j++) mask[i * seqLen + j] = MASKED;
    const [q, k, v] = [0, 1, 2].map((i) =>
      tf.transpose(
        tf.slice(qkv, [0, i * d], [batch * seqLen, d]).reshape([batch, seqLen, heads, headSize]),
        [0, 2, 1, 3],
      ),
    );
    const scaled = tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headSize));
    const scores = tf.add(scaled, tf.tensor2d(mask, [seqLen, seqLen]));
    const y = tf.matMul(tf.softmax(scores), v);
    return tf.transpose(y, [0, 2, 1, 3]).reshape([batch * seqLen, d]) as tf.Tensor2D;
  });
}

/**
 * Mean softmax cross-entropy of logits [m, n] against integer labels [m], and the accuracy (argmax = label,
 * not differentiated). One kernel for loss, accuracy and gradient on wasm and cpu.
 */
export function softmaxCrossEntropy(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
): { loss: tf.Scalar; accuracy: tf.Scalar } {
  if (!fastKernels()) {
    return tf.tidy(() => {
      const n = logits.shape[1];
      const classes = tf.cast(labels, 'int32') as tf.Tensor1D;
      const loss = tf.losses.softmaxCrossEntropy(tf.oneHot(classes, n), logits) as tf.Scalar;
      const accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), classes), 'float32')) as tf.Scalar;
      return { loss, accuracy };
    });
  }
  let accuracy: tf.Scalar | null = null;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const outs = softmaxCrossEntropyKernel([z, tf.cast(labels, 'float32')]);
    const [loss, acc, grad] = outs as [tf.Scalar, tf.Scalar, tf.Tensor];
    accuracy = tf.keep(acc);
    save([grad]);
    return { value: loss, gradFunc: (dy: tf.Tensor, [g]: tf.Tensor[]) => tf.mul(g, dy) };
  }) as (z: tf.Tensor2D) => tf.Scalar;
  const loss = op(logits);
  return { loss, accuracy: accuracy! };
}

/** Softmax over the rows of x [m, n]. */
export function softmaxRows(x: tf.Tensor2D): tf.Tensor2D {
  if (!fastKernels()) return tf.softmax(x);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const [y] = softmaxKernel([z]);
    save([y]);
    return { value: y as tf.Tensor2D, gradFunc: (dy: tf.Tensor, [sy]: tf.Tensor[]) => softmaxGradKernel([dy, sy])[0] };
  }) as (z: tf.Tensor2D) => tf.Tensor2D;
  return op(x);
}
