// What the page draws of black-box runs (shared/figures/es.ts): fitness lines and FME's archive picture.
import { describe, expect, it } from 'vitest';
import type { EvalCurve } from '../../shared/api';
import { archivePicture, archiveSteps, fitnessLines } from '../../shared/figures/es';
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
