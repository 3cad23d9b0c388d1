// TD3 (Fujimoto, van Hoof & Meger 2018): a deterministic actor, twin critics and their target networks, a replay
// buffer; critics learn from r + gamma min(Q1', Q2')(s', a' + clipped noise) every step, the actor (and the Polyak
// averaging of every target) every `policyDelay` steps, as in the authors' code and Stable-Baselines3.
//
// Actions live in [-1, 1] inside the learner (the actor ends in tanh; the buffer and critics see scaled actions)
// and are mapped linearly onto the environment's box. The exploration noise N(0, explorationNoise) and the target
// noise N(0, targetNoise) clipped to targetNoiseClip are drawn in that scaled space, as Stable-Baselines3 does;
// in environment units that is explorationNoise x (high - low) / 2, which for the symmetric boxes of classic
// control equals the paper's explorationNoise x max action.
//
// A training step is one environment step (one environment, n = 1) and, past `randomSteps` uniformly random
// actions, one update on a minibatch of `training.batchSize` (Adam at `training.learningRate` for both networks;
// `training.gradClip` applies if set: the paper and SB3 do not clip, so null reproduces them). The random steps
// report a loss of 0 and no gradient norm. Every random draw of step k is seeded by (seed, k).
import * as tf from '@tensorflow/tfjs';
import { createVecEnv } from '../envs/index.js';
import type { ActionSpace, VecEnv } from '../envs/types.js';
import type { Param } from '../models/index.js';
import { countParams, glorot, zeros } from '../models/layers.js';
import { fusedMatMul, linear, linearOnData, linearRelu } from '../models/ops.js';
import { Adam, learningRateAt } from '../optimizer.js';
import { Rng, seedFrom } from '../rng.js';
import { ReplayBuffer, type Transitions } from './replay.js';
import type { Algorithm, AlgorithmDef, Policy, RlSpec, SavedVariable, StepReport } from './types.js';

type Td3Spec = Extract<RlSpec['task']['algorithm'], { kind: 'td3' }>;

interface Dense {
  w: Param;
  b: Param;
}

/** Layer widths [input, ...hidden, output] as dense layers, weights Glorot-uniform from `rng`, biases 0. */
function denseStack(name: string, widths: readonly number[], rng: Rng): Dense[] {
  return widths.slice(1).map((out, i) => ({
    w: glorot(`${name}.layer${i}.w`, widths[i], out, rng),
    b: zeros(`${name}.layer${i}.b`, [out]),
  }));
}

const paramsOf = (layers: readonly Dense[]) => layers.flatMap((l) => [l.w, l.b]);

/** ReLU hidden layers, linear output, under a gradient tape. `x` is data (no gradient to it) unless `inputGrad`. */
function forward(layers: readonly Dense[], x: tf.Tensor2D, inputGrad: boolean): tf.Tensor2D {
  let h = x;
  layers.forEach((l, i) => {
    const last = i === layers.length - 1;
    const [w, b] = [l.w.variable, l.b.variable];
    if (i === 0 && !inputGrad) {
      h = linearOnData(h, w, b);
      if (!last) h = tf.relu(h);
    } else h = last ? linear(h, w, b) : linearRelu(h, w, b);
  });
  return h;
}

/** The same outside any gradient (targets, acting): one fused product + bias + ReLU kernel per layer. */
function evaluate(layers: readonly Dense[], x: tf.Tensor2D): tf.Tensor2D {
  return layers.reduce(
    (h, l, i) => fusedMatMul(h, l.w.variable as tf.Tensor2D, l.b.variable as tf.Tensor1D, i < layers.length - 1),
    x,
  );
}

export interface Td3Shape {
  obsSize: number;
  actionSize: number;
  hidden: readonly number[];
}

/** A minibatch as tensors: observations, scaled actions, and [batch, 1] columns of rewards and discounts. */
export interface BatchTensors {
  obs: tf.Tensor2D;
  actions: tf.Tensor2D;
  rewards: tf.Tensor2D;
  nextObs: tf.Tensor2D;
  /** gamma (1 - done): what the next state's value counts for. */
  discounts: tf.Tensor2D;
  noise: tf.Tensor2D;
}

/**
 * The target policy smoothing noise of a minibatch ([rows * actionSize] numbers): N(0, std) clipped to [-clip, clip].
 * Drawn here (not in tfjs) so a run is the same on every backend, and so the PyTorch peer can be given it.
 */
export function targetNoise(rng: Rng, count: number, std: number, clip: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.min(clip, Math.max(-clip, rng.normal() * std));
  return out;
}

/** TD3's networks, targets and optimisers, and its update: what the algorithm, the peer check and bench share. */
export class Td3Learner {
  readonly actor: Dense[];
  readonly critics: [Dense[], Dense[]];
  readonly actorTarget: Dense[];
  readonly criticTargets: [Dense[], Dense[]];
  readonly actorAdam: Adam;
  readonly criticAdam: Adam;

  constructor(
    readonly shape: Td3Shape,
    private readonly discount: number,
    private readonly polyak: number,
    rng: Rng,
    adamEpsilon: number,
  ) {
    const { obsSize, actionSize, hidden } = shape;
    const actorWidths = [obsSize, ...hidden, actionSize];
    const criticWidths = [obsSize + actionSize, ...hidden, 1];
    this.actor = denseStack('actor', actorWidths, rng);
    this.critics = [denseStack('critic1', criticWidths, rng), denseStack('critic2', criticWidths, rng)];
    // Targets start as copies (the initialisers draw nothing for them).
    const copy = (name: string, layers: Dense[]) =>
      layers.map((l) => ({
        w: { name: `${name}.${l.w.name}`, variable: tf.tidy(() => tf.variable(l.w.variable.clone())) },
        b: { name: `${name}.${l.b.name}`, variable: tf.tidy(() => tf.variable(l.b.variable.clone())) },
      }));
    this.actorTarget = copy('target', this.actor);
    this.criticTargets = [copy('target', this.critics[0]), copy('target', this.critics[1])];
    this.actorAdam = new Adam(paramsOf(this.actor), adamEpsilon);
    this.criticAdam = new Adam(this.criticParams(), adamEpsilon);
  }

  criticParams(): Param[] {
    return [...paramsOf(this.critics[0]), ...paramsOf(this.critics[1])];
  }

  actorParams(): Param[] {
    return paramsOf(this.actor);
  }

  /** Online and target networks: every trained or averaged tensor. */
  params(): Param[] {
    return [
      ...this.actorParams(),
      ...this.criticParams(),
      ...paramsOf(this.actorTarget),
      ...paramsOf(this.criticTargets[0]),
      ...paramsOf(this.criticTargets[1]),
    ];
  }

  /** Trained parameters (actor and both critics). */
  get paramCount(): number {
    return countParams([...this.actorParams(), ...this.criticParams()]);
  }

  /** The deterministic policy, tanh(actor(obs)) in [-1, 1]: [n * actionSize]. */
  act(obs: Float32Array, n: number): Float32Array {
    return tf.tidy(() => {
      const x = tf.tensor2d(obs, [n, this.shape.obsSize]);
      return tf.tanh(evaluate(this.actor, x)).dataSync() as Float32Array;
    });
  }

  /** Uploads a minibatch (and its target noise) as tensors. */
  tensors(batch: Transitions, noise: Float32Array): BatchTensors {
    const { obsSize, actionSize } = this.shape;
    const n = batch.size;
    return {
      obs: tf.tensor2d(batch.obs, [n, obsSize]),
      actions: tf.tensor2d(batch.actions, [n, actionSize]),
      rewards: tf.tensor2d(batch.rewards, [n, 1]),
      nextObs: tf.tensor2d(batch.nextObs, [n, obsSize]),
      discounts: tf.tensor2d(
        batch.dones.map((d) => this.discount * (1 - d)),
        [n, 1],
      ),
      noise: tf.tensor2d(noise, [n, actionSize]),
    };
  }

  /** y = r + gamma (1 - done) min(Q1', Q2')(s', clip(actor'(s') + noise, -1, 1)), outside any gradient. */
  private target(b: BatchTensors): tf.Tensor2D {
    return tf.tidy(() => {
      const next = tf.clipByValue(tf.add(tf.tanh(evaluate(this.actorTarget, b.nextObs)), b.noise), -1, 1);
      const sa = tf.concat([b.nextObs, next], 1) as tf.Tensor2D;
      const q = tf.minimum(evaluate(this.criticTargets[0], sa), evaluate(this.criticTargets[1], sa));
      return tf.add(b.rewards, tf.mul(b.discounts, q));
    });
  }

  /** The critics' loss MSE(Q1, y) + MSE(Q2, y) and its gradients (critic1's parameters, then critic2's). */
  criticLoss(b: BatchTensors): { loss: tf.Scalar; grads: tf.Tensor[] } {
    const y = this.target(b);
    const params = this.criticParams();
    const { value, grads } = tf.variableGrads(
      () => {
        const sa = tf.concat([b.obs, b.actions], 1) as tf.Tensor2D;
        const mse = (critic: Dense[]) => tf.mean(tf.square(tf.sub(forward(critic, sa, false), y)));
        return tf.add(mse(this.critics[0]), mse(this.critics[1])) as tf.Scalar;
      },
      params.map((p) => p.variable),
    );
    y.dispose();
    return { loss: value, grads: params.map((p) => grads[p.variable.name]) };
  }

  /** The actor's loss -mean Q1(s, actor(s)) and its gradients. */
  actorLoss(b: BatchTensors): { loss: tf.Scalar; grads: tf.Tensor[] } {
    const params = this.actorParams();
    const { value, grads } = tf.variableGrads(
      () => {
        const a = tf.tanh(forward(this.actor, b.obs, false));
        return tf.neg(tf.mean(forward(this.critics[0], tf.concat([b.obs, a], 1), true))) as tf.Scalar;
      },
      params.map((p) => p.variable),
    );
    return { loss: value, grads: params.map((p) => grads[p.variable.name]) };
  }

  /** target <- polyak target + (1 - polyak) online, for the actor and both critics. */
  averageTargets(): void {
    const pairs: [Dense[], Dense[]][] = [
      [this.actorTarget, this.actor],
      [this.criticTargets[0], this.critics[0]],
      [this.criticTargets[1], this.critics[1]],
    ];
    tf.tidy(() => {
      for (const [target, online] of pairs) {
        target.forEach((t, i) => {
          for (const key of ['w', 'b'] as const) {
            const [tv, ov] = [t[key].variable, online[i][key].variable];
            tv.assign(tf.add(tf.mul(tv, this.polyak), tf.mul(ov, 1 - this.polyak)));
          }
        });
      }
    });
  }

  /** The critics' Adam step on a minibatch: their loss, and their gradient norm before clipping (NaN: no step). */
  async criticStep(
    b: BatchTensors,
    learningRate: number,
    clip: number | null,
  ): Promise<{ criticLoss: number; gradNorm: number }> {
    const critic = this.criticLoss(b);
    const criticLoss = (await critic.loss.data())[0];
    const gradNorm = Number.isFinite(criticLoss) ? await this.criticAdam.step(critic.grads, learningRate, clip) : NaN;
    tf.dispose([critic.loss, ...critic.grads]);
    return { criticLoss, gradNorm };
  }

  /**
   * One TD3 update on a minibatch: the critics' Adam step, then (on a delayed step) the actor's and the targets'.
   * Returns the critic loss, the actor loss (null when not updated) and the critics' gradient norm before clipping.
   */
  async update(
    batch: Transitions,
    noise: Float32Array,
    actorStep: boolean,
    learningRate: number,
    clip: number | null,
  ): Promise<{ criticLoss: number; actorLoss: number | null; gradNorm: number }> {
    const b = this.tensors(batch, noise);
    try {
      const { criticLoss, gradNorm } = await this.criticStep(b, learningRate, clip);
      if (!actorStep || !Number.isFinite(gradNorm)) return { criticLoss, actorLoss: null, gradNorm };
      const actor = this.actorLoss(b);
      const actorLoss = (await actor.loss.data())[0];
      if (Number.isFinite(actorLoss)) await this.actorAdam.step(actor.grads, learningRate, clip);
      tf.dispose([actor.loss, ...actor.grads]);
      this.averageTargets();
      return { criticLoss, actorLoss, gradNorm };
    } finally {
      tf.dispose(Object.values(b));
    }
  }

  /** Weights, targets and both optimisers' moments, as checkpoint tensors. */
  async save(): Promise<SavedVariable[]> {
    const named: [string, tf.Variable][] = [
      ...this.params().map((p): [string, tf.Variable] => [p.name, p.variable]),
      ...this.moments(),
    ];
    return Promise.all(
      named.map(async ([name, v]) => ({ name, shape: [...v.shape], values: (await v.data()) as Float32Array })),
    );
  }

  restore(tensors: readonly SavedVariable[]): void {
    const byName = new Map(tensors.map((t) => [t.name, t]));
    for (const [name, v] of [
      ...this.params().map((p): [string, tf.Variable] => [p.name, p.variable]),
      ...this.moments(),
    ]) {
      const saved = byName.get(name);
      if (!saved || saved.values.length !== v.size) throw new Error(`checkpoint lacks ${name} (shape ${v.shape})`);
      tf.tidy(() => v.assign(tf.tensor(saved.values, v.shape)));
    }
  }

  private moments(): [string, tf.Variable][] {
    const of = (label: string, adam: Adam, params: Param[]) =>
      params.flatMap((p, i): [string, tf.Variable][] => [
        [`adam.${label}.m.${p.name}`, adam.m[i]],
        [`adam.${label}.v.${p.name}`, adam.v[i]],
      ]);
    return [...of('actor', this.actorAdam, this.actorParams()), ...of('critic', this.criticAdam, this.criticParams())];
  }

  dispose(): void {
    this.actorAdam.dispose();
    this.criticAdam.dispose();
    for (const p of this.params()) p.variable.dispose();
  }
}

/** What TD3 keeps besides tensors to continue exactly. */
interface Td3State {
  envSteps: number;
  actorAdamT: number;
  criticAdamT: number;
  obs: number[];
  episodeReturn: number;
  lastActorLoss: number | null;
  replay: { size: number; next: number };
  env: unknown;
}

type Box = Extract<ActionSpace, { kind: 'box' }>;

class Td3 implements Algorithm {
  private readonly buffer: ReplayBuffer;
  private obs: Float32Array;
  private envSteps = 0;
  private episodeReturn = 0;
  private lastActorLoss: number | null = null;

  constructor(
    private readonly spec: RlSpec,
    private readonly algo: Td3Spec,
    private readonly env: VecEnv,
    private readonly box: Box,
    private readonly learner: Td3Learner,
    private readonly seed: number,
  ) {
    this.buffer = new ReplayBuffer(algo.bufferSize, env.observationSize, box.size);
    this.obs = env.reset().slice();
  }

  get paramCount(): number {
    return this.learner.paramCount;
  }

  readonly stateSize = 0;

  /** Scaled actions in [-1, 1] onto the environment's box. */
  private toEnv(scaled: Float32Array): Float32Array {
    const { low, high } = this.box;
    return scaled.map((a) => low + ((a + 1) * (high - low)) / 2);
  }

  /** The deterministic actor plus N(0, explorationNoise) per dimension, clipped to [-1, 1]. */
  private explore(scaled: Float32Array, rng: Rng): Float32Array {
    return scaled.map((a) => Math.min(1, Math.max(-1, a + rng.normal() * this.algo.explorationNoise)));
  }

  async step(step: number): Promise<StepReport> {
    const { algo, env } = this;
    const size = this.learner.shape.actionSize;
    // Every draw of env step k comes from (seed, k): a resumed run draws what the uninterrupted one would have.
    const rng = new Rng(seedFrom(this.seed, 'td3-step', this.envSteps));
    const scaled =
      this.envSteps < algo.randomSteps
        ? Float32Array.from({ length: size }, () => rng.next() * 2 - 1)
        : this.explore(this.learner.act(this.obs, 1), rng);
    const result = env.step(this.toEnv(scaled));
    const ended = result.terminated[0] === 1 || result.truncated[0] === 1;
    // A time-limit truncation is not a terminal state: stored as not done, its value bootstraps from finalObs.
    this.buffer.add(
      this.obs,
      scaled,
      result.rewards[0],
      ended ? result.finalObs : result.obs,
      result.terminated[0] === 1,
    );
    this.obs = result.obs.slice();
    this.envSteps += 1;
    this.episodeReturn += result.rewards[0];
    const metrics: StepReport['metrics'] = { env_steps: this.envSteps };
    if (ended) {
      metrics.train_return = this.episodeReturn;
      this.episodeReturn = 0;
    }
    if (this.envSteps <= algo.randomSteps) return { loss: 0, gradNorm: NaN, metrics, envSteps: 1 };

    const { training } = this.spec;
    const batch = this.buffer.sample(training.batchSize, rng);
    const noise = targetNoise(rng, batch.size * size, algo.targetNoise, algo.targetNoiseClip);
    const updates = this.envSteps - algo.randomSteps;
    const actorStep = updates % algo.policyDelay === 0;
    const lr = learningRateAt(step, training);
    const r = await this.learner.update(batch, noise, actorStep, lr, training.gradClip);
    if (r.actorLoss !== null) this.lastActorLoss = r.actorLoss;
    metrics.value_loss = r.criticLoss;
    if (this.lastActorLoss !== null) metrics.policy_loss = this.lastActorLoss;
    return { loss: r.criticLoss, gradNorm: r.gradNorm, metrics, envSteps: 1 };
  }

  policy(): Policy {
    return {
      begin: () => undefined,
      act: (input, rng, mode) => {
        const n = input.obs.length / this.env.observationSize;
        const scaled = this.learner.act(input.obs, n);
        return { actions: this.toEnv(mode === 'sample' ? this.explore(scaled, rng) : scaled), probs: null };
      },
    };
  }

  async save(): Promise<{ tensors: SavedVariable[]; extra: unknown }> {
    const replay = this.buffer.save('replay.');
    const extra: Td3State = {
      envSteps: this.envSteps,
      actorAdamT: this.learner.actorAdam.t,
      criticAdamT: this.learner.criticAdam.t,
      obs: Array.from(this.obs),
      episodeReturn: this.episodeReturn,
      lastActorLoss: this.lastActorLoss,
      replay: replay.state,
      env: this.env.save(),
    };
    return { tensors: [...(await this.learner.save()), ...replay.tensors], extra };
  }

  restore(saved: { tensors: readonly SavedVariable[]; extra: unknown }): void {
    const state = saved.extra as Td3State;
    this.learner.restore(saved.tensors);
    this.buffer.restore('replay.', saved.tensors, state.replay);
    this.learner.actorAdam.t = state.actorAdamT;
    this.learner.criticAdam.t = state.criticAdamT;
    this.envSteps = state.envSteps;
    this.obs = Float32Array.from(state.obs);
    this.episodeReturn = state.episodeReturn;
    this.lastActorLoss = state.lastActorLoss;
    this.env.restore(state.env);
  }

  dispose(): void {
    this.learner.dispose();
  }
}

export const td3: AlgorithmDef<'td3'> = {
  async create(spec, dataSeed) {
    const { model, task } = spec;
    if (model.kind !== 'mlp') {
      throw new Error(
        `TD3 trains an mlp actor and critics (model.kind 'mlp' sets their hidden sizes), not ${model.kind}`,
      );
    }
    const env = createVecEnv(task, dataSeed, 1);
    const box = env.action;
    if (box.kind !== 'box') throw new Error(`TD3 needs continuous actions; ${env.name} has ${box.n} discrete actions`);
    const algo = task.algorithm;
    const shape = { obsSize: env.observationSize, actionSize: box.size, hidden: model.hidden };
    const rng = new Rng(seedFrom(spec.seed, 'init'));
    const learner = new Td3Learner(shape, algo.discount, algo.polyak, rng, spec.training.adamEpsilon);
    return new Td3(spec, algo, env, box, learner, seedFrom(spec.seed, 'td3'));
  },
};
