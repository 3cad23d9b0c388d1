// Stacked LSTM over the token sequence (GPICL's recurrent baseline), with a prediction at every position.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Model, ModelDef, Param } from './index.js';
import { countParams, glorot, zeros } from './layers.js';
import { fastKernels, lstmCellGradKernel, lstmCellKernel } from './kernels.js';
import { columnSum, fusedMatMul, linear, transpose2d } from './ops.js';

type Spec = Extract<RunSpec['model'], { kind: 'lstm' }>;

/** State size as GPICL counts it for an LSTM: hidden and cell vectors of every layer. */
export function lstmStateSize(spec: Pick<Spec, 'hidden' | 'layers'>): number {
  return spec.layers * 2 * spec.hidden;
}

interface Layer {
  /** [fanIn + hidden, 4 * hidden]: rows for the layer input, then for h; columns for gates i, f, g, o. */
  w: Param;
  b: Param;
}

/**
 * Up to this hidden size the LSTM runs batch-major, above it feature-major. XNNPACK packs a product's right
 * operand once per tensor and keeps the packing while that tensor lives, and streams the left operand, re-reading
 * the packed right one for every 4 rows of it. Batch-major puts W_h on the right of every per-step product
 * (h_{t-1} W_h): packed once for all T steps, where a fresh right operand (h, in W_h^T h) costs a packing per
 * step, about as long as the product itself at H = 128 (the per-step products 25% faster). Feature-major puts
 * W_h^T on the left, streamed once per product, where as a right operand it would be re-read 16 times from
 * beyond the caches at H = 3072 (4H^2 floats: 150 MB; batch-major 1.4x slower there). 256: packed W_h
 * (1 MiB) still fits in L2.
 */
const BATCH_MAJOR_MAX_HIDDEN = 256;

/** Inputs of the LSTM layers: x, W [fanIn + H, 4H] (rows for the input, then h), b [4H]; gates i, f, g, o. */
type LayerOp = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

/**
 * One LSTM layer over whole sequences as one op with a written-out backward pass (backpropagation through
 * time), batch-major: x [T batch, fanIn] -> h [T batch, H], rows (t, n). The input projection of all steps (bias
 * included) is one product; per step h_{t-1} W_h and one cell kernel forward, one cell-gradient kernel and
 * dz_t W_h^T backward; then W's gradient as one product over all steps. `inputGrad` false skips the input's
 * gradient (the tokens are no variable).
 */
function lstmRows(T: number, batch: number, inputGrad: boolean): LayerOp {
  const batchMajor = 1;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, ws, bs, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const fanIn = xs.shape[1];
    const H = ws.shape[1] / 4;
    const wx = tf.slice(ws, [0, 0], [fanIn, 4 * H]);
    const wh = tf.slice(ws, [fanIn, 0], [H, 4 * H]);
    const xw = fusedMatMul(xs, wx, bs, false); // [T batch, 4H], bias included
    const cs = [tf.zeros([batch, H])];
    const hs: tf.Tensor[] = [];
    const gates: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const hw = t === 0 ? tf.zeros([batch, 4 * H]) : tf.matMul(hs[t - 1] as tf.Tensor2D, wh);
      const [h, c, g] = lstmCellKernel([xw, hw, cs[t]], { t, batchMajor });
      hs.push(h);
      cs.push(c);
      gates.push(g);
    }
    const out = tf.concat(hs, 0) as tf.Tensor2D;
    save([xs, wx, wh, out, ...cs, ...gates]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, swx, swh, sh] = saved as tf.Tensor2D[];
        const sc = saved.slice(4, 5 + T);
        const sg = saved.slice(5 + T);
        const whT = transpose2d(swh);
        let dh = tf.zeros([batch, H]) as tf.Tensor2D;
        let dc: tf.Tensor = tf.zeros([batch, H]);
        const dz: tf.Tensor[] = new Array(T);
        for (let t = T - 1; t >= 0; t--) {
          const [dcPrev, dzt] = lstmCellGradKernel([dy, dh, dc, sg[t], sc[t + 1], sc[t]], { t, batchMajor });
          dz[t] = dzt;
          if (t > 0) dh = tf.matMul(dzt as tf.Tensor2D, whT);
          dc = dcPrev;
        }
        const dZ = tf.concat(dz, 0) as tf.Tensor2D; // [T batch, 4H]
        // [x_t, h_{t-1}] for every step (h 0 before the first), rows (t, n): dW = [x, h_{t-1}]^T dZ, computed as
        // (dZ^T [x, h_{t-1}])^T, the narrower operand on the right (XNNPACK packs it on every call).
        const h0 = tf.zeros([batch, H]);
        const hPrev = T > 1 ? tf.concat([h0, tf.slice(sh, [0, 0], [(T - 1) * batch, H])], 0) : h0;
        const dW = transpose2d(tf.matMul(transpose2d(dZ), tf.concat([sx, hPrev], 1) as tf.Tensor2D));
        const dx = inputGrad ? tf.matMul(dZ, transpose2d(swx)) : tf.zerosLike(sx);
        return [dx, dW, columnSum(dZ)];
      },
    };
  }) as LayerOp;
}

/**
 * The same layer feature-major: x [fanIn, T batch] -> h [H, T batch], columns (t, n). Every product keeps the
 * big matrix on the left, streamed once: the input projection of all steps is one product, each step one
 * W_h^T h product and one cell kernel; backwards one cell-gradient kernel and one W_h dz product per step, then
 * W's gradient as two products over all steps.
 */
function lstmColumns(T: number, batch: number, inputGrad: boolean): LayerOp {
  const batchMajor = 0;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, ws, bs, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const fanIn = xs.shape[0];
    const H = ws.shape[1] / 4;
    const wx = tf.slice(ws, [0, 0], [fanIn, 4 * H]);
    const wh = tf.slice(ws, [fanIn, 0], [H, 4 * H]);
    const whT = transpose2d(wh);
    const xw = tf.add(tf.matMul(transpose2d(wx), xs), bs.reshape([4 * H, 1])); // [4H, T batch], bias included
    const cs = [tf.zeros([H, batch])];
    const hs: tf.Tensor[] = [];
    const gates: tf.Tensor[] = [];
    let h = tf.zeros([H, batch]) as tf.Tensor2D;
    for (let t = 0; t < T; t++) {
      const [hNext, cNext, g] = lstmCellKernel([xw, tf.matMul(whT, h), cs[t]], { t, batchMajor });
      hs.push(hNext);
      cs.push(cNext);
      gates.push(g);
      h = hNext as tf.Tensor2D;
    }
    const out = tf.concat(hs, 1) as tf.Tensor2D;
    save([xs, wx, wh, out, ...cs, ...gates]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, swx, swh, sh] = saved as tf.Tensor2D[];
        const sc = saved.slice(4, 5 + T);
        const sg = saved.slice(5 + T);
        let dh = tf.zeros([H, batch]) as tf.Tensor2D;
        let dc: tf.Tensor = tf.zeros([H, batch]);
        const dz: tf.Tensor[] = new Array(T);
        for (let t = T - 1; t >= 0; t--) {
          const [dcPrev, dzt] = lstmCellGradKernel([dy, dh, dc, sg[t], sc[t + 1], sc[t]], { t, batchMajor });
          dz[t] = dzt;
          if (t > 0) dh = tf.matMul(swh, dzt as tf.Tensor2D);
          dc = dcPrev;
        }
        const dZ = tf.concat(dz, 1) as tf.Tensor2D; // [4H, T batch]
        // h_{t-1} for every step (0 before the first), rows (t, n): the output shifted by one step.
        const h0 = tf.zeros([batch, H]);
        const hPrev = T > 1 ? tf.concat([h0, transpose2d(tf.slice(sh, [0, 0], [H, (T - 1) * batch]))], 0) : h0;
        const dW = tf.concat([transpose2d(tf.matMul(dZ, transpose2d(sx))), transpose2d(tf.matMul(dZ, hPrev))], 0);
        const dx = inputGrad ? tf.matMul(swx, dZ) : tf.zerosLike(sx);
        return [dx, dW, tf.sum(dZ, 1)];
      },
    };
  }) as LayerOp;
}

export const lstm: ModelDef<Spec> = {
  create(spec, shape, rng): Model {
    const H = spec.hidden;
    const layers: Layer[] = Array.from({ length: spec.layers }, (_, i) => {
      const fanIn = i === 0 ? shape.inputDim : H;
      const bias = new Float32Array(4 * H);
      bias.fill(1, H, 2 * H); // forget gate starts open: gradients flow through time from the start
      return {
        w: glorot(`layer${i}.w`, fanIn + H, 4 * H, rng),
        b: { name: `layer${i}.b`, variable: tf.tidy(() => tf.variable(tf.tensor1d(bias))) },
      };
    });
    const head = { w: glorot('head.w', H, shape.outputDim, rng), b: zeros('head.b', [shape.outputDim]) };
    const params = [...layers.flatMap((l) => [l.w, l.b]), head.w, head.b];

    return {
      params,
      paramCount: countParams(params),
      stateSize: lstmStateSize(spec),
      apply(inputs) {
        return tf.tidy(() => {
          const [batch, T] = inputs.shape;
          if (fastKernels()) {
            // Each layer is one fused op; the sequence batch-major [T batch, features] (rows (t, n)) or
            // feature-major [features, T batch] (columns (t, n)).
            const rows = H <= BATCH_MAJOR_MAX_HIDDEN;
            let seq = (rows ? tf.transpose(inputs, [1, 0, 2]) : tf.transpose(inputs, [2, 1, 0])).reshape(
              rows ? [T * batch, -1] : [-1, T * batch],
            ) as tf.Tensor2D;
            layers.forEach((l, i) => {
              const op = (rows ? lstmRows : lstmColumns)(T, batch, i > 0);
              seq = op(seq, l.w.variable as tf.Tensor2D, l.b.variable as tf.Tensor1D);
            });
            const out = linear(rows ? seq : transpose2d(seq), head.w.variable, head.b.variable); // rows (t, n)
            return tf.transpose(out.reshape([T, batch, shape.outputDim]), [1, 0, 2]) as tf.Tensor3D;
          }
          // One [batch, features] tensor per position. Sequences stay JS arrays: on tfjs-wasm every slice or split
          // copies its whole input first, so cutting a [T * batch, 4 * hidden] tensor into steps costs O(T^2).
          let seq = tf.unstack(inputs, 1) as tf.Tensor2D[];
          for (const l of layers) {
            let h: tf.Tensor2D = tf.zeros([batch, H]);
            let c: tf.Tensor2D = tf.zeros([batch, H]);
            seq = seq.map((x) => {
              const [i, f, g, o] = tf.split(linear(tf.concat([x, h], 1), l.w.variable, l.b.variable), 4, 1);
              c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
              h = tf.mul(tf.sigmoid(o), tf.tanh(c));
              return h;
            });
          }
          return tf.stack(
            seq.map((h) => linear(h, head.w.variable, head.b.variable)),
            1,
          ) as tf.Tensor3D;
        });
      },
    };
  },
};
