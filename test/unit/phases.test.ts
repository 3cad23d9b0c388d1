import { describe, expect, it } from 'vitest';
import { accuracyImprovement, classifyClassification } from '../../main/engine/objectives/classification';
import { quarters } from '../../main/engine/objectives/index';
import { classifyRegression, mseImprovement } from '../../main/engine/objectives/regression';
import { detectPlateau, escapeStep } from '../../main/engine/plateau';

const ramp = (from: number, to: number, n = 40) =>
  Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
const flat = (v: number, n = 40) => Array<number>(n).fill(v);

describe('within-sequence improvement', () => {
  it('compares the first and last quarter of positions', () => {
    expect(quarters([1, 2, 3, 4, 5, 6, 7, 8])).toEqual({ early: 1.5, late: 7.5 });
    expect(accuracyImprovement(ramp(0.2, 0.8))).toBeCloseTo((0.6 * (30 + 4.5 - 4.5)) / 39, 6);
    expect(mseImprovement([4, 4, 2, 1])).toBeCloseTo(0.75);
    expect(mseImprovement([0, 0])).toBe(0);
  });
});

describe('phase rules (classification, 5 classes: chance 0.2)', () => {
  const chance = 0.2;
  it('labels each regime of the GPICL phase diagram', () => {
    expect(classifyClassification({ chance, seen: quarters(flat(0.2)), unseen: quarters(flat(0.2)) })).toBe(
      'not learning yet',
    );
    expect(classifyClassification({ chance, seen: quarters(flat(0.95)), unseen: quarters(flat(0.2)) })).toBe(
      'memorization',
    );
    expect(classifyClassification({ chance, seen: quarters(ramp(0.3, 0.8)), unseen: quarters(flat(0.2)) })).toBe(
      'task identification',
    );
    expect(
      classifyClassification({ chance, seen: quarters(ramp(0.45, 0.85)), unseen: quarters(ramp(0.45, 0.8)) }),
    ).toBe('general learning-to-learn');
  });
  it('needs unseen tasks to end above chance, and small wiggles are not learning', () => {
    expect(
      classifyClassification({ chance, seen: quarters(ramp(0.2, 0.23)), unseen: quarters(ramp(0.15, 0.22)) }),
    ).toBe('not learning yet');
    expect(classifyClassification({ chance, seen: quarters(ramp(0.1, 0.6)), unseen: quarters(ramp(0.1, 0.22)) })).toBe(
      'task identification',
    );
  });
});

describe('phase rules (regression)', () => {
  const base = { zeroMse: 8, distanceToRidge: 1, distanceToDmmse: 3 };
  it('follows dMMSE or ridge on unseen tasks', () => {
    expect(classifyRegression({ ...base, seen: quarters(flat(8)), unseen: quarters(flat(8)) })).toBe(
      'not learning yet',
    );
    expect(classifyRegression({ ...base, seen: quarters(flat(0.3)), unseen: quarters(flat(9)) })).toBe('memorization');
    expect(
      classifyRegression({
        ...base,
        seen: quarters(ramp(8, 1)),
        unseen: quarters(flat(9)),
        distanceToRidge: 5,
        distanceToDmmse: 1,
      }),
    ).toBe('task identification');
    expect(classifyRegression({ ...base, seen: quarters(ramp(8, 1)), unseen: quarters(ramp(8, 2)) })).toBe(
      'general learning-to-learn',
    );
    expect(
      classifyRegression({ ...base, seen: quarters(ramp(8, 1)), unseen: quarters(ramp(8, 2)), distanceToDmmse: null }),
    ).toBe('general learning-to-learn');
  });
});

describe('plateau detection', () => {
  // A loss that drops, sits at ln 5 for a long time, then falls: the plateau of GPICL meta-training.
  function lossCurve(
    plateauFrom: number,
    plateauTo: number,
    steps: number,
    start = 2.3,
    noise = 0.01,
  ): [number, number][] {
    let s = 42;
    const rand = () => {
      s = (s * 16807) % 2147483647;
      return (s / 2147483647 - 0.5) * 2;
    };
    return Array.from({ length: steps }, (_, i) => {
      const step = i + 1;
      let v: number;
      if (step < plateauFrom) v = start - ((start - Math.log(5)) * step) / plateauFrom;
      else if (step < plateauTo) v = Math.log(5);
      else v = Math.max(0.3, Math.log(5) - (step - plateauTo) * 0.01);
      return [step, v * (1 + noise * rand())];
    });
  }

  it('finds a plateau where it is, within a smoothing window', () => {
    const p = detectPlateau(lossCurve(100, 1200, 2000))!;
    expect(p).not.toBeNull();
    expect(p.start).toBeGreaterThan(80);
    expect(p.start).toBeLessThan(220);
    expect(p.end).toBeGreaterThan(1150);
    expect(p.end).toBeLessThan(1260);
    expect(p.level).toBeCloseTo(Math.log(5), 1);
  });

  it('reports an open plateau when training ends on it, and none for a falling or converged loss', () => {
    const open = detectPlateau(lossCurve(100, 5000, 2000, Math.log(5) * 1.05))!;
    expect(open.end).toBeNull();
    expect(open.length).toBeGreaterThan(1700);
    // Converged: flat at the end, but far below where it started.
    expect(detectPlateau(lossCurve(100, 5000, 2000, 5))).toBeNull();
    const falling = Array.from({ length: 2000 }, (_, i) => [i + 1, 3 * Math.exp(-i / 300) + 0.1] as [number, number]);
    expect(detectPlateau(falling.slice(0, 1000))).toBeNull();
    expect(detectPlateau(falling)).toBeNull();
    expect(detectPlateau([[1, 1]])).toBeNull();
  });

  it('finds where the loss leaves its starting level, or says it never did', () => {
    // Flat at ln 5 from the start until step 1200, then falling by 0.01 a step: 90% of ln 5 is reached ~16 steps later.
    const escaped = escapeStep(lossCurve(1, 1200, 2000, Math.log(5)))!;
    expect(escaped).toBeGreaterThan(1200);
    expect(escaped).toBeLessThan(1260);
    expect(escapeStep(lossCurve(1, 5000, 2000, Math.log(5)))).toBeNull();
    expect(escapeStep([[1, 1]])).toBeNull();
  });
});
