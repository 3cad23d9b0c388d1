// What the black-box learners share (ES, ./es.ts; FME and its baselines, ./search.ts): a network whose weights they
// set directly, without gradients, and a step's trials, which every candidate weight vector meets alike: the same
// instances (new ones each step, from the pool or fresh), initial states, payouts and action draws (common random
// numbers, so fitness differences come from the weights). Discrete actions are sampled (as in evaluation),
// Gaussian policies act with their mean. A candidate's fitness is its mean trial return (the sum over a lifetime's
// episodes) over `training.batchSize` trials.
import { createVecEnv } from '../envs/index.js';
import type { VecEnv } from '../envs/types.js';
import type { Param } from '../models/index.js';
import { Rng, seedFrom } from '../rng.js';
import { TrialSource } from './collect.js';
import { runLifetimes } from './evaluate.js';
import { createPolicyNet, type NetShape } from './networks.js';
import { NetPolicy } from './policy.js';
import { createSymlaParams, SymlaPolicy } from './symla.js';
import type { Policy, RlSpec } from './types.js';

/** The weights a black-box learner sets, and a policy that acts with any values of them. */
export interface BlackBoxNet {
  params: Param[];
  /** Every variable the net holds (disposed with the learner; a feed-forward policy's critic is not trained). */
  variables: readonly Param[];
  acting: Policy & {
    load(valuesOf: (v: Param['variable']) => Float32Array): void;
    refresh(): Promise<void>;
    refreshNow(): void;
  };
  stateSize: number;
}

/** The policy's sizes for the run's task (of several environments, the padded ones). */
export function netShape(spec: RlSpec, dataSeed: number): NetShape {
  const env = createVecEnv(spec.task, dataSeed, 1);
  return { observationSize: env.observationSize, action: env.action, lifetime: spec.task.episodesPerTrial };
}

/** A SymLA network (./symla.ts), or a policy network's actor (a recurrent one's whole network), from `rng`. */
export function createBlackBoxNet(spec: RlSpec, shape: NetShape, rng: Rng): BlackBoxNet {
  const { model } = spec;
  if (model.kind === 'symla') {
    const params = createSymlaParams(model, rng);
    return { params, variables: params, acting: new SymlaPolicy(model, params), stateSize: model.stateSize };
  }
  const net = createPolicyNet(model, shape, rng);
  return {
    params: net.params.filter((p) => !p.name.startsWith('value/')),
    variables: net.params,
    acting: new NetPolicy(net),
    stateSize: net.stateSize,
  };
}

/** Weight values, one array per parameter of a BlackBoxNet. */
export type Weights = Float32Array[];

/** The current values of `params`. */
export const readWeights = (params: readonly Param[]): Promise<Weights> =>
  Promise.all(params.map((p) => p.variable.data() as Promise<Float32Array>));

/** One step's trials (see the top); `fitness` runs a candidate on them. */
export class StepTrials {
  private readonly env: VecEnv;
  private readonly start: unknown;
  /** Summed over the candidates run so far: trial returns, environment steps. */
  returnSum = 0;
  envSteps = 0;
  candidates = 0;

  constructor(
    private readonly spec: RlSpec,
    private readonly net: BlackBoxNet,
    dataSeed: number,
    trials: TrialSource,
    private readonly step: number,
  ) {
    const n = spec.training.batchSize;
    // Fresh slot generators (firstSlot) and instances each step.
    this.env = createVecEnv(spec.task, dataSeed, n, { firstSlot: step * n });
    this.env.reset();
    for (let i = 0; i < n; i++) trials.next(this.env, i);
    this.start = this.env.save();
  }

  /** The mean trial return of `weights` on this step's trials. */
  fitness(weights: Weights): number {
    const { env, net, spec } = this;
    const byVariable = new Map(net.params.map((p, j) => [p.variable, weights[j]]));
    net.acting.load((v) => byVariable.get(v)!);
    env.restore(this.start);
    const mode = env.action.kind === 'discrete' ? 'sample' : 'greedy';
    const actRng = new Rng(seedFrom(spec.seed, 'es-act', this.step));
    const { returns, steps } = runLifetimes(env, net.acting, spec.task.episodesPerTrial, actRng, mode, false);
    const total = returns.reduce((a, b) => a + b, 0);
    this.returnSum += total;
    this.envSteps += steps;
    this.candidates += 1;
    return total / env.n;
  }

  /** The mean return of an episode over every candidate's trials (the step's training return). */
  get meanEpisodeReturn(): number {
    return this.returnSum / (this.candidates * this.env.n * this.spec.task.episodesPerTrial);
  }
}

/** Best, mean and standard deviation of some fitnesses. */
export function fitnessStats(fitness: readonly number[]): { best: number; mean: number; spread: number } {
  const mean = fitness.reduce((a, b) => a + b, 0) / fitness.length;
  const spread = Math.sqrt(fitness.reduce((a, f) => a + (f - mean) ** 2, 0) / fitness.length);
  return { best: Math.max(...fitness), mean, spread };
}

/** What evaluating some candidates on a step's trials gives. */
export interface CandidateResults {
  fitness: number[];
  envSteps: number;
  returnSum: number;
}

/**
 * Runs candidates on the trials of `step` that begin after `trialsStarted` trials of the run: the same fitnesses in
 * any process or thread (the trials depend on the spec, the data seed, the step and that count only).
 */
export function evaluateCandidates(
  spec: RlSpec,
  net: BlackBoxNet,
  dataSeed: number,
  trialsStarted: number,
  step: number,
  candidates: readonly Weights[],
): CandidateResults {
  const source = new TrialSource(dataSeed, spec.task.numTasks);
  source.started = trialsStarted;
  const trials = new StepTrials(spec, net, dataSeed, source, step);
  const fitness = candidates.map((w) => trials.fitness(w));
  return { fitness, envSteps: trials.envSteps, returnSum: trials.returnSum };
}

/**
 * Evaluates a step's candidates elsewhere, e.g. on threads of the worker process (main/worker/candidates.ts),
 * returning what `evaluateCandidates` would, in the candidates' order.
 */
export interface CandidateEvaluator {
  evaluate(step: number, trialsStarted: number, candidates: readonly Weights[]): Promise<CandidateResults>;
  close(): Promise<void>;
}
