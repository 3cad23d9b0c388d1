// A recorded lifetime of a policy: what the rollout viewer plays. Recorded at each evaluation of an RL run,
// one trial per split, from the policy as it was at that step.
import type { EnvName } from './spec.js';

/*
 * The physical state the viewer draws (Rollout.states), per environment (before any permutation or projection of
 * the agent's observation):
 * - CartPole-v1, CartPoleContinuous: [x, x_dot, theta, theta_dot]
 * - Acrobot-v1: [theta1, theta2, dtheta1, dtheta2]
 * - MountainCar-v0, MountainCarContinuous-v0: [position, velocity]
 * - Pendulum-v1: [theta, theta_dot] (theta 0 upright)
 * - point-mass: [px, py, gx, gy], the mass's and the goal's positions in the unit square (y up)
 * - bernoulli-bandit, dependent-bandit, swapping-bandit: [p_1, ..., p_K], each arm's probability of paying 1 (now)
 * - gridworld: [agentRow, agentCol, goalRow, goalCol, then size * size cells row-major: 1 wall, 0 free; with two
 *   objects then otherRow, otherCol]
 */
export interface Rollout {
  runId: number;
  /** Training step of the policy that acted. */
  step: number;
  split: string;
  env: EnvName;
  /** The instance's physical constants by Gymnasium's names (length, masspole, g, ...): the viewer's scale. */
  params: Record<string, number>;
  /** Numbers per frame in `states`. */
  stateSize: number;
  /** Discrete actions: their count; continuous: 0. */
  actionCount: number;
  /** Frame t is the state the agent saw before its t-th action; frames are the steps of every episode in order. */
  frames: number;
  /** [frames * stateSize] render states. */
  states: number[];
  /** [frames * actionSize]: the action taken (an index, or the continuous values the env received). */
  actions: number[];
  rewards: number[];
  /** Index of the episode (0-based, within the lifetime) each frame belongs to. */
  episodes: number[];
  /** Discrete actions: [frames * actionCount] probabilities the policy gave each; empty otherwise. */
  probs: number[];
}

/** The rollouts a run has: one per evaluation step and split. */
export interface RolloutRef {
  step: number;
  split: string;
  frames: number;
}
