// Evaluation of an RL policy: for every split (seen, unseen, shifted, and test:<name> for each of task.testEnvs,
// environments never trained on), `evaluation.sequences` trials (lifetimes of `episodesPerTrial` episodes) on fixed
// instances of that split: ids 0..sequences-1 in a batch seeded by the run's seed, rebuilt at every evaluation, so
// every evaluation meets the same instances and the same initial states. Of several training environments, a
// split's instances alternate over them (../envs/family.ts).
// - Discrete actions are sampled from the policy (a recurrent policy's exploration is learned: acting greedily
//   would not show what it learned); Gaussian policies act deterministically with their mean.
// - Curves: `return` (mean return of episode k of the lifetime, k = 1..K) at the step; the baselines' `<b>_return`
//   once, at step 0: `random` (uniform actions on the same instances and initial states) for every environment,
//   and on bandits Thompson sampling, UCB1, greedy, epsilon-greedy and Gittins on the same arm probabilities.
// - Figures eval/<split>/last_return, mean_return, improvement, and the baselines' figures; the phase by
//   ./phase.ts from each split's trials and the random policy's, and its confidence by a bootstrap over the trials.
// - One recorded trial per split (the first slot's, on its own environment) for the rollout viewer.
import type { EvalCurve } from '../../../shared/api.js';
import { evalMetricKey } from '../../../shared/metrics.js';
import { rl } from '../../../shared/objectives/rl.js';
import type { Phase } from '../../../shared/results.js';
import type { Rollout } from '../../../shared/rollout.js';
import { BANDIT_BASELINES, banditBaselineCurve, GITTINS_MAX_PULLS } from '../baselines/bandits.js';
import { createVecEnv, evalSplits } from '../envs/index.js';
import { batchShape, type SlotShape, type VecEnv } from '../envs/types.js';
import { phaseWithConfidence } from '../objectives/bootstrap.js';
import { mean, quarters } from '../objectives/index.js';
import { Rng, seedFrom } from '../rng.js';
import { type RlTrials, rlPhase, rlTrials } from './phase.js';
import type { Policy, RlSpec } from './types.js';

const RANDOM = 'random';

export interface RlEvalSet {
  split: string;
  /** Baseline curves by name: computed at the first evaluation, they do not change while the policy trains. */
  baselines: Map<string, number[]> | null;
  /** The random policy's return of each episode of each trial (the phase rule pairs them with the policy's). */
  randomReturns: Float64Array | null;
}

export interface RlEvaluation {
  curves: EvalCurve[];
  figures: Record<string, number>;
  phase: Phase;
  /** The fraction of bootstrap resamples of the trials whose evidence gives `phase` too. */
  confidence: number;
  rollouts: Omit<Rollout, 'runId'>[];
}

export function rlEvalSets(spec: RlSpec): RlEvalSet[] {
  return evalSplits(spec.task).map((split) => ({ split, baselines: null, randomReturns: null }));
}

/** The batch of a split's evaluation trials, as it stands before their first step. */
function evalEnv(spec: RlSpec, dataSeed: number, split: string): VecEnv {
  const n = spec.evaluation.sequences;
  const env = createVecEnv(spec.task, dataSeed, n, { split, ids: Array.from({ length: n }, (_, i) => i) });
  env.reset();
  return env;
}

/** Acts uniformly at random: discrete indices, or values uniform within the box. */
function randomPolicy(env: VecEnv): Policy {
  const { action } = env;
  let slots: readonly SlotShape[] = [];
  return {
    begin: (_n, batch) => {
      slots = batch?.slots ?? [];
    },
    act: (input, rng) => {
      const n = input.dones.length;
      // Of a padded batch, each slot's own actions.
      const count = (i: number) => slots[i]?.actions ?? (action.kind === 'discrete' ? action.n : 0);
      if (action.kind === 'discrete')
        return { actions: Float32Array.from({ length: n }, (_, i) => rng.int(count(i))), probs: null };
      const values = Float32Array.from(
        { length: n * action.size },
        () => action.low + (action.high - action.low) * rng.next(),
      );
      return { actions: values, probs: null };
    },
  };
}

interface Lifetimes {
  /** [n * K]: the return of episode k of slot i's trial at i * K + k. */
  returns: Float64Array;
  /** Environment steps the trials took (not counting slots waiting for the others to finish). */
  steps: number;
  rollout: Omit<Rollout, 'runId' | 'step' | 'split'> | null;
}

/** Every slot runs one trial of K episodes under `policy`; the first slot's is recorded when `record` is set. */
export function runLifetimes(
  env: VecEnv,
  policy: Policy,
  K: number,
  rng: Rng,
  mode: 'sample' | 'greedy',
  record: boolean,
): Lifetimes {
  const { n, action } = env;
  const A = action.kind === 'discrete' ? 1 : action.size;
  // The recorded slot's own actions (of a padded batch, fewer than the batch's).
  const actionCount = action.kind === 'discrete' ? env.slotShape(0).actions : 0;
  const returns = new Float64Array(n * K);
  const completed = new Int32Array(n);
  const prevActions = new Float32Array(n * A);
  const prevRewards = new Float32Array(n);
  const dones = new Uint8Array(n).fill(1);
  const rollout = record
    ? {
        env: env.envOf(0),
        params: env.params(0),
        stateSize: env.renderState(0).length,
        actionCount,
        frames: 0,
        states: [] as number[],
        actions: [] as number[],
        rewards: [] as number[],
        episodes: [] as number[],
        probs: [] as number[],
      }
    : null;
  policy.begin(n, batchShape(env));
  let obs = env.observe().slice();
  let running = n;
  let steps = 0;
  while (running > 0) {
    const recording = rollout !== null && completed[0] < K;
    if (recording) rollout.states.push(...env.renderState(0));
    const acted = policy.act({ obs, prevActions, prevRewards, dones }, rng, mode);
    const step = env.step(acted.actions);
    if (recording) {
      rollout.frames += 1;
      rollout.actions.push(...env.envAction(0, acted.actions));
      rollout.rewards.push(step.rewards[0]);
      rollout.episodes.push(completed[0]);
      if (acted.probs) rollout.probs.push(...acted.probs.subarray(0, actionCount));
    }
    for (let i = 0; i < n; i++) {
      dones[i] = step.terminated[i] || step.truncated[i];
      if (completed[i] === K) continue;
      steps += 1;
      returns[i * K + completed[i]] += step.rewards[i];
      if (dones[i] && ++completed[i] === K) running -= 1;
    }
    prevActions.set(acted.actions);
    prevRewards.set(step.rewards);
    obs = env.observe().slice();
  }
  return { returns, steps, rollout };
}

/** Mean over slots of the return of episode k, k = 0..K-1. */
function episodeCurve(returns: Float64Array, n: number, K: number): number[] {
  const curve = new Array<number>(K).fill(0);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) curve[k] += returns[i * K + k] / n;
  return curve;
}

const BANDITS: ReadonlySet<string> = new Set(['bernoulli-bandit', 'dependent-bandit']);

/** Whether every slot of `env` is a bandit (whose arms the bandit baselines play). */
const allBandits = (env: VecEnv) => Array.from({ length: env.n }, (_, i) => env.envOf(i)).every((e) => BANDITS.has(e));

/** The baselines' within-lifetime curves on a split's evaluation instances, and the random policy's returns. */
function baselineCurves(
  spec: RlSpec,
  dataSeed: number,
  split: string,
): { curves: Map<string, number[]>; randomReturns: Float64Array } {
  const K = spec.task.episodesPerTrial;
  const n = spec.evaluation.sequences;
  const curves = new Map<string, number[]>();
  const env = evalEnv(spec, dataSeed, split);
  const armProbabilities = allBandits(env) ? Array.from({ length: n }, (_, i) => env.renderState(i)) : [];
  const rng = new Rng(seedFrom(spec.seed, 'eval', split, RANDOM));
  const { returns } = runLifetimes(env, randomPolicy(env), K, rng, 'sample', false);
  curves.set(RANDOM, episodeCurve(returns, n, K));
  if (armProbabilities.length) {
    const arms = armProbabilities[0].length;
    const probs = Float32Array.from(armProbabilities.flat());
    for (const name of BANDIT_BASELINES) {
      if (name === RANDOM || (name === 'gittins' && K > GITTINS_MAX_PULLS)) continue;
      curves.set(name, banditBaselineCurve(name, probs, arms, K, new Rng(seedFrom(spec.seed, 'eval', split, name))));
    }
  }
  return { curves, randomReturns: returns };
}

/** Evaluates `policy` (as it is at `step`) on every split; `dataSeed` is the seed the run's instances come from. */
export function evaluateRl(
  policy: Policy,
  spec: RlSpec,
  dataSeed: number,
  sets: RlEvalSet[],
  step: number,
): RlEvaluation {
  const K = spec.task.episodesPerTrial;
  const n = spec.evaluation.sequences;
  const curves: EvalCurve[] = [];
  const figures: Record<string, number> = {};
  const rollouts: Omit<Rollout, 'runId'>[] = [];
  const evidence = new Map<string, RlTrials>();
  const figuresOf = (split: string, curve: number[], names: { last: string; improvement?: string; mean?: string }) => {
    const { early, late } = quarters(curve);
    figures[evalMetricKey(split, names.last)] = curve[K - 1];
    // A lifetime of one episode has no within-lifetime improvement to measure.
    if (names.improvement && K > 1) figures[evalMetricKey(split, names.improvement)] = late - early;
    if (names.mean) figures[evalMetricKey(split, names.mean)] = mean(curve);
  };
  for (const set of sets) {
    const { split } = set;
    const firstTime = set.baselines === null;
    if (firstTime)
      ({ curves: set.baselines, randomReturns: set.randomReturns } = baselineCurves(spec, dataSeed, split));
    const env = evalEnv(spec, dataSeed, split);
    const mode = env.action.kind === 'discrete' ? 'sample' : 'greedy';
    const rng = new Rng(seedFrom(spec.seed, 'eval', split, 'policy', step));
    const { returns, rollout } = runLifetimes(env, policy, K, rng, mode, true);
    const curve = episodeCurve(returns, n, K);
    curves.push({ step, split, metric: rl.curve.name, values: curve });
    const { figures: f } = rl;
    figuresOf(split, curve, { last: f.last.name, improvement: f.improvement.name, mean: f.mean.name });
    for (const [name, values] of set.baselines!) {
      if (firstTime) curves.push({ step: 0, split, metric: rl.baselineCurve(name), values });
      const bf = rl.baselineFigures(name);
      figuresOf(split, values, { last: bf.last.name, improvement: bf.improvement?.name });
    }
    evidence.set(split, rlTrials({ episodes: K, returns, random: set.randomReturns! }));
    if (rollout) rollouts.push({ ...rollout, step, split });
  }
  return { curves, figures, ...phaseWithConfidence(evidence, rlPhase, seedFrom(spec.seed, 'phase', step)), rollouts };
}
