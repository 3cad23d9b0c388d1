// MLP baseline: sees one token at a time and no context, so it can only memorise (GPICL's MLP column).
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Model, ModelDef } from './index.js';
import { countParams, glorot, zeros } from './layers.js';
import { linear } from './ops.js';

type Spec = Extract<RunSpec['model'], { kind: 'mlp' }>;

export const mlp: ModelDef<Spec> = {
  create(spec, shape, rng): Model {
    const widths = [shape.inputDim, ...spec.hidden, shape.outputDim];
    const layers = widths.slice(1).map((out, i) => ({
      w: glorot(`layer${i}.w`, widths[i], out, rng),
      b: zeros(`layer${i}.b`, [out]),
    }));
    const params = layers.flatMap((l) => [l.w, l.b]);
    return {
      params,
      paramCount: countParams(params),
      stateSize: 0,
      apply(inputs) {
        const [batch, seqLen, inputDim] = inputs.shape;
        let h: tf.Tensor2D = inputs.reshape([batch * seqLen, inputDim]);
        layers.forEach((l, i) => {
          h = linear(h, l.w.variable, l.b.variable);
          if (i < layers.length - 1) h = spec.activation === 'tanh' ? tf.tanh(h) : tf.relu(h);
        });
        return h.reshape([batch, seqLen, shape.outputDim]);
      },
    };
  },
};
