// The policy acts with a typed-array forward pass of its network's weights; it must equal the tfjs forward that
// the update differentiates (else PPO's probability ratios would be off from the first epoch).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../main/engine/backends';
import type { ActionSpace } from '../../main/engine/envs/types';
import { createPolicyNet, recurrentInputSize, rlModelIssues } from '../../main/engine/rl/networks';
import { NetPolicy } from '../../main/engine/rl/policy';
import { Rng } from '../../main/engine/rng';
import { runSpec } from '../../shared/spec';

beforeAll(async () => {
  await initBackend('wasm');
});

const discrete: ActionSpace = { kind: 'discrete', n: 3 };
const box: ActionSpace = { kind: 'box', size: 2, low: -1, high: 1 };

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Random inputs as the policy receives them: observations, previous actions and rewards, done flags. */
function inputsAt(t: number, n: number, obsSize: number, action: ActionSpace, rng: Rng) {
  return {
    obs: rng.fillNormal(new Float32Array(n * obsSize)),
    prevActions:
      action.kind === 'discrete'
        ? Float32Array.from({ length: n }, () => rng.int(action.n))
        : rng.fillNormal(new Float32Array(n * action.size)),
    prevRewards: rng.fillNormal(new Float32Array(n)),
    dones: Uint8Array.from({ length: n }, () => (t === 0 || rng.next() < 0.3 ? 1 : 0)),
  };
}

describe('the typed-array forward pass', () => {
  it('of a feed-forward policy equals the tfjs policy and value networks', async () => {
    for (const [action, activation] of [
      [discrete, 'relu'],
      [box, 'relu'],
      [discrete, 'tanh'],
      [box, 'tanh'],
    ] as const) {
      const net = createPolicyNet(
        { kind: 'mlp', hidden: [16, 8], activation },
        { observationSize: 4, action, lifetime: 1 },
        new Rng(3),
      );
      // Move the log std off 0 so the Gaussian's scale is tested too.
      net.logStd?.assign(tf.tensor1d([0.3, -0.7]));
      const policy = new NetPolicy(net);
      await policy.refresh();
      const n = 7;
      const input = inputsAt(0, n, 4, action, new Rng(4));
      const acted = policy.step(input, new Rng(5), 'greedy');
      const out = net.apply(tf.tensor3d(input.obs, [n, 1, 4]));
      expect(maxDiff(acted.values, await out.values.data())).toBeLessThan(1e-5);
      const dist = await out.dist.data();
      if (action.kind === 'discrete') {
        expect(maxDiff(acted.probs!, await tf.softmax(out.dist).data())).toBeLessThan(1e-5);
        const argmax = Array.from({ length: n }, (_, i) => {
          const row = Array.from(dist.subarray(i * 3, i * 3 + 3));
          return row.indexOf(Math.max(...row));
        });
        expect(Array.from(acted.actions)).toEqual(argmax);
      } else {
        expect(maxDiff(acted.actions, dist)).toBeLessThan(1e-5); // greedy: the mean
        const sampled = policy.step(input, new Rng(6), 'sample');
        // log N(a; mu, sigma) of the draws, against the tfjs means and log std
        const logStd = [0.3, -0.7];
        const expected = Array.from({ length: n }, (_, i) =>
          [0, 1].reduce((s, j) => {
            const z = (sampled.actions[i * 2 + j] - dist[i * 2 + j]) / Math.exp(logStd[j]);
            return s - 0.5 * z * z - logStd[j] - 0.5 * Math.log(2 * Math.PI);
          }, 0),
        );
        expect(maxDiff(sampled.logProbs, expected)).toBeLessThan(1e-4);
      }
    }
  });

  it('of a recurrent policy, step by step through a lifetime, equals the LSTM over the whole sequence', async () => {
    for (const action of [discrete, box]) {
      const shape = { observationSize: 2, action, lifetime: 3 };
      const net = createPolicyNet({ kind: 'lstm', hidden: 8, layers: 2 }, shape, new Rng(7));
      const policy = new NetPolicy(net);
      await policy.refresh();
      const n = 5;
      const T = 9;
      const I = recurrentInputSize(shape);
      expect(net.inputSize).toBe(I);
      const rng = new Rng(8);
      policy.begin(n);
      const inputs = new Float32Array(n * T * I); // batch-major, as the update runs it
      const values: number[][] = [];
      const logProbs: number[][] = [];
      const actions: number[][] = [];
      for (let t = 0; t < T; t++) {
        const acted = policy.step(inputsAt(t, n, 2, action, rng), rng, 'sample');
        for (let i = 0; i < n; i++) inputs.set(acted.inputs.subarray(i * I, (i + 1) * I), (i * T + t) * I);
        values.push(Array.from(acted.values));
        logProbs.push(Array.from(acted.logProbs));
        actions.push(Array.from(acted.actions));
      }
      const out = net.apply(tf.tensor3d(inputs, [n, T, I]));
      const tfValues = await out.values.data();
      const flat = (rows: number[][]) => Array.from({ length: n * T }, (_, k) => rows[k % T][Math.floor(k / T)]);
      expect(maxDiff(flat(values), tfValues)).toBeLessThan(1e-5);
      // The value head is scaled by the episodes left, which the input's last feature carries.
      // (The random done flags end more episodes than the lifetime has: then none are left, and the unit is 1.)
      const left = Array.from({ length: n * T }, (_, k) => Math.max(1, inputs[k * I + I - 1] * 3));
      expect(maxDiff(await out.valueScale!.data(), left)).toBeLessThan(1e-6);
      if (action.kind === 'discrete') {
        const logSoftmax = await tf.logSoftmax(out.dist).data();
        const expected = flat(actions).map((a, k) => logSoftmax[k * 3 + a]);
        expect(maxDiff(flat(logProbs), expected)).toBeLessThan(1e-5);
      }
    }
  });
});

describe('RL policy models', () => {
  it('are mlp, lstm or symla (under es); another model kind is refused saying which can', () => {
    const spec = (model: object, algorithm = 'ppo') =>
      runSpec.parse({ task: { family: 'rl', algorithm: { kind: algorithm } }, model });
    expect(rlModelIssues(spec({ kind: 'mlp' }))).toEqual([]);
    expect(rlModelIssues(spec({ kind: 'lstm' }))).toEqual([]);
    expect(rlModelIssues(spec({ kind: 'symla' }, 'es'))).toEqual([]);
    expect(rlModelIssues(spec({ kind: 'symla' }, 'fme'))).toEqual([]);
    expect(rlModelIssues(spec({ kind: 'symla' }))).toEqual([expect.stringMatching(/without gradients.*not by ppo/)]);
    const [issue] = rlModelIssues(spec({ kind: 'transformer' }));
    expect(issue).toMatch(/'mlp'.*'lstm'.*'symla'.*not 'transformer'/);
  });
});
