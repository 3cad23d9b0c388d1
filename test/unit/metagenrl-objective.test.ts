// MetaGenRL's learned objective (main/engine/rl/metagenrl/objective.ts) and meta-gradient (metaGradient.ts), on their
// own: the invariances the design promises, the forward-mode tangent against a central difference, and the
// meta-gradient against a central difference of J(alpha) itself (float32, so with a large inner step; the exact
// check against PyTorch's second-order autograd is test/unit/metagenrl-peer.test.ts).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { learnedObjectiveSpec } from '../../shared/spec';
import { initBackend } from '../../main/engine/backends';
import { glorot, zeros } from '../../main/engine/models/layers';
import { Adam } from '../../main/engine/optimizer';
import { Rng } from '../../main/engine/rng';
import {
  actorForward,
  type AgentNets,
  criticValues,
  type DenseLayer,
  metaGradient,
  q1,
  subBatch,
} from '../../main/engine/rl/metagenrl/metaGradient';
import { objectiveLayout } from '../../main/engine/rl/metagenrl/layout';
import { LearnedObjective, objectiveBatch, type SubTrajectories } from '../../main/engine/rl/metagenrl/objective';

const stack = (name: string, widths: number[], rng: Rng): DenseLayer[] =>
  widths.slice(1).map((out, i) => ({
    w: glorot(`${name}${i}.w`, widths[i], out, rng),
    b: zeros(`${name}${i}.b`, [out]),
  }));

function nets(obsSize: number, actionSize: number, rng: Rng): AgentNets {
  return {
    actor: stack('actor', [obsSize, 16, actionSize], rng),
    critic: stack('critic', [obsSize + actionSize, 16, 1], rng),
  };
}

/** B sub-trajectories of T steps of random data; sub-trajectory 1 ends (terminates) at step 2. */
function batch(B: number, T: number, obsSize: number, actionSize: number, rng: Rng): SubTrajectories {
  const rows = B * T;
  const fill = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  const dones = new Float32Array(rows);
  const mask = new Float32Array(rows).fill(1);
  dones[2 * B + 1] = 1;
  for (let t = 3; t < T; t++) mask[t * B + 1] = 0;
  return {
    batch: B,
    length: T,
    obsSize,
    actionSize,
    obs: fill(rows * obsSize, () => rng.normal()),
    actions: fill(rows * actionSize, () => rng.next() * 2 - 1),
    rewards: fill(rows, () => rng.normal()),
    nextObs: fill(rows * obsSize, () => rng.normal()),
    dones,
    mask,
  };
}

const arch = (over: object = {}) =>
  learnedObjectiveSpec.parse({ units: 8, depth: 2, valueFeatures: 4, lstm: 6, ...over });

describe('the learned objective', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('gives the same per-step output whatever the order of the action dimensions', () => {
    const rng = new Rng(1);
    const objective = new LearnedObjective(arch(), rng);
    const x = batch(4, 5, 3, 3, rng);
    const policy = Float32Array.from({ length: x.actions.length }, () => rng.next() * 2 - 1);
    const permute = (a: Float32Array) => a.map((_, i) => a[i - (i % 3) + [2, 0, 1][i % 3]]);
    const values = new Float32Array(20).map(() => rng.normal());
    const out = (actions: Float32Array, pol: Float32Array) =>
      objective.perStep(objectiveBatch({ ...x, actions }, values, values, objective.architecture.inputs), pol);
    const a = out(x.actions, policy);
    const b = out(permute(x.actions), permute(policy));
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 5);
    objective.dispose();
  });

  it("carries the loss's derivative along the policy's actions (tangent = gradient . u = central difference)", () => {
    const rng = new Rng(2);
    const objective = new LearnedObjective(arch({ depth: 3 }), rng);
    const x = batch(4, 6, 3, 2, rng);
    const policy = Float32Array.from({ length: x.actions.length }, () => rng.next() * 2 - 1);
    const u = Float32Array.from({ length: x.actions.length }, () => rng.normal());
    const values = new Float32Array(24).map(() => rng.normal());
    const b = objectiveBatch(
      x,
      values,
      values.map((v) => v + 1),
      objective.architecture.inputs,
    );
    const lossAt = (eps: number) =>
      objective.lossAndActionGrad(
        b,
        policy.map((p, i) => p + eps * u[i]),
      ).loss;
    const { tangent } = objective.tangentGrads(b, policy, u, 1);
    const { actionGrad } = objective.lossAndActionGrad(b, policy);
    const viaGradient = actionGrad.reduce((s, g, i) => s + g * u[i], 0);
    // The square activations make it strongly curved: a small step (float32 still resolves it at this size).
    const eps = 1e-4;
    const fd = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
    expect(Math.abs(tangent - viaGradient)).toBeLessThan(1e-5 * Math.abs(tangent));
    expect(Math.abs(tangent - fd)).toBeLessThan(5e-3 * Math.abs(fd));
    expect(Math.abs(tangent)).toBeGreaterThan(1e-4);
    objective.dispose();
  });

  it('meta-gradient = -dJ/dalpha by a central difference of J through the inner step', async () => {
    const rng = new Rng(3);
    const objective = new LearnedObjective(arch({ errorScale: 10 }), rng);
    const agent = nets(3, 1, rng);
    const x = batch(8, 5, 3, 1, rng);
    const eta = 0.5; // large, so that J's change is far above float32's resolution
    const { grads } = await metaGradient(agent, objective, x, eta);
    // J(alpha) = mean Q1(s, pi_phi'(s)), phi' = phi - eta grad L_alpha(phi) on the half batch, evaluated directly.
    const half = subBatch(x, 0, 4);
    const { values, nextValues } = criticValues(agent, half);
    const phi = agent.actor.flatMap((l) => [l.w.variable, l.b.variable]);
    const j = () =>
      tf.tidy(() => {
        const b = objectiveBatch(half, values, nextValues, objective.architecture.inputs);
        const obsH = tf.tensor2d(half.obs, [20, 3]);
        // grad_phi L = the actor's vector-Jacobian product with dL/da, taken here by tfjs on its own.
        const { actionGrad } = objective.lossAndActionGrad(b, actorForward(phi, obsH).dataSync() as Float32Array);
        const { grads: g } = tf.variableGrads(
          () => tf.sum(tf.mul(actorForward(phi, obsH), tf.tensor2d(actionGrad, [20, 1]))) as tf.Scalar,
          phi,
        );
        const after = phi.map((p) => tf.sub(p, tf.mul(g[p.name], eta)));
        const obs = tf.tensor2d(x.obs, [40, 3]);
        const q = q1(agent.critic, obs, actorForward(after, obs));
        return tf
          .div(
            tf.sum(tf.mul(q, tf.tensor2d(x.mask, [40, 1]))),
            x.mask.reduce((s, m) => s + m, 0),
          )
          .dataSync()[0];
      });
    // A random direction in alpha-space.
    const direction = objective.params.map((p) => tf.tidy(() => tf.randomNormal(p.variable.shape, 0, 1, 'float32', 7)));
    const shift = (s: number) => {
      for (const [i, p] of objective.params.entries()) {
        tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.mul(direction[i], s))));
      }
    };
    const eps = 1e-3;
    shift(eps);
    const up = j();
    shift(-2 * eps);
    const down = j();
    shift(eps);
    const fd = -(up - down) / (2 * eps);
    const analytic = grads.reduce((s, g, i) => s + tf.tidy(() => tf.sum(tf.mul(g, direction[i])).dataSync()[0]), 0);
    expect(Math.abs(analytic)).toBeGreaterThan(1e-6);
    expect(Math.abs(analytic - fd)).toBeLessThan(0.05 * Math.abs(fd));
    tf.dispose([...grads, ...direction]);
    objective.dispose();
  });
});

describe('meta-training the objective', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it("raises the critic's value of the policy after the inner step (J), on a fixed agent and batch", async () => {
    const rng = new Rng(8);
    const objective = new LearnedObjective(arch({ errorScale: 10 }), rng);
    const agent = nets(3, 1, rng);
    const x = batch(8, 5, 3, 1, rng);
    const eta = 0.5; // J's change over a step is then far above float32's resolution
    const adam = new Adam(objective.params, 1e-8);
    const js: number[] = [];
    for (let k = 0; k < 30; k++) {
      const { grads, metaLoss } = await metaGradient(agent, objective, x, eta);
      js.push(-metaLoss);
      await adam.step(grads, 3e-3, null);
      tf.dispose(grads);
    }
    // The agent's weights never change: only the objective does, and J climbs with it.
    expect(js.at(-1)! - js[0]).toBeGreaterThan(0.05 * Math.abs(js[0]) + 1e-3);
    expect(js.slice(-5).every((j) => j > js[0])).toBe(true);
    adam.dispose();
    objective.dispose();
  });
});

describe("the objective's weight layout", () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it.each([{}, { depth: 1 }, { inputs: [] }, { inputs: ['time'], depth: 3, units: 6 }])(
    'names and shapes the weights the objective creates (%o)',
    (over) => {
      const objective = new LearnedObjective(arch(over), new Rng(4));
      expect(objectiveLayout(objective.architecture)).toEqual(
        objective.params.map((p) => ({ name: p.name, shape: [...p.variable.shape] })),
      );
      objective.dispose();
    },
  );
});
