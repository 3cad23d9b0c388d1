// The contract between the RL run loop (./run.ts) and the algorithms that train a policy (PPO, A2C,
// REINFORCE, ES in ./onPolicy.ts and ./es.ts, TD3 in ./td3.ts, MetaGenRL and its meta-test in ./metagenrl/).
import type { EvalCurve } from '../../../shared/api.js';
import type { RL_STEP_METRICS } from '../../../shared/objectives/rl.js';
import type { Rollout } from '../../../shared/rollout.js';
import { isRlTask, type RlTaskSpec, type RunSpec } from '../../../shared/spec.js';
import type { BatchShape } from '../envs/types.js';
import type { CandidateEvaluator } from './blackBox.js';
import type { Rng } from '../rng.js';
import type { LearnedObjectiveWeights, ObjectiveProgress } from '../train.js';

export type RlSpec = RunSpec & { task: RlTaskSpec };
export const isRlSpec = (spec: RunSpec): spec is RlSpec => isRlTask(spec.task);
export type RlStepMetric = (typeof RL_STEP_METRICS)[keyof typeof RL_STEP_METRICS]['key'];

/** What one training step of an algorithm reports. */
export interface StepReport {
  /** The loss it minimised (NaN-free; a non-finite loss ends the run as diverged). */
  loss: number;
  /** Global gradient norm before clipping (NaN where the step made no gradient update, e.g. while filling a buffer). */
  gradNorm: number;
  /** Step metrics that apply (shared/objectives/rl.ts), e.g. train_return, env_steps, entropy. */
  metrics: Partial<Record<RlStepMetric, number>>;
  /** Environment steps this training step took (for examples/s). */
  envSteps: number;
  /** Metrics keyed outside RL_STEP_METRICS, e.g. a population's per-agent returns (agentReturnKey). */
  extraMetrics?: Record<string, number>;
}

/**
 * The policy as it is now, acting on n lifetimes at once; memory (a recurrent policy's state) is kept across
 * episodes until `begin` starts new lifetimes. Inputs per step are those RL² gives: the observation, the previous
 * action and reward, and whether the previous step ended an episode (1 at a trial's first step).
 */
export interface Policy {
  /**
   * New lifetimes on n slots; `batch` tells a policy that adapts to each environment's sizes (SymLA), or masks the
   * actions a padded batch's environment lacks (every policy that acts on such a batch), what each slot has.
   */
  begin(n: number, batch?: BatchShape): void;
  act(
    input: { obs: Float32Array; prevActions: Float32Array; prevRewards: Float32Array; dones: Uint8Array },
    rng: Rng,
    mode: 'sample' | 'greedy',
  ): { actions: Float32Array; probs: Float32Array | null };
}

/** A tensor saved in checkpoints: weights, optimiser moments, a replay buffer's columns. */
export interface SavedVariable {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface Algorithm {
  /** One training step: for on-policy learners a rollout and its update; for TD3 one env step and update. */
  step(step: number): Promise<StepReport>;
  policy(): Policy;
  readonly paramCount: number;
  readonly stateSize: number;
  /** Everything to continue exactly: tensors (weights, moments, buffers) and JSON (env states, RNG, counters). */
  save(): Promise<{ tensors: SavedVariable[]; extra: unknown }>;
  restore(saved: { tensors: readonly SavedVariable[]; extra: unknown }): void;
  /** What an evaluation records besides the policy's returns (MetaGenRL: the objective's picture, every agent). */
  evaluateMore?(step: number): Promise<{ curves: EvalCurve[]; rollouts: Omit<Rollout, 'runId'>[] }>;
  /** The learned objective a meta-training run makes, as it stands (saved at each evaluation and at the end). */
  artifact?(finished: boolean): Promise<LearnedObjectiveWeights & { progress: ObjectiveProgress }>;
  dispose(): void;
}

/** What a run gives an algorithm besides its spec. */
export interface AlgorithmOptions {
  /** A `learned-objective` run's stored objective (RunOptions.objective). */
  objective?: LearnedObjectiveWeights;
  /** ES: where a generation's members are evaluated, when not one after the other here (RunOptions.candidates). */
  candidates?: CandidateEvaluator;
}

/** An algorithm's kind, its spec, and how it is created for a run. */
export interface AlgorithmDef<K extends RlSpec['task']['algorithm']['kind']> {
  create(
    spec: RlSpec & { task: { algorithm: { kind: K } } },
    dataSeed: number,
    options?: AlgorithmOptions,
  ): Promise<Algorithm>;
}
