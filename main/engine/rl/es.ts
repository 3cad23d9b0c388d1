// OpenAI-ES (Salimans et al. 2017) over the weights the policy acts with (a feed-forward policy's actor, a
// recurrent policy's whole network; the log std of a Gaussian one). A training step is one generation:
// floor(population / 2) noise vectors eps, each tried as theta + sigma eps and theta - sigma eps (antithetic
// pairs); a member's fitness is its mean trial return over `training.batchSize` trials. Every member meets the
// same trials: the same instances (new ones each generation, from the pool or fresh), initial states, payouts and
// action draws (common random numbers, so fitness differences come from the weights). Fitnesses become centred
// ranks in [-0.5, 0.5]; the gradient estimate sum_j (rank+_j - rank-_j) eps_j / (population sigma) is ascended by
// Adam (the spec's learning rate, schedule and clipping). Discrete actions are sampled (as in evaluation), Gaussian
// policies act with their mean.
import * as tf from '@tensorflow/tfjs';
import { createVecEnv } from '../envs/index.js';
import type { Param } from '../models/index.js';
import { Adam, learningRateAt } from '../optimizer.js';
import { Rng, seedFrom } from '../rng.js';
import { TrialSource } from './collect.js';
import { runLifetimes } from './evaluate.js';
import { createPolicyNet, type PolicyNet } from './networks.js';
import { NetPolicy } from './policy.js';
import type { Algorithm, AlgorithmDef, RlSpec, SavedVariable, StepReport } from './types.js';
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

class EsLearner implements Algorithm {
  private readonly params: Param[];
  private readonly adam: Adam;
  private readonly acting: NetPolicy;
  private readonly trials: TrialSource;
  private envSteps = 0;

  constructor(
    private readonly spec: EsSpec,
    private readonly net: PolicyNet,
    private readonly dataSeed: number,
  ) {
    this.params = net.params.filter((p) => !p.name.startsWith('value/'));
    this.adam = new Adam(this.params, spec.training.adamEpsilon);
    this.acting = new NetPolicy(net);
    this.trials = new TrialSource(dataSeed, spec.task.numTasks);
  }

  get paramCount(): number {
    return this.params.reduce((n, p) => n + p.variable.size, 0);
  }

  get stateSize(): number {
    return this.net.stateSize;
  }

  policy(): NetPolicy {
    return this.acting;
  }

  async step(step: number): Promise<StepReport> {
    const { spec } = this;
    const { population, sigma } = spec.task.algorithm;
    const n = spec.training.batchSize;
    const K = spec.task.episodesPerTrial;
    const pairs = Math.max(1, Math.floor(population / 2));
    const theta = await Promise.all(this.params.map((p) => p.variable.data() as Promise<Float32Array>));
    const noiseRng = new Rng(seedFrom(spec.seed, 'es-noise', step));
    const noise = Array.from({ length: pairs }, () =>
      theta.map((t) => noiseRng.fillNormal(new Float32Array(t.length))),
    );
    // This generation's trials: fresh slot generators (firstSlot) and instances, the same for every member.
    const env = createVecEnv(spec.task, this.dataSeed, n, { firstSlot: step * n });
    env.reset();
    for (let i = 0; i < n; i++) this.trials.next(env, i);
    const start = env.save();
    const mode = env.action.kind === 'discrete' ? 'sample' : 'greedy';
    const fitness: number[] = [];
    let returnSum = 0;
    let envSteps = 0;
    for (let m = 0; m < 2 * pairs; m++) {
      const sign = m % 2 === 0 ? 1 : -1;
      const eps = noise[m >> 1];
      const member = theta.map((t, j) => t.map((v, i) => v + sign * sigma * eps[j][i]));
      const byVariable = new Map(this.params.map((p, j) => [p.variable, member[j]]));
      this.acting.load((v) => byVariable.get(v)!);
      env.restore(start);
      const actRng = new Rng(seedFrom(spec.seed, 'es-act', step));
      const { returns, steps } = runLifetimes(env, this.acting, K, actRng, mode, false);
      const total = returns.reduce((a, b) => a + b, 0);
      fitness.push(total / n);
      returnSum += total;
      envSteps += steps;
    }
    const ranks = centredRanks(fitness);
    const grads = theta.map((t, j) => {
      const g = new Float32Array(t.length);
      for (let p = 0; p < pairs; p++) {
        const w = (ranks[2 * p] - ranks[2 * p + 1]) / (2 * pairs * sigma);
        const e = noise[p][j];
        for (let i = 0; i < g.length; i++) g[i] -= w * e[i]; // Adam descends: the negative of the ascent direction
      }
      return tf.tensor(g, this.params[j].variable.shape);
    });
    const gradNorm = await this.adam.step(grads, learningRateAt(step, spec.training), spec.training.gradClip);
    tf.dispose(grads);
    await this.acting.refresh();
    this.envSteps += envSteps;
    const meanFitness = fitness.reduce((a, b) => a + b, 0) / fitness.length;
    return {
      loss: -meanFitness,
      gradNorm,
      metrics: { train_return: returnSum / (2 * pairs * n * K), env_steps: this.envSteps },
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
    for (const p of this.net.params) p.variable.dispose();
  }
}

export const es: AlgorithmDef<'es'> = {
  async create(spec, dataSeed) {
    const env = createVecEnv(spec.task, dataSeed, 1);
    const shape = { observationSize: env.observationSize, action: env.action, lifetime: spec.task.episodesPerTrial };
    const learner = new EsLearner(
      spec,
      createPolicyNet(spec.model, shape, new Rng(seedFrom(spec.seed, 'init'))),
      dataSeed,
    );
    await learner.policy().refresh();
    return learner;
  },
};
