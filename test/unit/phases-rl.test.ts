// The RL phase rule (main/engine/rl/phase.ts) on synthetic trials: the return of episode k of each trial, the
// policy's and the random policy's on the same instances.
import { describe, expect, it } from 'vitest';
import { PHASE_CONFIDENT } from '../../shared/results';
import { phaseWithConfidence } from '../../main/engine/objectives/bootstrap';
import * as rule from '../../main/engine/rl/phase';
import { Rng } from '../../main/engine/rng';

const ramp = (from: number, to: number, n = 20) =>
  Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
const flat = (v: number, n = 20) => Array<number>(n).fill(v);

/** `trials` trials whose episode k returns curve[k] plus N(0, noise²) noise. */
function returns(curve: number[], noise: number, trials: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: trials * curve.length }, (_, j) => curve[j % curve.length] + noise * rng.normal());
}

let seed = 1;
/** Bandit pulls: random earns 0.5 a pull; 256 trials, per-pull noise 0.5 (a Bernoulli's). */
function bandit(curve: number[], trials = 256): rule.RlEvidence {
  return {
    episodes: curve.length,
    returns: returns(curve, 0.5, trials, seed++),
    random: returns(flat(0.5, curve.length), 0.5, trials, seed++),
  };
}
const phase = (splits: Record<string, rule.RlEvidence>) =>
  rule.rlPhase(new Map(Object.entries(splits).map(([split, e]) => [split, rule.rlTrials(e)])));
/** The rule's parts, on a split's trials. */
const beatsRandom = (e: rule.RlEvidence) => rule.beatsRandom(rule.rlTrials(e));
const improvesWithinLifetime = (e: rule.RlEvidence) => rule.improvesWithinLifetime(rule.rlTrials(e));

describe('RL phase rule', () => {
  it('labels each regime from the seen and unseen trials', () => {
    expect(phase({ seen: bandit(flat(0.5)), unseen: bandit(flat(0.5)) })).toBe('not learning yet');
    // High return on the training instances from the first episode on, nothing learned within the lifetime.
    expect(phase({ seen: bandit(flat(0.9)), unseen: bandit(flat(0.5)) })).toBe('memorization');
    expect(phase({ seen: bandit(ramp(0.5, 0.85)), unseen: bandit(flat(0.5)) })).toBe('task identification');
    const general = phase({ seen: bandit(ramp(0.5, 0.85)), unseen: bandit(ramp(0.5, 0.8)) });
    expect(general).toBe('general learning-to-learn');
  });

  it('without a seen split (fresh instances) reads unseen for both', () => {
    expect(phase({ unseen: bandit(ramp(0.5, 0.8)) })).toBe('general learning-to-learn');
    expect(phase({ unseen: bandit(flat(0.7)) })).toBe('memorization');
  });

  it('a gain within noise is no gain: an untrained policy on a few trials gets no label', () => {
    // CartPole-like: returns ~22 with a spread of ~12; 16 trials of 3 episodes, the policy no better than random.
    for (let s = 0; s < 20; s++) {
      const e = {
        episodes: 3,
        returns: returns(flat(22, 3), 12, 16, 100 + s),
        random: returns(flat(22, 3), 12, 16, 200 + s),
      };
      expect(phase({ seen: e, unseen: e })).toBe('not learning yet');
    }
    // The same gain measured on many trials is one.
    expect(
      beatsRandom({ episodes: 3, returns: returns(flat(30, 3), 12, 512, 7), random: returns(flat(22, 3), 12, 512, 8) }),
    ).toBe(true);
  });

  it('counts only gains beyond the margin, and the random policy’s own drift is not learning', () => {
    expect(improvesWithinLifetime(bandit(ramp(0.5, 0.51), 100_000))).toBe(false);
    const drift = (curve: number[]): rule.RlEvidence => ({
      episodes: 20,
      returns: returns(curve, 1, 256, seed++),
      random: returns(ramp(10, 20), 1, 256, seed++),
    });
    // Random returns that rise over the lifetime (a shaped environment): the policy must rise more.
    expect(improvesWithinLifetime(drift(ramp(10, 20)))).toBe(false);
    expect(improvesWithinLifetime(drift(ramp(10, 40)))).toBe(true);
  });

  it('scales by the random return: negative returns (Pendulum, Acrobot) work as positive ones', () => {
    const e = (curve: number[]) => ({
      episodes: 5,
      returns: returns(curve, 50, 64, seed++),
      random: returns(flat(-1200, 5), 50, 64, seed++),
    });
    expect(beatsRandom(e(flat(-300, 5)))).toBe(true);
    expect(improvesWithinLifetime(e(ramp(-1200, -300, 5)))).toBe(true);
    expect(beatsRandom(e(flat(-1500, 5)))).toBe(false);
  });

  it('a lifetime of one episode has no within-lifetime improvement: hand-designed learners memorise at most', () => {
    const one = { episodes: 1, returns: returns([480], 10, 32, 3), random: returns([22], 10, 32, 4) };
    expect(improvesWithinLifetime(one)).toBe(false);
    expect(phase({ seen: one, unseen: one })).toBe('memorization');
  });
});

describe('RL phase confidence (bootstrap over trials)', () => {
  const confidence = (splits: Record<string, rule.RlEvidence>) =>
    phaseWithConfidence(new Map(Object.entries(splits).map(([split, e]) => [split, rule.rlTrials(e)])), rule.rlPhase, 1)
      .confidence;

  it('is about 1 for a rise within the lifetime on many trials, below 0.9 for the same rise on few', () => {
    expect(confidence({ unseen: bandit(ramp(0.5, 0.8)) })).toBeGreaterThanOrEqual(0.99);
    // On 8 trials the rise is about twice its standard error: the rule's own noise test flips on resamples.
    expect(confidence({ unseen: bandit(ramp(0.5, 0.8), 8) })).toBeLessThan(PHASE_CONFIDENT);
  });
});
