import * as tf from '@tensorflow/tfjs';
import type { Model } from '../../main/engine/models/index';

/** Live tensor counts after each of three forward-and-gradient passes plus a forward pass: flat when nothing leaks. */
export function tensorCountsOverPasses(model: Model, x: tf.Tensor3D): number[] {
  const counts: number[] = [];
  for (let k = 0; k < 3; k++) {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(model.apply(x))) as tf.Scalar,
      model.params.map((p) => p.variable),
    );
    tf.dispose([value, ...Object.values(grads)]);
    tf.tidy(() => model.apply(x)).dispose();
    counts.push(tf.memory().numTensors);
  }
  return counts;
}
