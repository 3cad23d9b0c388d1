// Stacked LSTM over the token sequence (GPICL's recurrent baseline), with a prediction at every position.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Model, ModelDef, Param } from './index.js';
import { countParams, glorot, zeros } from './layers.js';
import { linear } from './ops.js';

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
          const batch = inputs.shape[0];
          // One [batch, features] tensor per position. Sequences stay JS arrays: on tfjs-wasm every slice or
          // split copies its whole input first, so cutting a [T * batch, 4 * hidden] tensor into steps costs O(T^2).
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
          return tf.stack(seq.map((h) => linear(h, head.w.variable, head.b.variable)), 1) as tf.Tensor3D;
        });
      },
    };
  },
};
