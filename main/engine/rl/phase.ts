// The phase rule for RL runs, read from each split's evaluation trials and the random policy's trials on the
// same instances and initial states (paired by instance). In the spirit of the classification rule: a learner
// that only memorised earns more than random on instances it trained on but no more late in its lifetime than
// early; one that identifies tasks improves within the lifetime on those instances only; a general learner
// improves on instances it never saw. A gain counts only beyond noise: its mean over trials must exceed twice
// its standard error (and a small margin), so a few evaluation trials never make a label out of chance.
import { SPLITS } from '../../../shared/objectives/index.js';
import type { Phase } from '../../../shared/results.js';
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

function trials(values: ArrayLike<number>, K: number): number[][] {
  return Array.from({ length: values.length / K }, (_, i) => Array.from({ length: K }, (_, k) => values[i * K + k]));
}

/** Whether paired differences are above zero beyond the margin and beyond noise. */
function clearlyPositive(differences: readonly number[], scale: number): boolean {
  const n = differences.length;
  const m = mean(differences);
  const variance = n > 1 ? differences.reduce((s, d) => s + (d - m) ** 2, 0) / (n - 1) : Infinity;
  return m > RL_PHASE_MARGIN * scale && m > RL_PHASE_ERRORS * Math.sqrt(variance / n);
}

const scaleOf = (e: RlEvidence) => Math.max(Math.abs(mean(Array.from(e.random))), 1e-6);

/** Earns more than the random policy over the lifetime, trial by trial. */
export function beatsRandom(e: RlEvidence): boolean {
  const random = trials(e.random, e.episodes);
  const gains = trials(e.returns, e.episodes).map((t, i) => mean(t) - mean(random[i]));
  return clearlyPositive(gains, scaleOf(e));
}

/** Earns more late in the lifetime than early, by more than the random policy does (a lifetime of 2+ episodes). */
export function improvesWithinLifetime(e: RlEvidence): boolean {
  if (e.episodes < 2) return false;
  const rise = (t: number[]) => {
    const { early, late } = quarters(t);
    return late - early;
  };
  const random = trials(e.random, e.episodes);
  const rises = trials(e.returns, e.episodes).map((t, i) => rise(t) - rise(random[i]));
  return clearlyPositive(rises, scaleOf(e));
}

/** `seen` is absent for runs on fresh instances: then `unseen` stands for the training distribution too. */
export function rlPhase(evidence: ReadonlyMap<string, RlEvidence>): Phase {
  const unseen = evidence.get(SPLITS.unseen);
  const seen = evidence.get(SPLITS.seen) ?? unseen;
  if (unseen && improvesWithinLifetime(unseen)) return 'general learning-to-learn';
  if (seen && improvesWithinLifetime(seen)) return 'task identification';
  if (seen && beatsRandom(seen)) return 'memorization';
  return 'not learning yet';
}
