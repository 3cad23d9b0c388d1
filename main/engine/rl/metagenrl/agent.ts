// A TD3 agent whose actor learns from a learned objective: one member of MetaGenRL's population, or the meta-test's
// agent. Its networks, targets and Adams are TD3's (Td3Learner), and so are its exploration, its random first steps
// and its critics' update; its replay keeps transitions in order (./trajectoryReplay.ts) so that the objective can
// read sub-trajectories, and its critics learn from their valid steps only. Its actor minimises
// blend * L_alpha + (1 - blend) * TD3's -Q (./metaGradient.ts), every `policyDelay` updates, then the targets move.
import * as tf from '@tensorflow/tfjs';
import type { RlAlgorithm, RunSpec } from '../../../../shared/spec.js';
import type { ActionSpace, VecEnv } from '../../envs/types.js';
import type { Rng } from '../../rng.js';
import { Td3Learner, targetNoise } from '../td3.js';
import type { Policy, SavedVariable } from '../types.js';
import { type AgentNets, objectivePolicyLoss } from './metaGradient.js';
import type { LearnedObjective, SubTrajectories } from './objective.js';
import { TrajectoryReplay, validTransitions } from './trajectoryReplay.js';

/** The agent's settings: TD3's, and the sub-trajectories' length (shared by `metagenrl` and `learned-objective`). */
export type AgentSpec = Pick<
  Extract<RlAlgorithm, { kind: 'metagenrl' }>,
  | 'discount'
  | 'bufferSize'
  | 'randomSteps'
  | 'polyak'
  | 'explorationNoise'
  | 'targetNoise'
  | 'targetNoiseClip'
  | 'policyDelay'
  | 'trajectoryLength'
  | 'actionPenalty'
>;

type Box = Extract<ActionSpace, { kind: 'box' }>;

/** What the agent keeps besides tensors to continue exactly. */
export interface AgentState {
  steps: number;
  episodeReturn: number;
  obs: number[];
  actorAdamT: number;
  criticAdamT: number;
  replay: { size: number; next: number };
  env: unknown;
}

/** The environment's continuous actions, or a sentence saying why a TD3 agent cannot act in it. */
function boxOf(env: VecEnv): Box {
  const { action } = env;
  if (action.kind !== 'box') {
    throw new Error(`a TD3 agent needs continuous actions; ${env.name} has ${action.n} discrete ones`);
  }
  return action;
}

/** Refuses a model a TD3 agent cannot be, saying why; the hidden sizes of its actor and critics otherwise. */
export function agentHidden(spec: Pick<RunSpec, 'model'>, who: string): readonly number[] {
  const { model } = spec;
  if (model.kind !== 'mlp') {
    throw new Error(
      `${who} trains mlp actors and critics (model.kind 'mlp' sets their hidden sizes), not ${model.kind}`,
    );
  }
  if (model.activation !== 'relu') throw new Error(`${who}'s actors and critics use ReLU (activation 'relu')`);
  return model.hidden;
}

export class ObjectiveAgent {
  readonly learner: Td3Learner;
  readonly replay: TrajectoryReplay;
  private readonly box: Box;
  private obs: Float32Array;
  /** Environment steps since the agent was made. */
  steps = 0;
  private episodeReturn = 0;

  constructor(
    private readonly algo: AgentSpec,
    private readonly training: RunSpec['training'],
    hidden: readonly number[],
    readonly env: VecEnv,
    init: Rng,
  ) {
    this.box = boxOf(env);
    const shape = { obsSize: env.observationSize, actionSize: this.box.size, hidden };
    this.learner = new Td3Learner(shape, algo.discount, algo.polyak, init, training.adamEpsilon);
    this.replay = new TrajectoryReplay(algo.bufferSize, env.observationSize, this.box.size);
    this.obs = env.reset().slice();
  }

  get nets(): AgentNets {
    return { actor: this.learner.actor, critic: this.learner.critics[0] };
  }

  get paramCount(): number {
    return this.learner.paramCount;
  }

  /** Past its random steps: it updates at every step. */
  get learning(): boolean {
    return this.steps > this.algo.randomSteps;
  }

  /** Whether this step's update includes the actor's (every `policyDelay` updates, as TD3). */
  get actorStep(): boolean {
    return (this.steps - this.algo.randomSteps) % this.algo.policyDelay === 0;
  }

  /** Scaled actions in [-1, 1] onto the environment's box. */
  private toEnv(scaled: Float32Array): Float32Array {
    const { low, high } = this.box;
    return scaled.map((a) => low + ((a + 1) * (high - low)) / 2);
  }

  /** The deterministic actor plus N(0, explorationNoise) per dimension, clipped to [-1, 1]. */
  private explore(scaled: Float32Array, rng: Rng): Float32Array {
    return scaled.map((a) => Math.min(1, Math.max(-1, a + rng.normal() * this.algo.explorationNoise)));
  }

  /**
   * One environment step (uniformly random actions for the first `randomSteps`, then the actor with exploration
   * noise), stored in the replay; returns the return of the episode that ended, or null.
   */
  envStep(rng: Rng): number | null {
    const size = this.box.size;
    const scaled =
      this.steps < this.algo.randomSteps
        ? Float32Array.from({ length: size }, () => rng.next() * 2 - 1)
        : this.explore(this.learner.act(this.obs, 1), rng);
    const result = this.env.step(this.toEnv(scaled));
    const terminated = result.terminated[0] === 1;
    const ended = terminated || result.truncated[0] === 1;
    // A time-limit truncation is not a terminal state: stored as not done, its value bootstraps from finalObs.
    this.replay.add(this.obs, scaled, result.rewards[0], ended ? result.finalObs : result.obs, terminated, ended);
    this.obs = result.obs.slice();
    this.steps += 1;
    this.episodeReturn += result.rewards[0];
    if (!ended) return null;
    const episodeReturn = this.episodeReturn;
    this.episodeReturn = 0;
    return episodeReturn;
  }

  /** A minibatch of `training.batchSize` sub-trajectories of `trajectoryLength` steps. */
  sample(rng: Rng): SubTrajectories {
    return this.replay.sample(this.training.batchSize, this.algo.trajectoryLength, rng);
  }

  /** The critics' TD3 update on the minibatch's valid steps (target noise from `rng`). */
  async criticUpdate(x: SubTrajectories, rng: Rng, learningRate: number): Promise<{ loss: number; gradNorm: number }> {
    const { algo } = this;
    const batch = validTransitions(x);
    const noise = targetNoise(rng, batch.size * this.box.size, algo.targetNoise, algo.targetNoiseClip);
    const b = this.learner.tensors(batch, noise);
    try {
      const { criticLoss, gradNorm } = await this.learner.criticStep(b, learningRate, this.training.gradClip);
      return { loss: criticLoss, gradNorm };
    } finally {
      tf.dispose(Object.values(b));
    }
  }

  /**
   * The actor's Adam step on blend * L_alpha + (1 - blend) * TD3's loss over the minibatch, then the targets' Polyak
   * averaging. Returns the actor's loss and the saturation of its actions.
   */
  async actorUpdate(
    x: SubTrajectories,
    objective: LearnedObjective,
    blend: number,
    learningRate: number,
  ): Promise<{ loss: number; saturation: number }> {
    const r = objectivePolicyLoss(this.nets, objective, x, blend, this.algo.actionPenalty);
    const loss = (await r.loss.data())[0];
    if (Number.isFinite(loss)) await this.learner.actorAdam.step(r.grads, learningRate, this.training.gradClip);
    tf.dispose([r.loss, ...r.grads]);
    this.learner.averageTargets();
    return { loss, saturation: r.saturation };
  }

  /** The deterministic actor (greedy) or with its exploration noise (sample), in the environment's units. */
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

  /** Networks, targets, Adam moments and replay as tensors named `<prefix>...`; counters and env state as JSON. */
  async save(prefix: string): Promise<{ tensors: SavedVariable[]; state: AgentState }> {
    const replay = this.replay.save(`${prefix}replay.`);
    const learner = (await this.learner.save()).map((t) => ({ ...t, name: prefix + t.name }));
    const state: AgentState = {
      steps: this.steps,
      episodeReturn: this.episodeReturn,
      obs: Array.from(this.obs),
      actorAdamT: this.learner.actorAdam.t,
      criticAdamT: this.learner.criticAdam.t,
      replay: replay.state,
      env: this.env.save(),
    };
    return { tensors: [...learner, ...replay.tensors], state };
  }

  restore(prefix: string, tensors: readonly SavedVariable[], state: AgentState): void {
    const own = tensors.filter((t) => t.name.startsWith(prefix));
    this.learner.restore(own.map((t) => ({ ...t, name: t.name.slice(prefix.length) })));
    this.replay.restore(`${prefix}replay.`, own, state.replay);
    this.learner.actorAdam.t = state.actorAdamT;
    this.learner.criticAdam.t = state.criticAdamT;
    this.steps = state.steps;
    this.episodeReturn = state.episodeReturn;
    this.obs = Float32Array.from(state.obs);
    this.env.restore(state.env);
  }

  dispose(): void {
    this.learner.dispose();
  }
}
