// FME's archive order, its selection rule and its self-modification (main/engine/rl/search.ts), on synthetic
// fitness and by hand.
import { describe, expect, it } from 'vitest';
import {
  ancestralFitness,
  byAncestralFitness,
  modifierSize,
  pickRank,
  type Solution,
  selfModify,
} from '../../main/engine/rl/search';
import { Rng } from '../../main/engine/rng';

const solution = (id: number, [fitness, ...ancestors]: number[]): Solution => ({
  id,
  weights: new Float32Array(1),
  fitness,
  evaluations: 1,
  ancestors,
  parent: null,
  born: 0,
  depth: ancestors.length,
});

describe('FME', () => {
  it("orders the archive by ancestral fitness: the mean of a solution's fitness and its nearest ancestors'", () => {
    const lucky = solution(0, [9, 1, 1]); // one lucky evaluation in a poor line: 11/3
    const steady = solution(1, [5, 5, 5]); // 5
    const young = solution(2, [4]); // 4
    expect(ancestralFitness(lucky)).toBeCloseTo(11 / 3, 12);
    expect(byAncestralFitness([lucky, young, steady]).map((s) => s.id)).toEqual([1, 2, 0]);
    // Equal ancestral fitness: the older solution first.
    expect(byAncestralFitness([solution(5, [2]), solution(3, [1, 3])]).map((s) => s.id)).toEqual([3, 5]);
  });

  it('executes rank r with probability proportional to exp(-r / temperature): monotonic in fitness', () => {
    const rng = new Rng(4);
    const [count, temperature, draws] = [6, 2, 200_000];
    const seen = new Array<number>(count).fill(0);
    for (let k = 0; k < draws; k++) seen[pickRank(count, temperature, rng)] += 1;
    const weights = Array.from({ length: count }, (_, r) => Math.exp(-r / temperature));
    const total = weights.reduce((a, b) => a + b, 0);
    for (let r = 0; r < count; r++) {
      const p = weights[r] / total;
      // Four standard errors of a binomial proportion.
      expect(Math.abs(seen[r] / draws - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / draws));
      if (r > 0) expect(seen[r]).toBeLessThan(seen[r - 1]);
    }
  });

  it('a solution writes its child with its own modifier network, which it modifies too', () => {
    // H = 1: m(x, e) = w2 tanh(w1x x + w1e e + b1) + b2, the first 5 parameters [w1x, w1e, b1, w2, b2]; the change
    // scale tanh(m).
    const theta = Float32Array.of(0.5, -1, 0.2, 2, 0.1, 0.7, -0.3);
    const scale = 0.05;
    const eps = new Rng(9);
    const expected = Array.from(theta, (x) => {
      const e = eps.normal();
      return Math.fround(x + Math.fround(scale * Math.tanh(0.1 + 2 * Math.tanh(0.5 * x - 1 * e + 0.2))));
    });
    const { child, size, modifierChange } = selfModify(theta, 1, scale, new Rng(9));
    for (let i = 0; i < theta.length; i++) expect(child[i]).toBeCloseTo(expected[i], 6);
    expect(modifierSize(1)).toBe(5);
    // The modifier's own weights moved: the next child is written by a different network.
    expect(modifierChange).toBeGreaterThan(0);
    expect(size).toBeGreaterThan(0);
    // A change is at most `scale`; a modifier whose output weights are zero writes an exact copy, itself included.
    expect(Math.max(...child.map((v, i) => Math.abs(v - theta[i])))).toBeLessThanOrEqual(scale);
    const still = Float32Array.of(0.5, -1, 0.2, 0, 0, 0.7, -0.3);
    expect(Array.from(selfModify(still, 1, scale, new Rng(1)).child)).toEqual(Array.from(still));
  });
});
