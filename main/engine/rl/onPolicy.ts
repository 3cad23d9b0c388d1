// The on-policy learners: PPO (Schulman et al. 2017), A2C (Mnih et al. 2016, synchronous) and REINFORCE with a
// value baseline (Williams 1992), for feed-forward policies and for recurrent ones (RL², Duan et al. 2016).
// A training step is one rollout and its update:
// - feed-forward PPO and A2C: `training.batchSize` environments each run `rolloutSteps` steps, carrying on across
//   updates and episode boundaries (truncated episodes bootstrap from their final observation);
// - REINFORCE, and every learner of a recurrent policy: `training.batchSize` whole trials (a new instance each, from
//   the pool or fresh), run until each has completed `episodesPerTrial` episodes, padded to the longest and masked.
//   A recurrent policy's trial is one stream for GAE: the discount runs through its episode boundaries, and the
//   update re-runs the LSTM over the stored inputs of the whole trial (backpropagation through the lifetime).
// Then GAE, and: PPO `epochs` passes over `minibatches` shuffled minibatches (of steps; of trials when recurrent),
// advantages normalised per minibatch; A2C one gradient step on the whole rollout; REINFORCE one gradient step with
// Monte Carlo returns (GAE lambda 1) against the value baseline. Adam as in supervised runs (learning-rate
// schedule, warm-up, global-norm clipping `training.gradClip`, `training.adamEpsilon`).
// Every random draw of step k (actions, minibatch order) comes from generators seeded by (seed, k), and the
// environments' states are saved with the weights: a resumed run continues exactly.
import { createVecEnv } from '../envs/index.js';
import type { VecEnv } from '../envs/types.js';
import { Adam, learningRateAt } from '../optimizer.js';
import { Rng, seedFrom } from '../rng.js';
import { collectTrials, type Experience, SegmentCollector, TrialSource } from './collect.js';
import { gae } from './gae.js';
import type { LossSettings } from './loss.js';
import { gather, gradientStep } from './minibatch.js';
import { createPolicyNet, type PolicyNet } from './networks.js';
import { NetPolicy } from './policy.js';
import type { Algorithm, AlgorithmDef, RlSpec, RlStepMetric, SavedVariable, StepReport } from './types.js';
import { checkpointVariables, restoreVariables, saveVariables } from './variables.js';

type OnPolicyKind = 'ppo' | 'a2c' | 'reinforce';
type OnPolicySpec = RlSpec & { task: { algorithm: { kind: OnPolicyKind } } };

interface Settings {
  /** Steps per environment per update; null: whole trials. */
  rolloutSteps: number | null;
  epochs: number;
  minibatches: number;
  discount: number;
  lambda: number;
  loss: Omit<LossSettings, 'action'>;
}

function settingsOf(spec: OnPolicySpec, recurrent: boolean): Settings {
  const a = spec.task.algorithm;
  const common = { discount: a.discount, entropyCoef: a.entropy, valueCoef: a.valueCoef };
  const loss = (clip: number | null, normalizeAdvantages: boolean) => ({
    clip,
    normalizeAdvantages,
    valueCoef: common.valueCoef,
    entropyCoef: common.entropyCoef,
  });
  switch (a.kind) {
    case 'ppo':
      return {
        rolloutSteps: recurrent ? null : a.rolloutSteps,
        epochs: a.epochs,
        minibatches: a.minibatches,
        discount: a.discount,
        lambda: a.gaeLambda,
        loss: loss(a.clip, true),
      };
    case 'a2c':
      return {
        rolloutSteps: recurrent ? null : a.rolloutSteps,
        epochs: 1,
        minibatches: 1,
        discount: a.discount,
        lambda: a.gaeLambda,
        loss: loss(null, false),
      };
    case 'reinforce':
      return {
        rolloutSteps: null,
        epochs: 1,
        minibatches: 1,
        discount: a.discount,
        lambda: 1,
        loss: loss(null, false),
      };
  }
}

/** Fisher-Yates shuffle in place. */
function shuffle(xs: number[], rng: Rng): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
}

const TERMS = ['loss', 'policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipFraction', 'gradNorm'] as const;
type Term = (typeof TERMS)[number];

interface Saved {
  adamT: number;
  envSteps: number;
  trialsStarted: number;
  /** The feed-forward learner's running episodes, or the trial batch's environments. */
  envs: unknown;
}

export class OnPolicyLearner implements Algorithm {
  private readonly adam: Adam;
  private readonly acting: NetPolicy;
  private readonly trials: TrialSource;
  private readonly segments: SegmentCollector | null;
  private readonly settings: Settings;
  private envSteps = 0;

  private constructor(
    private readonly spec: OnPolicySpec,
    private readonly net: PolicyNet,
    private readonly env: VecEnv,
    dataSeed: number,
  ) {
    this.settings = settingsOf(spec, net.recurrent);
    this.adam = new Adam(net.params, spec.training.adamEpsilon);
    this.acting = new NetPolicy(net);
    this.trials = new TrialSource(dataSeed, spec.task.numTasks);
    this.segments =
      this.settings.rolloutSteps === null ? null : new SegmentCollector(env, this.trials, spec.task.episodesPerTrial);
    if (!this.segments) env.reset();
  }

  static async create(spec: OnPolicySpec, dataSeed: number): Promise<OnPolicyLearner> {
    const env = createVecEnv(spec.task, dataSeed, spec.training.batchSize);
    const shape = { observationSize: env.observationSize, action: env.action, lifetime: spec.task.episodesPerTrial };
    const net = createPolicyNet(spec.model, shape, new Rng(seedFrom(spec.seed, 'init')));
    const learner = new OnPolicyLearner(spec, net, env, dataSeed);
    await learner.acting.refresh();
    return learner;
  }

  get paramCount(): number {
    return this.net.paramCount;
  }

  get stateSize(): number {
    return this.net.stateSize;
  }

  policy(): NetPolicy {
    return this.acting;
  }

  async step(step: number): Promise<StepReport> {
    const { spec, settings } = this;
    const rng = new Rng(seedFrom(spec.seed, 'act', step));
    const exp = this.segments
      ? this.segments.collect(this.acting, settings.rolloutSteps!, rng)
      : collectTrials(this.env, this.trials, this.acting, spec.task.episodesPerTrial, rng);
    this.envSteps += exp.envSteps;
    const terms = await this.update(exp, step);
    await this.acting.refresh();
    const metrics: Partial<Record<RlStepMetric, number>> = {
      env_steps: this.envSteps,
      policy_loss: terms.policyLoss,
      value_loss: terms.valueLoss,
      entropy: terms.entropy,
    };
    if (exp.episodeReturns.length)
      metrics.train_return = exp.episodeReturns.reduce((a, b) => a + b, 0) / exp.episodeReturns.length;
    if (settings.loss.clip !== null) {
      metrics.approx_kl = terms.approxKl;
      metrics.clip_fraction = terms.clipFraction;
    }
    return { loss: terms.loss, gradNorm: terms.gradNorm, metrics, envSteps: exp.envSteps };
  }

  /** GAE, then the gradient steps; returns each term's mean over them (NaN loss: stopped at a non-finite one). */
  private async update(exp: Experience, step: number): Promise<Record<Term, number>> {
    const { net, settings, spec } = this;
    const { advantages, returns } = gae({ ...exp, discount: settings.discount, lambda: settings.lambda });
    const units: number[] = [];
    if (net.recurrent) for (let b = 0; b < exp.n; b++) units.push(b);
    else for (let k = 0; k < exp.n * exp.T; k++) if (!exp.mask || exp.mask[k]) units.push(k);
    const parts = Math.min(settings.minibatches, units.length);
    const rng = new Rng(seedFrom(spec.seed, 'minibatches', step));
    const lr = learningRateAt(step, spec.training);
    const lossSettings = { ...settings.loss, action: net.shape.action };
    const sums = Object.fromEntries(TERMS.map((t) => [t, 0])) as Record<Term, number>;
    let count = 0;
    for (let epoch = 0; epoch < settings.epochs; epoch++) {
      if (parts > 1) shuffle(units, rng);
      for (let p = 0; p < parts; p++) {
        const chosen = units.slice(
          Math.floor((p * units.length) / parts),
          Math.floor(((p + 1) * units.length) / parts),
        );
        const mb = gather(net, exp, advantages, returns, chosen);
        const result = await gradientStep(net, this.adam, mb, lossSettings, lr, spec.training.gradClip);
        if (!Number.isFinite(result.loss)) return result;
        for (const t of TERMS) sums[t] += result[t];
        count += 1;
      }
    }
    return Object.fromEntries(TERMS.map((t) => [t, sums[t] / count])) as Record<Term, number>;
  }

  async save(): Promise<{ tensors: SavedVariable[]; extra: Saved }> {
    return {
      tensors: await saveVariables(checkpointVariables(this.net.params, this.adam)),
      extra: {
        adamT: this.adam.t,
        envSteps: this.envSteps,
        trialsStarted: this.trials.started,
        envs: this.segments ? this.segments.save() : this.env.save(),
      },
    };
  }

  restore(saved: { tensors: readonly SavedVariable[]; extra: unknown }): void {
    restoreVariables(checkpointVariables(this.net.params, this.adam), saved.tensors);
    const extra = saved.extra as Saved;
    this.adam.t = extra.adamT;
    this.envSteps = extra.envSteps;
    this.trials.started = extra.trialsStarted;
    if (this.segments) this.segments.restore(extra.envs);
    else this.env.restore(extra.envs);
    this.acting.refreshNow();
  }

  dispose(): void {
    this.adam.dispose();
    for (const p of this.net.params) p.variable.dispose();
  }
}

const define = <K extends OnPolicyKind>(): AlgorithmDef<K> => ({
  create: (spec, dataSeed) => OnPolicyLearner.create(spec as OnPolicySpec, dataSeed),
});

export const ppo = define<'ppo'>();
export const a2c = define<'a2c'>();
export const reinforce = define<'reinforce'>();
