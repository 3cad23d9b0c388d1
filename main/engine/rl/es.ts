// OpenAI-ES (Salimans et al. 2017) over the weights the policy acts with (./blackBox.ts: SymLA's, a feed-forward
// policy's actor, a recurrent policy's whole network; the log std of a Gaussian one). A training step is one
// generation: floor(population / 2) noise vectors eps, each tried as theta + sigma eps and theta - sigma eps
// (antithetic pairs), every member on the step's common trials (blackBox.ts; on `threads` threads of the worker,
// RunOptions.candidates, with the same results). Fitnesses become centred ranks in [-0.5, 0.5]; the gradient
// estimate sum_j (rank+_j - rank-_j) eps_j / (population sigma) is ascended by Adam (the spec's learning rate,
// schedule and clipping).
import * as tf from '@tensorflow/tfjs';
import type { Param } from '../models/index.js';
import { Adam, learningRateAt } from '../optimizer.js';
import { Rng, seedFrom } from '../rng.js';
import {
  type BlackBoxNet,
  type CandidateEvaluator,
  createBlackBoxNet,
  evaluateCandidates,
  fitnessStats,
  netShape,
  readWeights,
} from './blackBox.js';
import { TrialSource } from './collect.js';
import type { Algorithm, AlgorithmDef, Policy, RlSpec, SavedVariable, StepReport } from './types.js';
import { checkpointVariables, restoreVariables, saveVariables } from './variables.js';

type EsSpec = RlSpec & { task: { algorithm: { kind: 'es' } } };

interface Saved {
  adamT: number;
  envSteps: number;
  trialsStarted: number;
}

/** Centred ranks: the lowest fitness -0.5, the highest 0.5, evenly spaced (ties in order of appearance). */
export function centredRanks(fitness: readonly number[]): Float64Array {
  const order = fitness.map((_, i) => i).sort((a, b) => fitness[a] - fitness[b]);
  const ranks = new Float64Array(fitness.length);
  const last = Math.max(1, fitness.length - 1);
  for (const [r, i] of order.entries()) ranks[i] = r / last - 0.5;
  return ranks;
}

/**
 * The ascent direction sum_p (score+_p - score-_p) eps_p / (2 pairs sigma) of antithetic pairs (member 2p tried
 * theta + sigma eps_p, member 2p + 1 theta - sigma eps_p), per parameter tensor. With raw fitness as scores its
 * expectation is the gradient of the Gaussian-smoothed fitness; with centred ranks it is that direction, shaped.
 */
export function esGradient(
  scores: ArrayLike<number>,
  noise: readonly (readonly Float32Array[])[],
  sigma: number,
): Float32Array[] {
  const pairs = noise.length;
  return noise[0].map((_, j) => {
    const g = new Float32Array(noise[0][j].length);
    for (let p = 0; p < pairs; p++) {
      const w = (scores[2 * p] - scores[2 * p + 1]) / (2 * pairs * sigma);
      const e = noise[p][j];
      for (let i = 0; i < g.length; i++) g[i] += w * e[i];
    }
    return g;
  });
}

class EsLearner implements Algorithm {
  private readonly params: Param[];
  private readonly adam: Adam;
  private readonly acting: BlackBoxNet['acting'];
  private readonly trials: TrialSource;
  private envSteps = 0;

  constructor(
    private readonly spec: EsSpec,
    private readonly net: BlackBoxNet,
    private readonly dataSeed: number,
    private readonly candidates: CandidateEvaluator | null,
  ) {
    this.params = net.params;
    this.adam = new Adam(this.params, spec.training.adamEpsilon);
    this.acting = net.acting;
    this.trials = new TrialSource(dataSeed, spec.task.numTasks);
  }

  get paramCount(): number {
    return this.params.reduce((n, p) => n + p.variable.size, 0);
  }

  get stateSize(): number {
    return this.net.stateSize;
  }

  policy(): Policy {
    return this.acting;
  }

  refresh(): Promise<void> {
    return this.acting.refresh();
  }

  async step(step: number): Promise<StepReport> {
    const { spec } = this;
    const { population, sigma } = spec.task.algorithm;
    const pairs = Math.max(1, Math.floor(population / 2));
    const theta = await readWeights(this.params);
    const noiseRng = new Rng(seedFrom(spec.seed, 'es-noise', step));
    const noise = Array.from({ length: pairs }, () =>
      theta.map((t) => noiseRng.fillNormal(new Float32Array(t.length))),
    );
    const members = Array.from({ length: 2 * pairs }, (_, m) => {
      const sign = m % 2 === 0 ? 1 : -1;
      const eps = noise[m >> 1];
      return theta.map((t, j) => t.map((v, i) => v + sign * sigma * eps[j][i]));
    });
    const started = this.trials.started;
    this.trials.started += spec.training.batchSize;
    const { fitness, envSteps, returnSum } = this.candidates
      ? await this.candidates.evaluate(step, started, members)
      : evaluateCandidates(spec, this.net, this.dataSeed, started, step, members);
    // Adam descends: the negative of the ascent direction.
    const grads = esGradient(centredRanks(fitness), noise, sigma).map((g, j) =>
      tf.tensor(
        g.map((v) => -v),
        this.params[j].variable.shape,
      ),
    );
    const gradNorm = await this.adam.step(grads, learningRateAt(step, spec.training), spec.training.gradClip);
    tf.dispose(grads);
    await this.acting.refresh();
    this.envSteps += envSteps;
    const { best, mean, spread } = fitnessStats(fitness);
    return {
      loss: -mean,
      gradNorm,
      metrics: {
        train_return: returnSum / (members.length * spec.training.batchSize * spec.task.episodesPerTrial),
        env_steps: this.envSteps,
        fitness_best: best,
        fitness_mean: mean,
        fitness_spread: spread,
      },
      envSteps,
    };
  }

  async save(): Promise<{ tensors: SavedVariable[]; extra: Saved }> {
    return {
      tensors: await saveVariables(checkpointVariables(this.params, this.adam)),
      extra: { adamT: this.adam.t, envSteps: this.envSteps, trialsStarted: this.trials.started },
    };
  }

  restore(saved: { tensors: readonly SavedVariable[]; extra: unknown }): void {
    restoreVariables(checkpointVariables(this.params, this.adam), saved.tensors);
    const extra = saved.extra as Saved;
    this.adam.t = extra.adamT;
    this.envSteps = extra.envSteps;
    this.trials.started = extra.trialsStarted;
    this.acting.refreshNow();
  }

  dispose(): void {
    this.adam.dispose();
    for (const p of this.net.variables) p.variable.dispose();
  }
}

export const es: AlgorithmDef<'es'> = {
  async create(spec, dataSeed, options = {}) {
    const net = createBlackBoxNet(spec, netShape(spec, dataSeed), new Rng(seedFrom(spec.seed, 'init')));
    const learner = new EsLearner(spec, net, dataSeed, options.candidates ?? null);
    await learner.refresh();
    return learner;
  },
};
