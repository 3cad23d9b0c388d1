// A phase label's confidence: the rule applied again to bootstrap resamples of the evaluation's sequences
// (main/engine/objectives/bootstrap.ts), on evidence scored by the objectives from synthetic predictions.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../shared/api';
import { flatSummary, phaseText } from '../../shared/figures/data';
import { heatCells } from '../../shared/figures/phases';
import { phaseRegions } from '../../shared/figures/sweep';
import { PHASE_CONFIDENT, phaseUncertain, RunSummary, type Phase } from '../../shared/results';
import { phaseWithConfidence, PHASE_RESAMPLES } from '../../main/engine/objectives/bootstrap';
import { classificationObjective, classifyClassification } from '../../main/engine/objectives/classification';
import { quarters } from '../../main/engine/objectives/index';
import { classifyRegression, regressionObjective } from '../../main/engine/objectives/regression';
import { Rng } from '../../main/engine/rng';
import type { TaskSampler } from '../../main/engine/tasks/index';

const FIGURE = 'eval/seen/last_acc';
const L = 24;
const C = 3;
const task = { objective: 'classification', seqLen: L, outputDim: C } as TaskSampler;

/**
 * `n` sequences whose prediction at position t is right with probability `p(t)`, a ramp from `early` to `late`, each
 * sequence's own level shifted by up to ±`spread` (tasks differ); scored by the classification objective.
 */
function classified(n: number, early: number, late: number, seed: number, spread = 0.05) {
  const rng = new Rng(seed);
  const targets = new Float32Array(n * L);
  const scores = new Float32Array(n * L * C);
  for (let b = 0; b < n; b++) {
    const shift = spread * (2 * rng.next() - 1);
    for (let t = 0; t < L; t++) {
      const target = rng.int(C);
      const right = rng.next() < early + ((late - early) * t) / (L - 1) + shift;
      targets[b * L + t] = target;
      scores[(b * L + t) * C + (right ? target : (target + 1) % C)] = 1;
    }
  }
  return classificationObjective.score(scores, { batch: n, inputs: new Float32Array(0), targets }, task, []);
}

type Scored = ReturnType<typeof classified>;

/** The evaluation's splits: seen and unseen tasks, or unseen ones only (fresh tasks). */
const splits = (seen: Scored | null, unseen: Scored) =>
  new Map<string, Scored>(
    seen
      ? [
          ['seen', seen],
          ['unseen', unseen],
        ]
      : [['unseen', unseen]],
  );

const confidenceOf = (scored: Map<string, Scored>, seed = 1) =>
  phaseWithConfidence(
    new Map([...scored].map(([split, s]) => [split, s.evidence])),
    (e) => classificationObjective.phase(e, task),
    seed,
  );

describe('phase confidence', () => {
  it('is about 1 for a clear effect measured on many sequences', () => {
    const result = confidenceOf(splits(classified(512, 0.4, 0.85, 1), classified(512, 0.4, 0.8, 2)));
    expect(result.phase).toBe('general learning-to-learn');
    expect(result.confidence).toBeGreaterThanOrEqual(0.99);
    expect(phaseText(result.phase, result.confidence)).toBe('general learning-to-learn');
  });

  it('is below 0.9 for a small effect measured on few sequences, and shown as uncertain', () => {
    // Seen tasks improve by 0.08 (the rule asks for 0.05), unseen ones stay at chance: on 8 sequences that can be task
    // identification or memorization.
    const chance = classified(512, 1 / C, 1 / C, 4);
    const few = confidenceOf(splits(classified(8, 0.86, 0.96, 3), chance));
    expect(['task identification', 'memorization']).toContain(few.phase);
    expect(few.confidence).toBeLessThan(PHASE_CONFIDENT);
    expect(phaseUncertain(few.confidence)).toBe(true);
    expect(phaseText(few.phase, few.confidence)).toBe(`${few.phase} (uncertain, ${Math.round(few.confidence * 100)}%)`);
    expect(phaseText(few.phase, few.confidence, true)).toMatch(/^(task ID|memorize)\?$/);
    // A larger effect on the same few sequences, or the same effect on many, is clear.
    expect(confidenceOf(splits(classified(8, 0.5, 0.95, 3), chance))).toEqual({
      phase: 'task identification',
      confidence: 1,
    });
    const many = confidenceOf(splits(classified(4096, 0.86, 0.96, 3), chance));
    expect(many.phase).toBe('task identification');
    expect(many.confidence).toBeGreaterThanOrEqual(0.95);
  });

  it('is deterministic from its seed, a fraction of the resamples', () => {
    const scored = splits(classified(16, 0.85, 0.93, 5), classified(16, 0.3, 0.36, 6));
    const a = confidenceOf(scored, 7);
    expect(confidenceOf(scored, 7)).toEqual(a);
    expect(Number.isInteger(a.confidence * PHASE_RESAMPLES)).toBe(true);
    const seeds = new Set(Array.from({ length: 8 }, (_, s) => confidenceOf(scored, s).confidence));
    expect(seeds.size).toBeGreaterThan(1);
  });

  it('keeps the label the rule gives the mean curves', () => {
    for (let s = 0; s < 40; s++) {
      const rng = new Rng(100 + s);
      const level = () => 0.2 + 0.8 * rng.next();
      const scored = splits(classified(32, level(), level(), 2 * s), classified(32, level(), level(), 2 * s + 1));
      const curve = (split: string) => scored.get(split)!.curves[0].values;
      const fromCurves = classifyClassification({
        chance: 1 / C,
        seen: quarters(curve('seen')),
        unseen: quarters(curve('unseen')),
      });
      expect(confidenceOf(scored).phase).toBe(fromCurves);
    }
  });

  it('without a seen split (fresh tasks) reads unseen tasks for both', () => {
    expect(confidenceOf(splits(null, classified(256, 0.4, 0.8, 8))).phase).toBe('general learning-to-learn');
    expect(confidenceOf(splits(null, classified(256, 0.9, 0.9, 9))).phase).toBe('memorization');
    expect(confidenceOf(splits(null, classified(256, 1 / C, 1 / C, 10))).phase).toBe('not learning yet');
  });

  it('regression: per-sequence evidence gives the label and the figures of the mean curves', () => {
    const n = 64;
    const T = 16;
    const regression = { objective: 'regression', seqLen: T, outputDim: 1 } as TaskSampler;
    const rng = new Rng(11);
    const targets = Float32Array.from({ length: n * T }, () => 3 * rng.normal());
    // The error falls along the sequence; ridge predicts as the model does, dMMSE does not.
    const predictions = targets.map((y, i) => y + (2 * rng.normal() * (T - (i % T))) / T);
    const ridge = predictions.map((p) => p + 0.1 * rng.normal());
    const dmmse = predictions.map((p) => p + rng.normal());
    const score = regressionObjective.score(
      predictions,
      { batch: n, inputs: new Float32Array(0), targets },
      regression,
      [
        { name: 'ridge', predictions: ridge },
        { name: 'dmmse', predictions: dmmse },
      ],
    );
    const mse = score.curves[0].values;
    const distance = (b: Float32Array) => predictions.reduce((s, p, i) => s + (p - b[i]) ** 2, 0) / (n * T);
    expect(score.figures.distance_to_ridge).toBeCloseTo(distance(ridge), 10);
    expect(score.figures.distance_to_dmmse).toBeCloseTo(distance(dmmse), 10);
    const label = classifyRegression({
      seen: quarters(mse),
      unseen: quarters(mse),
      zeroMse: targets.reduce((s, y) => s + y * y, 0) / (n * T),
      distanceToRidge: distance(ridge),
      distanceToDmmse: distance(dmmse),
    });
    expect(label).toBe('general learning-to-learn');
    const evidence = new Map([
      ['seen', score.evidence],
      ['unseen', score.evidence],
    ]);
    const result = phaseWithConfidence(evidence, (e) => regressionObjective.phase(e, regression), 1);
    expect(result).toEqual({ phase: label, confidence: 1 });
  });
});

describe('uncertain labels where they are shown', () => {
  /** A finished run of a sweep over the number of tasks, with its summary's phase and confidence. */
  const run = (id: number, numTasks: number | string, phase: Phase, phaseConfidence: number | null) => {
    const summary: RunSummary = { steps: 60, backend: 'wasm', phase, phaseConfidence, plateau: null, figures: {} };
    summary.figures[FIGURE] = 0.5;
    const sweepPoint: Run['sweepPoint'] = { 'task.numTasks': numTasks };
    return { id, experimentId: 1, sweepPoint, status: 'finished', summary } as Run;
  };
  const runs = [
    run(1, 4, 'memorization', 1),
    run(2, 16, 'task identification', 0.62),
    // Without a confidence: not marked.
    run(3, 64, 'task identification', null),
  ];

  it('writes the phase with its uncertainty: long, short, and in a flat summary', () => {
    expect(phaseText('task identification', 0.62)).toBe('task identification (uncertain, 62%)');
    expect(phaseText('task identification', 0.62, true)).toBe('task ID?');
    expect(phaseText('task identification', PHASE_CONFIDENT)).toBe('task identification');
    expect(phaseText('task identification', null, true)).toBe('task ID');
    expect(flatSummary(runs[1].summary!).phase).toBe('task identification (uncertain, 62%)');
    // A summary stored before confidences were measured still parses, and its label is shown as it was.
    const old = RunSummary.parse({ steps: 60, backend: 'wasm', phase: 'memorization', plateau: null, figures: {} });
    expect(flatSummary(old).phase).toBe('memorization');
  });

  it('marks heatmap cells and phase-plot regions', () => {
    const grid = { xPath: 'task.numTasks', xValues: [4, 16, 64], yPath: null, yValues: [null], held: {} };
    const cells = heatCells(runs, grid, FIGURE);
    expect(cells.map((c) => c.note)).toEqual(['memorize', 'task ID?', 'task ID']);
    expect(cells[1].detail).toBe('r2 · task identification (uncertain, 62%)');
    // A finished run without the figure (fresh tasks have no seen split): a dash above its phase.
    const fresh = run(4, 'fresh', 'general learning-to-learn', 1);
    fresh.summary!.figures = {};
    const [cell] = heatCells([fresh], { ...grid, xValues: ['fresh'] }, FIGURE);
    expect(cell).toMatchObject({ value: null, note: '–\nlearn' });
    const bands = phaseRegions(
      [0, 2, 4],
      runs.map((r) => r.summary!.phase),
      runs.map((r) => r.summary!.phaseConfidence),
    );
    expect(bands.map((b) => b.label)).toEqual(['memorize', 'task ID?', 'task ID']);
  });
});
