// The phase rule for RL runs, read from each split's evaluation trials and the random policy's trials on the
// same instances and initial states (paired by instance). In the spirit of the classification rule: a learner
// that only memorised earns more than random on instances it trained on but no more late in its lifetime than
// early; one that identifies tasks improves within the lifetime on those instances only; a general learner
// improves on instances it never saw. A gain counts only beyond noise: its mean over trials must exceed twice
// its standard error (and a small margin), so a few evaluation trials never make a label out of chance. The rule
// reads per-trial statistics (RlTrials), so that, as for the supervised objectives, the label's confidence is the
// fraction of bootstrap resamples of the trials that the same rule gives the same label (../objectives/bootstrap.ts).
import { SPLITS } from '../../../shared/objectives/index.js';
import type { Phase } from '../../../shared/results.js';
import { columnMean, type PerSequence } from '../objectives/bootstrap.js';
import { mean, quarters } from '../objectives/index.js';

export interface RlEvidence {
  /** Episodes per lifetime K. */
  episodes: number;
  /** [n * K]: the policy's return of episode k of trial i at i * K + k. */
  returns: ArrayLike<number>;
  /** [n * K]: the random policy's, trial i on trial i's instance. */
  random: ArrayLike<number>;
}

/** Gains smaller than this fraction of the random policy's return per episode (its magnitude) count as none. */
export const RL_PHASE_MARGIN = 0.05;
/** Standard errors a mean gain must exceed. */
export const RL_PHASE_ERRORS = 2;

/** Per trial, what the rule compares with the random policy's trial on the same instance. */
export interface RlTrials extends PerSequence {
  /** Mean return over the lifetime minus the random policy's. */
  gain: Float64Array;
  /** Rise within the lifetime (last quarter of episodes minus the first) minus the random policy's; null: 1 episode. */
  rise: Float64Array | null;
  /** The random policy's mean return (its magnitude sets the margin). */
  random: Float64Array;
}

/** The per-trial statistics of a split's trials. */
export function rlTrials(e: RlEvidence): RlTrials {
  const K = e.episodes;
  const trial = (values: ArrayLike<number>, i: number) => Array.from({ length: K }, (_, k) => values[i * K + k]);
  const rise = (t: number[]) => {
    const { early, late } = quarters(t);
    return late - early;
  };
  const n = e.returns.length / K;
  const stat = (f: (policy: number[], random: number[]) => number) =>
    Float64Array.from({ length: n }, (_, i) => f(trial(e.returns, i), trial(e.random, i)));
  return {
    gain: stat((p, r) => mean(p) - mean(r)),
    rise: K < 2 ? null : stat((p, r) => rise(p) - rise(r)),
    random: stat((_, r) => mean(r)),
  };
}

/** Whether paired differences are above zero beyond the margin and beyond noise. */
function clearlyPositive(differences: Float64Array, scale: number): boolean {
  const n = differences.length;
  const m = columnMean(differences);
  const variance = n > 1 ? differences.reduce((s, d) => s + (d - m) ** 2, 0) / (n - 1) : Infinity;
  return m > RL_PHASE_MARGIN * scale && m > RL_PHASE_ERRORS * Math.sqrt(variance / n);
}

const scaleOf = (t: RlTrials) => Math.max(Math.abs(columnMean(t.random)), 1e-6);

/** Earns more than the random policy over the lifetime, trial by trial. */
export function beatsRandom(t: RlTrials): boolean {
  return clearlyPositive(t.gain, scaleOf(t));
}

/** Earns more late in the lifetime than early, by more than the random policy does (a lifetime of 2+ episodes). */
export function improvesWithinLifetime(t: RlTrials): boolean {
  return t.rise !== null && clearlyPositive(t.rise, scaleOf(t));
}

/** `seen` is absent for runs on fresh instances: then `unseen` stands for the training distribution too. */
export function rlPhase(evidence: ReadonlyMap<string, RlTrials>): Phase {
  const unseen = evidence.get(SPLITS.unseen);
  const seen = evidence.get(SPLITS.seen) ?? unseen;
  if (unseen && improvesWithinLifetime(unseen)) return 'general learning-to-learn';
  if (seen && improvesWithinLifetime(seen)) return 'task identification';
  if (seen && beatsRandom(seen)) return 'memorization';
  return 'not learning yet';
}
