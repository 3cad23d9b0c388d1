// Causal pre-LayerNorm Transformer (GPICL's in-context learner), nanoGPT-style: embed, blocks, LayerNorm, head.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Model, ModelDef, Param } from './index.js';
import { countParams, filled, normal, zeros } from './layers.js';
import { addPositions, causalAttention, layerNorm, linear, linearOnData, linearRelu } from './ops.js';

type Spec = Extract<RunSpec['model'], { kind: 'transformer' }>;

/** nanoGPT's init: N(0, 0.02) for embeddings and projections, residual outputs scaled by 1/sqrt(2 * layers). */
const INIT_STD = 0.02;
const LN_EPS = 1e-5;

interface LayerNorm {
  g: Param;
  b: Param;
}
interface Dense {
  w: Param;
  b: Param;
}
interface Block {
  ln1: LayerNorm;
  qkv: Dense;
  proj: Dense;
  ln2: LayerNorm;
  fc: Dense;
  out: Dense;
}

/** Over the last axis of x [rows, dModel]. */
function applyNorm(x: tf.Tensor2D, ln: LayerNorm): tf.Tensor2D {
  return layerNorm(x, ln.g.variable, ln.b.variable, LN_EPS);
}

/**
 * State size as GPICL counts it for a Transformer: the memory the next prediction can read, i.e. the
 * key-value cache, ~ key size x layers x sequence length. We count keys and values:
 * 2 * dModel * layers * seqLen (dModel = heads x head size).
 */
export function transformerStateSize(spec: Pick<Spec, 'dModel' | 'layers'>, seqLen: number): number {
  return 2 * spec.dModel * spec.layers * seqLen;
}

export const transformer: ModelDef<Spec> = {
  create(spec, shape, rng): Model {
    const { dModel, heads, layers } = spec;
    const hidden = spec.mlpRatio * dModel;
    const residualStd = INIT_STD / Math.sqrt(2 * layers);
    const dense = (name: string, fanIn: number, fanOut: number, std = INIT_STD): Dense => ({
      w: normal(`${name}.w`, [fanIn, fanOut], std, rng),
      b: zeros(`${name}.b`, [fanOut]),
    });
    const norm = (name: string): LayerNorm => ({
      g: filled(`${name}.g`, [dModel], 1),
      b: zeros(`${name}.b`, [dModel]),
    });

    const embed = dense('embed', shape.inputDim, dModel);
    const position = normal('position', [shape.seqLen, dModel], INIT_STD, rng);
    const blocks: Block[] = Array.from({ length: layers }, (_, i) => ({
      ln1: norm(`block${i}.ln1`),
      qkv: dense(`block${i}.attn.qkv`, dModel, 3 * dModel),
      proj: dense(`block${i}.attn.proj`, dModel, dModel, residualStd),
      ln2: norm(`block${i}.ln2`),
      fc: dense(`block${i}.mlp.fc`, dModel, hidden),
      out: dense(`block${i}.mlp.proj`, hidden, dModel, residualStd),
    }));
    const lnFinal = norm('lnf');
    const head = dense('head', dModel, shape.outputDim);

    const dn = (d: Dense) => [d.w, d.b];
    const ln = (l: LayerNorm) => [l.g, l.b];
    const params = [
      ...dn(embed),
      position,
      ...blocks.flatMap((b) => [...ln(b.ln1), ...dn(b.qkv), ...dn(b.proj), ...ln(b.ln2), ...dn(b.fc), ...dn(b.out)]),
      ...ln(lnFinal),
      ...dn(head),
    ];
    return {
      params,
      paramCount: countParams(params),
      stateSize: transformerStateSize(spec, shape.seqLen),
      apply(inputs) {
        return tf.tidy(() => {
          const [batch, T, inputDim] = inputs.shape;
          if (T > shape.seqLen)
            throw new Error(`sequence of ${T} tokens is longer than the model's ${shape.seqLen} positions`);
          // The residual stream as [batch * T, dModel]: every projection is one 2-D matMul (XNNPACK), and
          // attention reads q, k and v straight from the fused projection's columns (no head split or merge).
          const tokens = linearOnData(
            inputs.reshape([batch * T, inputDim]) as tf.Tensor2D,
            embed.w.variable,
            embed.b.variable,
          );
          let x = addPositions(tokens, position.variable as tf.Tensor2D, T);
          for (const b of blocks) {
            const qkv = linear(applyNorm(x, b.ln1), b.qkv.w.variable, b.qkv.b.variable) as tf.Tensor2D;
            x = tf.add(x, linear(causalAttention(qkv, batch, T, heads), b.proj.w.variable, b.proj.b.variable));
            // ReLU rather than nanoGPT's GELU: erf and its exp-based gradient made the whole step 11% slower on wasm.
            const h = linearRelu(applyNorm(x, b.ln2), b.fc.w.variable, b.fc.b.variable);
            x = tf.add(x, linear(h, b.out.w.variable, b.out.b.variable));
          }
          return linear(applyNorm(x, lnFinal), head.w.variable, head.b.variable).reshape([
            batch,
            T,
            shape.outputDim,
          ]) as tf.Tensor3D;
        });
      },
    };
  },
};
