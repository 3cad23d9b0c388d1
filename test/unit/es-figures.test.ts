// What the page draws of black-box runs (shared/figures/es.ts): fitness lines and FME's archive picture; and the
// chance line of in-context curves (shared/figures/context.ts).
import { describe, expect, it } from 'vitest';
import type { EvalCurve } from '../../shared/api';
import { chanceLine } from '../../shared/figures/context';
import { archivePicture, archiveSteps, fitnessLines } from '../../shared/figures/es';
import { OBJECTIVES } from '../../shared/objectives';
import { taskSpec } from '../../shared/spec';
import { ARCHIVE_PICTURE, ARCHIVE_SPLIT } from '../../shared/objectives/rl';

describe('black-box figures', () => {
  it('fitness: the best, the mean, and the mean one standard deviation either side', () => {
    const lines = fitnessLines(
      [
        [1, 5],
        [2, 7],
      ],
      [
        [1, 3],
        [2, 4],
      ],
      [
        [1, 1],
        [2, 0.5],
      ],
    );
    expect(lines.map((l) => [l.name, l.data])).toEqual([
      [
        'best member',
        [
          [1, 5],
          [2, 7],
        ],
      ],
      [
        'mean',
        [
          [1, 3],
          [2, 4],
        ],
      ],
      [
        'mean − sd',
        [
          [1, 2],
          [2, 3.5],
        ],
      ],
      [
        'mean + sd',
        [
          [1, 4],
          [2, 4.5],
        ],
      ],
    ]);
    expect(fitnessLines([], [], [])).toEqual([]);
  });

  it("the archive: each solution at the step that made it and its fitness, by depth; the latest evaluation's", () => {
    const curve = (step: number, metric: string, values: number[]): EvalCurve => ({
      step,
      split: ARCHIVE_SPLIT,
      metric,
      values,
    });
    const curves = [
      curve(10, ARCHIVE_PICTURE.fitness.name, [60, 55]),
      curve(10, ARCHIVE_PICTURE.born.name, [8, 3]),
      curve(10, ARCHIVE_PICTURE.depth.name, [4, 1]),
      curve(5, ARCHIVE_PICTURE.fitness.name, [50]),
      { step: 10, split: 'unseen', metric: 'return', values: [1, 2] },
    ];
    expect(archiveSteps(curves)).toEqual([5, 10]);
    expect(archivePicture(curves, 10)).toEqual([
      { name: 'solution 1 of the archive (depth 4)', x: 8, y: 60, color: 4 },
      { name: 'solution 2 of the archive (depth 1)', x: 3, y: 55, color: 1 },
    ]);
  });
});

describe('the chance line', () => {
  it("is 1 / classes for classification, across the curves' positions; none for regression or RL", () => {
    const task = (t: object) => taskSpec.parse(t);
    const gpicl = task({ family: 'gpicl-classification', dataset: 'mnist', classes: 3 });
    expect(OBJECTIVES.classification.chance(gpicl)).toBeCloseTo(1 / 3, 12);
    expect('chance' in OBJECTIVES.regression).toBe(false);
    expect('chance' in OBJECTIVES.rl).toBe(false);
    const lines = [
      { name: 'model', data: [[1, 0.4] as [number, number], [24, 0.7] as [number, number]] },
      { name: 'learner', data: [[1, 0.3] as [number, number], [20, 0.6] as [number, number]] },
    ];
    expect(chanceLine(lines, 1 / 3)).toEqual([
      expect.objectContaining({
        name: 'chance (0.333)',
        data: [
          [1, 1 / 3],
          [24, 1 / 3],
        ],
        level: true,
      }),
    ]);
    expect(chanceLine([], 0.5)).toEqual([]);
  });
});
