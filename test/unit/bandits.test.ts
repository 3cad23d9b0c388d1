import { describe, expect, it } from 'vitest';
import {
  BANDIT_BASELINES,
  type BanditBaseline,
  type BanditBaselineOptions,
  banditBaselineCurve,
  gittinsDiscount,
  gittinsTableOptions,
} from '../../main/engine/baselines/bandits';
import { sampleBeta, sampleGamma } from '../../main/engine/baselines/beta';
import { buildGittinsTable, gittinsTable } from '../../main/engine/baselines/gittins';
import { Rng } from '../../main/engine/rng';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** `bandits` fresh Bernoulli bandits, arm probabilities U(0, 1), in `batches` equal batches. */
function freshBandits(arms: number, bandits: number, batches: number, seed: number): Float32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: batches }, () => {
    const probs = new Float32Array((bandits / batches) * arms);
    for (let i = 0; i < probs.length; i++) probs[i] = rng.next();
    return probs;
  });
}

interface Estimate {
  mean: number;
  /** Standard error of the mean, from the spread of the batch means. */
  se: number;
}

function estimate(batchTotals: number[]): Estimate {
  const n = batchTotals.length;
  const mean = sum(batchTotals) / n;
  return { mean, se: Math.sqrt(sum(batchTotals.map((x) => (x - mean) ** 2)) / (n - 1) / n) };
}

/** Mean total reward of a baseline over the batches of bandits. */
function total(
  name: BanditBaseline,
  batches: Float32Array[],
  arms: number,
  pulls: number,
  options?: BanditBaselineOptions,
): Estimate {
  return estimate(
    batches.map((probs, b) => sum(banditBaselineCurve(name, probs, arms, pulls, new Rng(100 + b), options))),
  );
}

/** Always arm 0: what a broken policy earns (the mean arm, ~50 of 100). */
function firstArmTotal(batches: Float32Array[], arms: number, pulls: number): Estimate {
  const rng = new Rng(7);
  return estimate(
    batches.map((probs) => {
      let reward = 0;
      for (let i = 0; i < probs.length / arms; i++)
        for (let t = 0; t < pulls; t++) reward += rng.next() < probs[i * arms] ? 1 : 0;
      return reward / (probs.length / arms);
    }),
  );
}

/**
 * Whether a measured total agrees with a reference measured on `referenceBandits` bandits, within 4 combined
 * standard errors (the reference's own error scaled from ours by the number of bandits).
 */
function agrees(measured: Estimate, measuredBandits: number, reference: number, referenceBandits: number): boolean {
  const referenceSe = measured.se * Math.sqrt(measuredBandits / referenceBandits);
  return Math.abs(measured.mean - reference) <= 4 * Math.hypot(measured.se, referenceSe);
}

describe('Beta and Gamma samplers', () => {
  it('match the moments of Beta(2, 5) and Gamma(0.5)', () => {
    const rng = new Rng(1);
    const n = 40_000;
    const betas = Array.from({ length: n }, () => sampleBeta(rng, 2, 5));
    const mean = sum(betas) / n;
    const variance = sum(betas.map((x) => (x - mean) ** 2)) / n;
    expect(mean).toBeCloseTo(2 / 7, 2);
    expect(variance).toBeCloseTo(10 / (49 * 8), 3);
    const gammas = Array.from({ length: n }, () => sampleGamma(rng, 0.5));
    expect(Math.abs(sum(gammas) / n - 0.5)).toBeLessThan(0.02);
  });
});

/** The calibration one state at a time, by bisection on lambda with its own backward induction to `truncation`. */
function indexByBisection(a0: number, b0: number, discount: number, truncation: number): number {
  let lo = 0;
  let hi = 1;
  for (let iteration = 0; iteration < 40; iteration++) {
    const lambda = (lo + hi) / 2;
    const depth = truncation - (a0 + b0);
    // values[j]: the state with j more successes than (a0, b0) at the level being processed.
    let values = Array.from({ length: depth + 1 }, (_, j) => Math.max(lambda, (a0 + j) / truncation));
    let rootPull = 0;
    for (let d = depth - 1; d >= 0; d--) {
      const level = a0 + b0 + d;
      values = values.slice(0, d + 1).map((_, j) => {
        const mean = (a0 + j) / level;
        const pull = (1 - discount) * mean + discount * (mean * values[j + 1] + (1 - mean) * values[j]);
        if (d === 0) rootPull = pull;
        return Math.max(lambda, pull);
      });
    }
    if (rootPull > lambda) lo = lambda;
    else hi = lambda;
  }
  return (lo + hi) / 2;
}

describe('Gittins indices', () => {
  it("match Gittins' published values for Bernoulli arms with a uniform prior", () => {
    // Gittins, Glazebrook & Weber, Multi-armed Bandit Allocation Indices (2nd ed., 2011), as reprinted in
    // Christian & Griffiths, Algorithms to Live By (2016), ch. 2: at discount 0.9 a 0-0 record (Beta(1, 1)) has
    // index 0.7029, 1-1 0.6346, 2-2 0.6010, nine wins and one loss 0.8695; at discount 0.99 a 0-0 record 0.8699.
    const t90 = gittinsTable({ discount: 0.9, levels: 20, truncation: 300, grid: 1000 });
    expect(t90.at(1, 1)).toBeCloseTo(0.7029, 4);
    expect(t90.at(2, 2)).toBeCloseTo(0.6346, 4);
    expect(t90.at(3, 3)).toBeCloseTo(0.601, 4);
    expect(t90.at(10, 2)).toBeCloseTo(0.8695, 4);
    const t99 = gittinsTable({ discount: 0.99, levels: 20, truncation: 300, grid: 1000 });
    expect(t99.at(1, 1)).toBeCloseTo(0.8699, 4);
  });

  it('equal a per-state bisection within one grid step, exceed the posterior mean, rise with successes', () => {
    const table = gittinsTable({ discount: 0.95, levels: 30, truncation: 150, grid: 200 });
    for (const [a, b] of [
      [1, 1],
      [5, 3],
      [1, 20],
      [20, 1],
      [12, 12],
    ]) {
      expect(Math.abs(table.at(a, b) - indexByBisection(a, b, 0.95, 150))).toBeLessThan(1 / 200);
      expect(table.at(a, b)).toBeGreaterThan(a / (a + b));
      expect(table.at(a + 1, b)).toBeGreaterThan(table.at(a, b));
      expect(table.at(a, b + 1)).toBeLessThan(table.at(a, b));
    }
    expect(() => table.at(20, 20)).toThrow(/not tabulated/);
  });
});

describe('bandit baselines', () => {
  // Measured in DESIGN.md section 6 on 20,000 fresh bandits (PyTorch probes): total reward over 100 pulls.
  const reference5 = { random: 49.97, ucb1: 65.81, thompson: 74.78, greedy: 75.57 } as const;
  const reference10 = { random: 49.96, ucb1: 63.38, thompson: 77.03, greedy: 79.22 } as const;
  const bandits = 4000;
  const five = freshBandits(5, bandits, 20, 11);
  const ten = freshBandits(10, bandits, 20, 12);

  it('earn what the reference measurements earned at 5 and 10 arms, 100 pulls; always arm 0 does not', () => {
    for (const [arms, batches, reference] of [
      [5, five, reference5],
      [10, ten, reference10],
    ] as const) {
      const firstArm = firstArmTotal(batches, arms, 100);
      for (const [name, value] of Object.entries(reference)) {
        const measured = total(name as BanditBaseline, batches, arms, 100);
        expect(agrees(measured, bandits, value, 20_000), `${name}, ${arms} arms: ${measured.mean}`).toBe(true);
        if (name !== 'random') expect(agrees(firstArm, bandits, value, 20_000)).toBe(false);
      }
    }
    const epsilon01 = total('eps_greedy', five, 5, 100, { epsilon: 0.01 });
    expect(agrees(epsilon01, bandits, 75.47, 20_000), `eps-greedy 0.01: ${epsilon01.mean}`).toBe(true);
  });

  it('Gittins earns what Duan et al. report at 5 arms, 100 pulls, and beats greedy on the same bandits', () => {
    const gittins = total('gittins', five, 5, 100);
    // Their figure script: 78.74 over 1,000 bandits, with the best of four discounts.
    expect(agrees(gittins, bandits, 78.74, 1000), `Gittins: ${gittins.mean}`).toBe(true);
    expect(gittins.mean - total('greedy', five, 5, 100).mean).toBeGreaterThan(1);
    // Exploring a tenth of the time costs greedy more than it learns, yet stays ahead of UCB1.
    const epsilon = total('eps_greedy', five, 5, 100).mean;
    expect(epsilon).toBeLessThan(total('greedy', five, 5, 100).mean);
    expect(epsilon).toBeGreaterThan(total('ucb1', five, 5, 100).mean);
  });

  it('learn within the lifetime (random does not), and are reproducible from the seed', () => {
    const all = new Float32Array(bandits * 5);
    for (const [b, probs] of five.entries()) all.set(probs, b * probs.length);
    for (const name of BANDIT_BASELINES) {
      const curve = banditBaselineCurve(name, five[0], 5, 100, new Rng(3));
      expect(curve).toHaveLength(100);
      expect(banditBaselineCurve(name, five[0], 5, 100, new Rng(3))).toEqual(curve);
      expect(banditBaselineCurve(name, five[0], 5, 100, new Rng(4))).not.toEqual(curve);
      // Mean reward of the last quarter of pulls minus the first (standard error ~0.002 over 4,000 bandits).
      const lifetime = banditBaselineCurve(name, all, 5, 100, new Rng(5));
      const gain = sum(lifetime.slice(75)) / 25 - sum(lifetime.slice(0, 25)) / 25;
      if (name === 'random') expect(Math.abs(gain)).toBeLessThan(0.01);
      else expect(gain, name).toBeGreaterThan(0.03);
    }
  });

  it('play the dependent two-armed bandit (arms p and 1 - p) as independent arms, well above chance', () => {
    const rng = new Rng(5);
    const probs = new Float32Array(2 * 1000);
    for (let i = 0; i < 1000; i++) {
      probs[2 * i] = rng.next();
      probs[2 * i + 1] = 1 - probs[2 * i];
    }
    // Always the better arm earns 75 of 100 on average; chance 50.
    for (const name of ['gittins', 'thompson', 'greedy'] as const)
      expect(sum(banditBaselineCurve(name, probs, 2, 100, new Rng(6))), name).toBeGreaterThan(65);
  });

  it('play 256 bandits x 100 pulls of Gittins well under a second once the table is built', () => {
    const start = performance.now();
    const table = buildGittinsTable(gittinsTableOptions(100, gittinsDiscount(100)));
    const built = performance.now();
    banditBaselineCurve('gittins', five[0].subarray(0, 5), 5, 100, new Rng(8));
    const cached = performance.now();
    banditBaselineCurve('gittins', five[0].subarray(0, 256 * 5), 5, 100, new Rng(9));
    const played = performance.now();
    console.log(
      `Gittins table (100 pulls): ${(built - start).toFixed(0)} ms, 256 x 100: ${(played - cached).toFixed(0)} ms`,
    );
    expect(table.at(1, 1)).toBeCloseTo(0.8699, 4);
    expect(played - cached).toBeLessThan(500);
  });

  it('refuse what they cannot play', () => {
    expect(() => banditBaselineCurve('greedy', new Float32Array(7), 5, 10, new Rng(1))).toThrow(/trials of 5 arms/);
    expect(() => banditBaselineCurve('gittins', new Float32Array(5), 5, 501, new Rng(1))).toThrow(/up to 500 pulls/);
  });
});
