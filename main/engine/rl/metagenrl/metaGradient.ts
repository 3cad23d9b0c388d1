// What a MetaGenRL agent computes with the learned objective: its actor's loss on it (blended with TD3's -Q during the
// warm-up), and the objective's meta-gradient from this agent.
//
// Meta-gradient (the authors' future_policy_value): one plain gradient step of the actor on L_alpha over half the
// minibatch, phi' = phi - eta grad_phi L_alpha(phi), then alpha maximises J = mean Q1(s, pi_phi'(s)) over the whole
// minibatch, through that step. With v = grad_phi' J and u = J_pi(phi) v (the actor's Jacobian-vector product: how
// the half batch's actions move when phi moves along v),
//   dJ/d alpha = -eta d/d alpha [v . grad_phi L_alpha(phi)] = -eta d/d alpha [u . dL_alpha/da],
// and u . dL_alpha/da is the tangent the objective carries along u (./objective.ts). So the meta-gradient is exact:
// the actor's JVP by forward mode (below), then reverse mode through the objective's tangent (./dualTape.ts).
// Cutting the gradient through the inner step instead would give exactly zero.
//
// The actor and critic are tfjs networks; the objective runs on the host, so the actor's gradient of L_alpha is the
// actor's backward pass from dL/da (its vector-Jacobian product with the objective's action gradient).
import * as tf from '@tensorflow/tfjs';
import type { Param } from '../../models/index.js';
import { linear, linearOnData, linearRelu } from '../../models/ops.js';
import { type LearnedObjective, objectiveBatch, type SubTrajectories } from './objective.js';

/** A dense layer of the agent's networks (Td3Learner's actor and critics). */
export interface DenseLayer {
  w: Param;
  b: Param;
}

/** The agent's actor and first critic: all the objective and its meta-gradient need. */
export interface AgentNets {
  actor: readonly DenseLayer[];
  critic: readonly DenseLayer[];
}

const variablesOf = (layers: readonly DenseLayer[]) => layers.flatMap((l) => [l.w.variable, l.b.variable]);

/**
 * The actor's output before its tanh, for weights [w0, b0, w1, b1, ...] given as tensors (ReLU hidden layers), through
 * the fused dense kernels of models/ops.ts (tf.matMul's backward falls back to tfjs-wasm's slow loop). `obs` is data.
 */
function actorPreTanh(weights: readonly tf.Tensor[], obs: tf.Tensor2D): tf.Tensor2D {
  let h: tf.Tensor2D = obs;
  for (let i = 0; i < weights.length; i += 2) {
    const [w, b] = [weights[i], weights[i + 1]];
    const last = i + 2 === weights.length;
    if (i === 0) {
      h = linearOnData(h, w, b);
      if (!last) h = tf.relu(h);
    } else h = last ? linear(h, w, b) : linearRelu(h, w, b);
  }
  return h;
}

/** tanh(MLP(obs)): the actor's actions in [-1, 1]. */
export const actorForward = (weights: readonly tf.Tensor[], obs: tf.Tensor2D): tf.Tensor2D =>
  tf.tanh(actorPreTanh(weights, obs));

/** The actor's forward-mode derivative along a parameter tangent (same layout as the weights), on data `obs`. */
export function actorJvp(weights: readonly tf.Tensor[], tangent: readonly tf.Tensor[], obs: tf.Tensor2D): tf.Tensor2D {
  let h: tf.Tensor2D = obs;
  let dh: tf.Tensor2D | null = null;
  for (let i = 0; i < weights.length; i += 2) {
    const w = weights[i] as tf.Tensor2D;
    const z = tf.add(tf.matMul(h, w), weights[i + 1]) as tf.Tensor2D;
    let dz = tf.add(tf.matMul(h, tangent[i] as tf.Tensor2D), tangent[i + 1]) as tf.Tensor2D;
    if (dh) dz = tf.add(dz, tf.matMul(dh, w));
    if (i + 2 < weights.length) {
      h = tf.relu(z);
      dh = tf.mul(dz, tf.step(z)) as tf.Tensor2D;
    } else {
      const a = tf.tanh(z) as tf.Tensor2D;
      return tf.mul(tf.sub(1, tf.square(a)), dz) as tf.Tensor2D;
    }
  }
  throw new Error('an actor has at least one layer');
}

/** Q1(s, a): the critic's ReLU MLP on [s, a], linear output, [rows, 1] (gradients reach the actions). */
export function q1(critic: readonly DenseLayer[], obs: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor2D {
  let h = tf.concat([obs, actions], 1) as tf.Tensor2D;
  critic.forEach((l, i) => {
    h = i < critic.length - 1 ? linearRelu(h, l.w.variable, l.b.variable) : linear(h, l.w.variable, l.b.variable);
  });
  return h;
}

/** The critic's values of the current policy at every step: Q1(s, pi(s)) and Q1(s', pi(s')), as data. */
export function criticValues(nets: AgentNets, x: SubTrajectories): { values: Float32Array; nextValues: Float32Array } {
  return tf.tidy(() => {
    const rows = x.batch * x.length;
    const weights = variablesOf(nets.actor);
    const critique = (obs: Float32Array) => {
      const s = tf.tensor2d(obs, [rows, x.obsSize]);
      return q1(nets.critic, s, actorForward(weights, s)).dataSync() as Float32Array;
    };
    return { values: critique(x.obs), nextValues: critique(x.nextObs) };
  });
}

/** Sub-trajectories [from, to) of a minibatch (its steps keep their time-major order). */
export function subBatch(x: SubTrajectories, from: number, to: number): SubTrajectories {
  const n = to - from;
  const pick = (column: Float32Array, width: number) => {
    const out = new Float32Array(x.length * n * width);
    for (let t = 0; t < x.length; t++) {
      out.set(column.subarray((t * x.batch + from) * width, (t * x.batch + to) * width), t * n * width);
    }
    return out;
  };
  return {
    ...x,
    batch: n,
    obs: pick(x.obs, x.obsSize),
    actions: pick(x.actions, x.actionSize),
    rewards: pick(x.rewards, 1),
    nextObs: pick(x.nextObs, x.obsSize),
    dones: pick(x.dones, 1),
    mask: pick(x.mask, 1),
  };
}

const maskedMean = (t: tf.Tensor2D, mask: tf.Tensor2D, count: number) =>
  tf.div(tf.sum(tf.mul(t, mask)), count) as tf.Scalar;

/** Fraction of actions within 1% of a bound of [-1, 1]: near 1, the objective has collapsed onto bang-bang actions. */
function saturation(actions: Float32Array): number {
  let n = 0;
  for (const a of actions) if (Math.abs(a) > 0.99) n += 1;
  return actions.length ? n / actions.length : 0;
}

/** The actor's gradient of L_alpha on `obs`: its backward pass from the objective's dL/da (data). */
function actorGradOf(weights: tf.Variable[], obs: tf.Tensor2D, actionGrad: tf.Tensor2D): tf.Tensor[] {
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(actorForward(weights, obs), actionGrad)) as tf.Scalar,
    weights,
  );
  return weights.map((w) => grads[w.name]);
}

/**
 * The actor's loss on a minibatch: blend * L_alpha + (1 - blend) * TD3's -mean Q1(s, pi(s)) (the warm-up), plus
 * `actionPenalty` times the mean squared pre-tanh action, with its gradients (actor weights in layer order), and the
 * saturation of the policy's actions.
 */
export function objectivePolicyLoss(
  nets: AgentNets,
  objective: LearnedObjective,
  x: SubTrajectories,
  blend: number,
  actionPenalty = 0,
): { loss: tf.Scalar; grads: tf.Tensor[]; saturation: number } {
  const rows = x.batch * x.length;
  const { values, nextValues } = criticValues(nets, x);
  const batch = objectiveBatch(x, values, nextValues, objective.architecture.inputs);
  const params = variablesOf(nets.actor);
  return tf.tidy(() => {
    const obs = tf.tensor2d(x.obs, [rows, x.obsSize]);
    const actions = actorForward(params, obs).dataSync() as Float32Array;
    const learned = blend > 0 ? objective.lossAndActionGrad(batch, actions) : null;
    const mask = tf.tensor2d(x.mask, [rows, 1]);
    const { value, grads } = tf.variableGrads(() => {
      const z = actorPreTanh(params, obs);
      const a = tf.tanh(z) as tf.Tensor2D;
      // blend * <a, dL/da> has blend * dL/dphi as its gradient; its value is not the loss, which is added below.
      let loss = learned
        ? tf.mul(tf.sum(tf.mul(a, tf.tensor2d(learned.actionGrad, [rows, x.actionSize]))), blend)
        : tf.scalar(0);
      if (blend < 1) {
        loss = tf.add(loss, tf.mul(tf.neg(maskedMean(q1(nets.critic, obs, a), mask, batch.validSteps)), 1 - blend));
      }
      if (actionPenalty > 0) loss = tf.add(loss, tf.mul(tf.mean(tf.square(z)), actionPenalty));
      return loss as tf.Scalar;
    }, params);
    // The reported loss: blend * L_alpha + (1 - blend) * (-mean Q1), with the surrogate's value swapped for L_alpha's.
    const surrogate = learned
      ? tf.mul(
          tf.sum(
            tf.mul(tf.tensor2d(actions, [rows, x.actionSize]), tf.tensor2d(learned.actionGrad, [rows, x.actionSize])),
          ),
          blend,
        )
      : tf.scalar(0);
    const loss = tf.add(tf.sub(value, surrogate), (learned?.loss ?? 0) * blend) as tf.Scalar;
    return { loss, grads: params.map((p) => grads[p.name]), saturation: saturation(actions) };
  });
}

/**
 * This agent's meta-gradient of the objective (to minimise: -dJ/d alpha, in the objective's parameter order), the
 * meta-loss -J, and the alignment: the cosine between the objective's policy gradient (on the half batch) and
 * TD3's, -grad_phi' J.
 */
export async function metaGradient(
  nets: AgentNets,
  objective: LearnedObjective,
  x: SubTrajectories,
  innerLearningRate: number,
): Promise<{ grads: tf.Tensor[]; metaLoss: number; alignment: number }> {
  const half = subBatch(x, 0, Math.max(1, Math.floor(x.batch / 2)));
  const halfRows = half.batch * half.length;
  const { values, nextValues } = criticValues(nets, half);
  const batch = objectiveBatch(half, values, nextValues, objective.architecture.inputs);
  const phi = variablesOf(nets.actor);
  const out = tf.tidy(() => {
    const halfObs = tf.tensor2d(half.obs, [halfRows, half.obsSize]);
    const fullObs = tf.tensor2d(x.obs, [x.batch * x.length, x.obsSize]);
    const fullMask = tf.tensor2d(x.mask, [x.batch * x.length, 1]);
    const fullValid = Math.max(
      1,
      x.mask.reduce((a, b) => a + b, 0),
    );
    // The inner step: phi' = phi - eta grad_phi L_alpha(phi) on the half batch.
    const actions = actorForward(phi, halfObs).dataSync() as Float32Array;
    const { actionGrad } = objective.lossAndActionGrad(batch, actions);
    const g = actorGradOf(phi, halfObs, tf.tensor2d(actionGrad, [halfRows, half.actionSize]));
    const phiAfter = phi.map((p, i) => tf.sub(p, tf.mul(g[i], innerLearningRate)));
    // v = grad_phi' J, J = mean Q1(s, pi_phi'(s)) over the whole batch.
    const { value: j, grads: v } = tf.valueAndGrads((...w: tf.Tensor[]) =>
      maskedMean(q1(nets.critic, fullObs, actorForward(w, fullObs)), fullMask, fullValid),
    )(phiAfter);
    const dot = (a: tf.Tensor[], b: tf.Tensor[]) =>
      a.reduce((s, t, i) => tf.add(s, tf.sum(tf.mul(t, b[i]))), tf.scalar(0));
    const alignment = tf.div(tf.neg(dot(g, v)), tf.add(tf.sqrt(tf.mul(dot(g, g), dot(v, v))), 1e-30));
    // u = J_pi(phi) v: how the half batch's actions move along v.
    const u = actorJvp(phi, v, halfObs).dataSync() as Float32Array;
    return { j: j.dataSync()[0], alignment: alignment.dataSync()[0], actions, u };
  });
  // The meta-gradient eta d/d alpha [u . dL_alpha/da] of -J.
  const meta = objective.tangentGrads(batch, out.actions, out.u, innerLearningRate);
  const grads = objective.params.map((p, i) => tf.tensor(meta.grads[i], p.variable.shape));
  return { grads, metaLoss: -out.j, alignment: out.alignment };
}
