// The conventional-learner baseline for classification: for every evaluation sequence, a fresh small network
// (linear, or one hidden layer) learns online from the sequence itself. At each position it predicts the
// example, then takes `stepsPerExample` SGD/Adam steps on all examples seen so far. Its per-position accuracy
// is ordinary learning at every context length, to set against an in-context learner's curve.
// All sequences are trained at once, each with its own weights (batched matMuls).
import * as tf from '@tensorflow/tfjs';
import type { RunSpec } from '../../../shared/spec.js';
import { Rng, seedFrom } from '../rng.js';
import type { SequenceBatch, TaskSampler } from '../tasks/index.js';

type Options = NonNullable<RunSpec['evaluation']['learnerBaseline']>;

interface State {
  weights: tf.Tensor[];
  m: tf.Tensor[];
  v: tf.Tensor[];
}

function forward(inputs: tf.Tensor, weights: tf.Tensor[]): tf.Tensor3D {
  const h = weights.length === 2 ? tf.relu(tf.matMul(inputs as tf.Tensor3D, weights[0] as tf.Tensor3D)) : inputs;
  return tf.matMul(h as tf.Tensor3D, weights[weights.length - 1] as tf.Tensor3D);
}

/** One optimiser step on every sequence's own weights; returns new tensors (the caller disposes the old state). */
function update(state: State, x: tf.Tensor, y: tf.Tensor, options: Options, t: number): State {
  return tf.tidy(() => {
    // The sum over sequences of each one's mean loss, so each sequence's weights get their own gradient.
    const loss = (...ws: tf.Tensor[]) =>
      tf.sum(tf.mean(tf.losses.softmaxCrossEntropy(y, forward(x, ws), undefined, 0, tf.Reduction.NONE), 1));
    const grads = tf.grads(loss)(state.weights);
    const lr = options.learningRate;
    if (options.optimizer === 'sgd')
      return { weights: state.weights.map((w, i) => tf.sub(w, tf.mul(grads[i], lr))), m: [], v: [] };
    const m = state.m.map((mi, i) => tf.add(tf.mul(mi, 0.9), tf.mul(grads[i], 0.1)));
    const v = state.v.map((vi, i) => tf.add(tf.mul(vi, 0.999), tf.mul(tf.square(grads[i]), 0.001)));
    const weights = state.weights.map((w, i) =>
      tf.sub(w, tf.div(tf.mul(m[i], lr / (1 - 0.9 ** t)), tf.add(tf.sqrt(tf.div(v[i], 1 - 0.999 ** t)), 1e-8))),
    );
    return { weights, m, v };
  });
}

/** Class scores [batch, seqLen, classes] the learner gave each example before training on it. */
export async function learnerPredictions(
  task: TaskSampler,
  batch: SequenceBatch,
  options: Options,
  seed: number,
): Promise<Float32Array> {
  const B = batch.batch;
  const L = task.seqLen;
  const C = task.outputDim;
  const d = task.inputDim - task.feedback;
  const rng = new Rng(seedFrom(seed, 'learner-baseline'));
  const init = (rows: number, cols: number) => {
    const limit = Math.sqrt(6 / (rows + cols));
    return tf.tensor3d(
      Float32Array.from({ length: B * rows * cols }, () => (rng.next() * 2 - 1) * limit),
      [B, rows, cols],
    );
  };
  const { x, y } = tf.tidy(() => ({
    x: tf.slice(tf.tensor3d(batch.inputs, [B, L, task.inputDim]), [0, 0, 0], [B, L, d]) as tf.Tensor3D,
    y: tf.oneHot(tf.tensor2d(batch.targets, [B, L], 'int32'), C).toFloat() as tf.Tensor3D,
  }));
  const weights: tf.Tensor[] =
    options.hidden > 0 ? [init(d, options.hidden), init(options.hidden, C)] : [tf.zeros([B, d, C])];
  let state: State = {
    weights,
    m: options.optimizer === 'adam' ? weights.map((w) => tf.zerosLike(w)) : [],
    v: options.optimizer === 'adam' ? weights.map((w) => tf.zerosLike(w)) : [],
  };
  const scores: tf.Tensor3D[] = [];
  let t = 0;
  for (let position = 0; position < L; position++) {
    scores.push(tf.tidy(() => forward(tf.slice(x, [0, position, 0], [B, 1, d]), state.weights)));
    const seenX = tf.slice(x, [0, 0, 0], [B, position + 1, d]);
    const seenY = tf.slice(y, [0, 0, 0], [B, position + 1, C]);
    for (let s = 0; s < options.stepsPerExample; s++) {
      const next = update(state, seenX, seenY, options, ++t);
      tf.dispose([...state.weights, ...state.m, ...state.v]);
      state = next;
    }
    tf.dispose([seenX, seenY]);
  }
  const all = tf.concat(scores, 1);
  const values = (await all.data()) as Float32Array;
  tf.dispose([all, x, y, ...scores, ...state.weights, ...state.m, ...state.v]);
  return values;
}
