// Causal pre-LayerNorm Transformer (GPICL's in-context learner), nanoGPT-style: embed, blocks, LayerNorm, head.
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import type { Model, ModelDef, Param } from './index.js';
import { countParams, filled, normal, zeros } from './layers.js';
import { linear, scaleShift } from './ops.js';

type Spec = Extract<RunSpec['model'], { kind: 'transformer' }>;

/** nanoGPT's init: N(0, 0.02) for embeddings and projections, residual outputs scaled by 1/sqrt(2 * layers). */
const INIT_STD = 0.02;
const LN_EPS = 1e-5;
/** Added to attention scores above the diagonal: exp underflows to exactly 0 in float32, so causality is exact. */
const MASKED = -1e9;

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
function layerNorm(x: tf.Tensor2D, ln: LayerNorm): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return scaleShift(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LN_EPS))) as tf.Tensor2D, ln.g.variable, ln.b.variable);
}

/** [seqLen, seqLen]: 0 on and below the diagonal, MASKED above (query row i may not see key j > i). */
function causalMask(seqLen: number): Float32Array {
  const mask = new Float32Array(seqLen * seqLen);
  for (let i = 0; i < seqLen; i++) for (let j = i + 1; j < seqLen; j++) mask[i * seqLen + j] = MASKED;
  return mask;
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
    const headSize = dModel / heads;
    const hidden = spec.mlpRatio * dModel;
    const residualStd = INIT_STD / Math.sqrt(2 * layers);
    const dense = (name: string, fanIn: number, fanOut: number, std = INIT_STD): Dense => ({
      w: normal(`${name}.w`, [fanIn, fanOut], std, rng),
      b: zeros(`${name}.b`, [fanOut]),
    });
    const norm = (name: string): LayerNorm => ({ g: filled(`${name}.g`, [dModel], 1), b: zeros(`${name}.b`, [dModel]) });

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
    const masks = new Map<number, Float32Array>();

    /** [batch * T, dModel] -> [batch, heads, T, headSize]. */
    const splitHeads = (x: tf.Tensor2D, batch: number, T: number) => tf.transpose(x.reshape([batch, T, heads, headSize]), [0, 2, 1, 3]);

    /** Multi-head causal self-attention on x [batch * T, dModel]. */
    const attention = (x: tf.Tensor2D, b: Block, batch: number, T: number, mask: tf.Tensor2D): tf.Tensor2D => {
      // q, k, v from column slices of the fused [dModel, 3 * dModel] weight: slicing the weight is cheap,
      // slicing the activation would not be.
      const [q, k, v] = [0, 1, 2].map((i) => {
        const w = tf.slice(b.qkv.w.variable, [0, i * dModel], [dModel, dModel]);
        return splitHeads(linear(x, w, tf.slice(b.qkv.b.variable, [i * dModel], [dModel])), batch, T);
      });
      // Batched (and transposed) matMuls: tfjs-wasm runs these as a naive loop, not XNNPACK.
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headSize)), mask);
      const y = tf.matMul(tf.softmax(scores), v);
      const merged = tf.transpose(y, [0, 2, 1, 3]).reshape([batch * T, dModel]) as tf.Tensor2D;
      return linear(merged, b.proj.w.variable, b.proj.b.variable);
    };

    return {
      params,
      paramCount: countParams(params),
      stateSize: transformerStateSize(spec, shape.seqLen),
      apply(inputs) {
        return tf.tidy(() => {
          const [batch, T, inputDim] = inputs.shape;
          if (T > shape.seqLen) throw new Error(`sequence of ${T} tokens is longer than the model's ${shape.seqLen} positions`);
          if (!masks.has(T)) masks.set(T, causalMask(T));
          const mask = tf.tensor2d(masks.get(T)!, [T, T]);
          // The residual stream as [batch * T, dModel]: every projection is one 2-D matMul.
          const tokens = linear(inputs.reshape([batch * T, inputDim]) as tf.Tensor2D, embed.w.variable, embed.b.variable);
          const positions = tf.slice(position.variable, [0, 0], [T, dModel]);
          let x = tf.add(tokens.reshape([batch, T, dModel]), positions).reshape([batch * T, dModel]) as tf.Tensor2D;
          for (const b of blocks) {
            x = tf.add(x, attention(layerNorm(x, b.ln1), b, batch, T, mask));
            // ReLU rather than nanoGPT's GELU: erf and its exp-based gradient made the whole step 11% slower on wasm.
            const h = tf.relu(linear(layerNorm(x, b.ln2), b.fc.w.variable, b.fc.b.variable));
            x = tf.add(x, linear(h, b.out.w.variable, b.out.b.variable));
          }
          return linear(layerNorm(x, lnFinal), head.w.variable, head.b.variable).reshape([batch, T, shape.outputDim]) as tf.Tensor3D;
        });
      },
    };
  },
};
