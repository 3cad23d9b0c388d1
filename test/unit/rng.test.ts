import { describe, expect, it } from 'vitest';
import { Rng } from '../../main/engine/rng';

describe('Rng.fillNormal', () => {
  // The inlined loop must give exactly what normal() gives, one number at a time: tasks and initial weights
  // drawn before it was inlined are drawn again the same.
  it.each([
    [0, 0],
    [1, 0],
    [2, 0],
    [7, 3],
    [100_001, 5],
  ])('gives normal()’s numbers for %i values at offset %i, leaving the generator where normal() would', (n, at) => {
    for (const spareFirst of [false, true]) {
      const fast = new Rng(42);
      const slow = new Rng(42);
      if (spareFirst) expect(fast.normal()).toBe(slow.normal());
      const out = fast.fillNormal(new Float32Array(at + n + 2), 0.5, at, n);
      const expected = new Float32Array(at + n + 2);
      for (let i = 0; i < n; i++) expected[at + i] = slow.normal() * 0.5;
      expect(out).toEqual(expected);
      expect(fast.state()).toEqual(slow.state());
      expect(fast.normal()).toBe(slow.normal());
      expect(fast.next()).toBe(slow.next());
    }
  });
});
