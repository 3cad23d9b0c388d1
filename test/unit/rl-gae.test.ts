// GAE and the on-policy loss against values computed by hand.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gae, STEP_END } from '../../main/engine/rl/gae';
import { onPolicyLoss } from '../../main/engine/rl/loss';

const { continues, terminated, truncated } = STEP_END;

describe('GAE', () => {
  it('bootstraps truncations from the final observation, stops at terminations, runs on through the rest', () => {
    // Two streams, time-major. Stream 0: a truncation at t = 1 (V(final obs) = 3) and a termination at t = 3;
    // stream 1 runs on through all four steps and bootstraps from V = 10 after them.
    const { advantages, returns } = gae({
      n: 2,
      T: 4,
      rewards: Float32Array.from([1, 0, 2, 0, 3, 0, 4, 1]),
      values: Float32Array.from([0.5, 0, 1, 0, 1.5, 0, 2, 0, 2.5, 10]),
      ends: Uint8Array.from([continues, continues, truncated, continues, continues, continues, terminated, continues]),
      bootValues: Float32Array.from([0, 0, 3, 0, 0, 0, 0, 0]),
      discount: 0.9,
      lambda: 0.8,
    });
    // Stream 0, backwards: delta_3 = 4 - 2 = 2; delta_2 = 3 + 0.9 * 2 - 1.5 = 3.3, A_2 = 3.3 + 0.72 * 2 = 4.74;
    // delta_1 = 2 + 0.9 * 3 - 1 = 3.7 (nothing after it); delta_0 = 1 + 0.9 * 1 - 0.5 = 1.4, A_0 = 1.4 + 0.72 * 3.7.
    const stream0 = [1.4 + 0.72 * 3.7, 3.7, 4.74, 2];
    // Stream 1: delta_3 = 1 + 0.9 * 10 = 10, then only (gamma lambda)^k of it.
    const stream1 = [10 * 0.72 ** 3, 10 * 0.72 ** 2, 10 * 0.72, 10];
    stream0.forEach((a, t) => {
      expect(advantages[t * 2]).toBeCloseTo(a, 5);
      expect(returns[t * 2]).toBeCloseTo(a + [0.5, 1, 1.5, 2][t], 5);
    });
    for (const [t, a] of stream1.entries()) expect(advantages[t * 2 + 1]).toBeCloseTo(a, 5);
  });
});

describe('the on-policy loss', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  const ln = Math.log;
  // Row 0: logits (0, 0), action 0 (p 0.5, old p 0.4); row 1: logits (ln 3, 0), action 1 (p 0.25, old p 0.5);
  // row 2: padding with values that would change every term.
  const batch = (masked: boolean) => ({
    out: {
      dist: tf.tensor2d([0, 0, ln(3), 0, ...(masked ? [5, -5] : [])], [masked ? 3 : 2, 2]),
      logStd: null,
      values: tf.tensor1d([0.5, 1, ...(masked ? [100] : [])]),
      valueScale: null,
    },
    batch: {
      actions: tf.tensor2d([1, 0, 0, 1, ...(masked ? [0, 1] : [])], [masked ? 3 : 2, 2]),
      oldLogProbs: tf.tensor1d([ln(0.4), ln(0.5), ...(masked ? [-20] : [])]),
      advantages: tf.tensor1d([1, -1, ...(masked ? [50] : [])]),
      returns: tf.tensor1d([1, 0, ...(masked ? [-100] : [])]),
      mask: masked ? tf.tensor1d([1, 1, 0]) : null,
    },
  });
  const action = { kind: 'discrete', n: 2 } as const;
  const read = (terms: ReturnType<typeof onPolicyLoss>) =>
    Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, v.dataSync()[0]]));

  it("is PPO's clipped surrogate with normalised advantages, the value MSE and the entropy bonus", () => {
    for (const masked of [false, true]) {
      const { out, batch: b } = batch(masked);
      const terms = read(
        onPolicyLoss(out, b, { action, clip: 0.2, normalizeAdvantages: true, valueCoef: 0.5, entropyCoef: 0.01 }),
      );
      // Advantages (1, -1) normalise to +-1/sqrt(2) (unbiased std). Ratios 1.25 and 0.5: row 0 takes the
      // clipped 1.2 A, row 1 the clipped 0.8 A (the smaller of the two for a negative advantage).
      const a = 1 / Math.sqrt(2);
      const policyLoss = -(1.2 * a + 0.8 * -a) / 2;
      const valueLoss = (0.5 ** 2 + 1) / 2;
      const entropy = (ln(2) - (0.75 * ln(0.75) + 0.25 * ln(0.25))) / 2;
      expect(terms.policyLoss).toBeCloseTo(policyLoss, 5);
      expect(terms.valueLoss).toBeCloseTo(valueLoss, 5);
      expect(terms.entropy).toBeCloseTo(entropy, 5);
      expect(terms.loss).toBeCloseTo(policyLoss - 0.01 * entropy + 0.5 * valueLoss, 5);
      expect(terms.approxKl).toBeCloseTo((0.25 - ln(1.25) + (-0.5 - ln(0.5))) / 2, 5);
      expect(terms.clipFraction).toBeCloseTo(1, 6);
    }
  });

  it('is the plain policy gradient -A log pi without a clip, and measures a scaled critic in its unit', () => {
    const { out, batch: b } = batch(false);
    const scaled = { ...out, values: tf.tensor1d([2, 6]), valueScale: tf.tensor1d([4, 2]) };
    const terms = read(
      onPolicyLoss(scaled, b, { action, clip: null, normalizeAdvantages: false, valueCoef: 1, entropyCoef: 0 }),
    );
    expect(terms.policyLoss).toBeCloseTo(-(1 * ln(0.5) + -1 * ln(0.25)) / 2, 5);
    expect(terms.valueLoss).toBeCloseTo((((1 - 2) / 4) ** 2 + ((0 - 6) / 2) ** 2) / 2, 5);
    expect(terms.clipFraction).toBe(0);
  });

  it("takes a Gaussian's log-probability and entropy from its mean and learned log std", () => {
    const out = {
      dist: tf.tensor2d([0, 1], [2, 1]),
      logStd: tf.tensor1d([Math.log(2)]),
      values: tf.tensor1d([0, 0]),
      valueScale: null,
    };
    const b = {
      actions: tf.tensor2d([1, 1], [2, 1]),
      oldLogProbs: tf.tensor1d([0, 0]),
      advantages: tf.tensor1d([1, 0]),
      returns: tf.tensor1d([0, 0]),
      mask: null,
    };
    const box = { kind: 'box', size: 1, low: -2, high: 2 } as const;
    const terms = read(
      onPolicyLoss(out, b, { action: box, clip: null, normalizeAdvantages: false, valueCoef: 0, entropyCoef: 0 }),
    );
    const halfLog2Pi = 0.5 * ln(2 * Math.PI);
    // Row 0: (1 - 0) / 2 = 0.5 standard deviations away; row 1 at the mean (advantage 0).
    expect(terms.policyLoss).toBeCloseTo(-(-0.5 * 0.25 - ln(2) - halfLog2Pi) / 2, 5);
    expect(terms.entropy).toBeCloseTo(0.5 + halfLog2Pi + ln(2), 5);
  });
});
