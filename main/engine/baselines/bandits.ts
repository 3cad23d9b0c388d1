// Classical bandit algorithms run on the same Bernoulli bandit instances as an RL learner, for its within-lifetime
// curve to be read against (Duan et al. 2016 compare RL² with these). Pure typed-array code: every trial is one
// bandit (its arm probabilities), every pull a Bernoulli draw from the chosen arm's probability.
// The posterior-based policies keep a Beta(1 + successes, 1 + failures) posterior per arm and treat arms as
// independent, also on the dependent two-armed bandit (arms paying p and 1 - p) as Wang et al. (2016) did when
// they compared with these baselines; there they are not Bayes-optimal, which is the point of the comparison.
import type { rl } from '../../../shared/objectives/rl.js';
import type { Rng } from '../rng.js';
import { sampleBeta } from './beta.js';
import { type GittinsTableOptions, gittinsTable } from './gittins.js';

type RlBaselineName = (typeof rl.baselines)[number]['name'];

export const BANDIT_BASELINES = [
  'random',
  'thompson',
  'ucb1',
  'greedy',
  'eps_greedy',
  'gittins',
] as const satisfies readonly RlBaselineName[];
export type BanditBaseline = (typeof BANDIT_BASELINES)[number];

export interface BanditBaselineOptions {
  /** eps_greedy: the probability of a uniformly random arm (default 0.1, as shared/objectives/rl.ts says). */
  epsilon?: number;
  /** gittins: the discount of the index (default `gittinsDiscount(pulls)`). */
  discount?: number;
}

/** Retirement rewards tried when building a Gittins table: indices are within 1e-3, ~1e-5 away from 0 and 1. */
const GITTINS_GRID = 1000;
/**
 * Posterior levels beyond the last reachable one before the Gittins induction is truncated: the discount's
 * effective horizon 1 / (1 - gamma), within [200, 500]. Measured up to level 100: at gamma 0.99, 200 and 900 levels
 * gave the same indices to 5 decimals; at gamma 0.999, 500 levels instead of 1,000 moved none by 6e-4.
 */
const gittinsLookahead = (discount: number) => Math.min(500, Math.max(200, Math.ceil(1 / (1 - discount))));
/** Building the table costs ~GITTINS_GRID x (pulls + lookahead)^2 / 2 steps: ~0.2 s at 100 pulls, ~3 s at 500. */
export const GITTINS_MAX_PULLS = 500;

/**
 * The Gittins discount for a lifetime of `pulls`: 1 - 1 / pulls, an effective horizon of the lifetime itself,
 * kept within [0.9, 0.999]. Duan et al.'s code tried 0.9, 0.99, 0.999 and 0.9999 for each setting and reported
 * the best afterwards; this rule picks one in advance. At 5 arms and 100 pulls (20,000 bandits) the totals were
 * 78.05 at 0.9, 78.64 at 0.98, 78.57 at 0.99 (the rule's), 77.86 at 0.999; their best, 78.74 (1,000 bandits).
 */
export function gittinsDiscount(pulls: number): number {
  return Math.min(0.999, Math.max(0.9, 1 - 1 / pulls));
}

/** The Gittins table a lifetime of `pulls` needs, at this discount. */
export function gittinsTableOptions(pulls: number, discount: number): GittinsTableOptions {
  if (pulls > GITTINS_MAX_PULLS) throw new Error(`Gittins indices are tabulated up to ${GITTINS_MAX_PULLS} pulls`);
  // The last decision sees an arm pulled at most pulls - 1 times: level (1 + s) + (1 + f) <= pulls + 1.
  const levels = pulls + 1;
  return { discount, levels, truncation: levels + gittinsLookahead(discount), grid: GITTINS_GRID };
}

/** The highest score's arm, ties broken uniformly at random (reservoir sampling over the tied arms). */
function argmax(scores: Float64Array, arms: number, rng: Rng): number {
  let best = 0;
  let ties = 1;
  for (let k = 1; k < arms; k++) {
    if (scores[k] > scores[best]) {
      best = k;
      ties = 1;
    } else if (scores[k] === scores[best] && rng.int(++ties) === 0) best = k;
  }
  return best;
}

/** Picks the next arm of one trial from its counts so far; `t` is the number of pulls already made. */
type Choose = (successes: Float64Array, counts: Float64Array, t: number) => number;

function policy(name: BanditBaseline, arms: number, pulls: number, rng: Rng, options: BanditBaselineOptions): Choose {
  const scores = new Float64Array(arms);
  const greedy: Choose = (s, n) => {
    for (let k = 0; k < arms; k++) scores[k] = (1 + s[k]) / (2 + n[k]);
    return argmax(scores, arms, rng);
  };
  switch (name) {
    case 'random':
      return () => rng.int(arms);
    case 'greedy':
      return greedy;
    case 'eps_greedy': {
      const epsilon = options.epsilon ?? 0.1;
      return (s, n, t) => (rng.next() < epsilon ? rng.int(arms) : greedy(s, n, t));
    }
    case 'thompson':
      return (s, n) => {
        for (let k = 0; k < arms; k++) scores[k] = sampleBeta(rng, 1 + s[k], 1 + n[k] - s[k]);
        return argmax(scores, arms, rng);
      };
    case 'ucb1':
      // Auer et al. (2002): every arm once (in random order), then the empirical mean plus sqrt(2 ln t / n).
      return (s, n, t) => {
        const log = 2 * Math.log(t);
        for (let k = 0; k < arms; k++) scores[k] = n[k] === 0 ? Infinity : s[k] / n[k] + Math.sqrt(log / n[k]);
        return argmax(scores, arms, rng);
      };
    case 'gittins': {
      const table = gittinsTable(gittinsTableOptions(pulls, options.discount ?? gittinsDiscount(pulls)));
      return (s, n) => {
        for (let k = 0; k < arms; k++) scores[k] = table.at(1 + s[k], 1 + n[k] - s[k]);
        return argmax(scores, arms, rng);
      };
    }
  }
}

/**
 * Mean reward of pull t (t = 0..pulls-1) over the trials, for one baseline. `probs` holds each trial's arm
 * probabilities, [trials * arms]; the policy's choices and the rewards both draw from `rng`, so a curve is
 * reproducible from its seed.
 */
export function banditBaselineCurve(
  name: BanditBaseline,
  probs: Float32Array,
  arms: number,
  pulls: number,
  rng: Rng,
  options: BanditBaselineOptions = {},
): number[] {
  if (arms < 1 || probs.length === 0 || probs.length % arms !== 0)
    throw new Error(`${probs.length} probabilities do not make trials of ${arms} arms`);
  if (!Number.isInteger(pulls) || pulls < 1) throw new Error(`pulls must be a positive integer, got ${pulls}`);
  const choose = policy(name, arms, pulls, rng, options);
  const sums = new Float64Array(pulls);
  const successes = new Float64Array(arms);
  const counts = new Float64Array(arms);
  const trials = probs.length / arms;
  for (let i = 0; i < trials; i++) {
    successes.fill(0);
    counts.fill(0);
    for (let t = 0; t < pulls; t++) {
      const arm = choose(successes, counts, t);
      const reward = rng.next() < probs[i * arms + arm] ? 1 : 0;
      successes[arm] += reward;
      counts[arm] += 1;
      sums[t] += reward;
    }
  }
  return Array.from(sums, (sum) => sum / trials);
}
