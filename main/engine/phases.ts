// The lab's research instruments: within-sequence improvement, the phase of in-context learning an
// evaluation shows, and meta-training loss plateaus. The rules are explicit so they can be read, tested
// and argued with; the README states them in words.

import { PHASE_LABELS } from '../../shared/metrics.js';

export type Phase = (typeof PHASE_LABELS)[number];

/** Thresholds of the phase rules. */
export const PHASE_RULES = {
  /** Classification: an improvement of at least this much accuracy (late minus early) counts as learning in context. */
  minAccuracyGain: 0.05,
  /** Classification: accuracy at least this far above chance counts as better than guessing. */
  aboveChance: 0.05,
  /** Regression: a relative fall of the MSE (early to late) of at least this much counts as learning in context. */
  minRelativeMseFall: 0.1,
  /** Regression: a late MSE at most this fraction of the zero predictor's counts as fitting the tasks. */
  fitFraction: 0.5,
} as const;

/** Mean of the first and the last quarter of a per-position curve (at least one position each). */
export function quarters(curve: readonly number[]): { early: number; late: number } {
  const n = Math.max(1, Math.floor(curve.length / 4));
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { early: mean(curve.slice(0, n)), late: mean(curve.slice(-n)) };
}

/** Accuracy: late minus early. Positive when the model gets better along the sequence. */
export function accuracyImprovement(curve: readonly number[]): number {
  const { early, late } = quarters(curve);
  return late - early;
}

/** MSE: (early - late) / early. Positive when the error falls along the sequence. */
export function mseImprovement(curve: readonly number[]): number {
  const { early, late } = quarters(curve);
  return early > 0 ? (early - late) / early : 0;
}

export interface ClassificationEvidence {
  chance: number;
  seen: number[];
  unseen: number[];
}

/**
 * Classification (accuracy curves of seen and unseen tasks), in order:
 * 1. unseen tasks improve within the sequence (>= minAccuracyGain) and end above chance -> general learning-to-learn;
 * 2. seen tasks improve within the sequence -> task identification (it learned the pool's tasks, not learning);
 * 3. seen tasks are solved above chance from the start, without improvement -> memorization;
 * 4. otherwise -> not learning yet.
 */
export function classifyClassification(e: ClassificationEvidence): Phase {
  const r = PHASE_RULES;
  const unseen = quarters(e.unseen);
  const seen = quarters(e.seen);
  if (unseen.late - unseen.early >= r.minAccuracyGain && unseen.late >= e.chance + r.aboveChance) return 'general learning-to-learn';
  if (seen.late - seen.early >= r.minAccuracyGain) return 'task identification';
  if (seen.late >= e.chance + r.aboveChance) return 'memorization';
  return 'not learning yet';
}

export interface RegressionEvidence {
  /** Per-position MSE curves of the model. */
  seen: number[];
  unseen: number[];
  /** MSE of always predicting 0 on seen tasks (E[y^2]). */
  zeroMse: number;
  /** Mean squared distance of the model's predictions on unseen tasks to ridge's and dMMSE's (null: no dMMSE). */
  distanceToRidge: number;
  distanceToDmmse: number | null;
}

/**
 * Regression (Raventós et al.: below the task-diversity threshold the model follows dMMSE, above it ridge):
 * 1. the unseen-task MSE falls within the sequence (>= minRelativeMseFall) and the predictions are closer to
 *    ridge's than to dMMSE's -> general learning-to-learn;
 * 2. the seen-task MSE falls within the sequence -> task identification (it identifies the pool's task);
 * 3. the seen-task MSE is low (<= fitFraction of the zero predictor's) without falling -> memorization;
 * 4. otherwise -> not learning yet.
 */
export function classifyRegression(e: RegressionEvidence): Phase {
  const r = PHASE_RULES;
  const closerToRidge = e.distanceToDmmse === null || e.distanceToRidge < e.distanceToDmmse;
  if (mseImprovement(e.unseen) >= r.minRelativeMseFall && closerToRidge) return 'general learning-to-learn';
  if (mseImprovement(e.seen) >= r.minRelativeMseFall) return 'task identification';
  if (quarters(e.seen).late <= r.fitFraction * e.zeroMse) return 'memorization';
  return 'not learning yet';
}

export interface Plateau {
  /** First step of the plateau. */
  start: number;
  /** Step where the loss starts falling again; null if training ended on the plateau. */
  end: number | null;
  length: number;
  /** Smoothed loss on the plateau. */
  level: number;
}

export const PLATEAU_RULES = {
  /** Smoothing window and comparison lag, as a fraction of the run's steps (at least 5 steps). */
  window: 0.02,
  /** The loss counts as flat where it fell by less than this fraction over one window. */
  maxRelativeFall: 0.02,
  /** A flat stretch counts as a plateau only if it lasts at least this fraction of the run (and 20 steps). */
  minLength: 0.05,
  /**
   * A flat stretch that lasts until the end is a plateau only while the loss is still at least this fraction
   * of its starting value; lower, it is a run that has converged.
   */
  openMinLevel: 0.8,
  /** The loss has left its starting level (escapeStep) once the smoothed loss is below this fraction of it. */
  escapeFraction: 0.9,
} as const;

/**
 * Finds the longest stretch where the meta-training loss stays flat. The loss is smoothed by a moving
 * average over `window` steps; a step is flat if the smoothed loss fell by less than `maxRelativeFall`
 * relative to one window earlier (rises count as flat). The longest run of flat steps at least `minLength`
 * long is the plateau; it ends where the loss falls again, or is open if training ended on it (and the loss
 * is still near its starting value: `openMinLevel`).
 */
export function detectPlateau(series: readonly [step: number, loss: number][]): Plateau | null {
  const { points, w, smooth } = smoothLoss(series);
  if (points.length < 20) return null;
  const minLength = Math.max(20, Math.round(points.length * PLATEAU_RULES.minLength));
  const initial = smooth[w - 1];
  let best: { from: number; to: number } | null = null;
  let from = -1;
  for (let i = 2 * w; i <= points.length; i++) {
    const flat = i < points.length && smooth[i - w] - smooth[i] < PLATEAU_RULES.maxRelativeFall * Math.abs(smooth[i - w]);
    if (flat && from < 0) from = i - w;
    if (!flat && from >= 0) {
      const converged = i === points.length && smooth[i - 1] < PLATEAU_RULES.openMinLevel * initial;
      if (!converged && i - from >= minLength && (!best || i - from > best.to - best.from)) best = { from, to: i };
      from = -1;
    }
  }
  if (!best) return null;
  const start = points[best.from][0];
  const open = best.to >= points.length;
  const end = open ? null : points[best.to - 1][0];
  const last = points[points.length - 1][0];
  return { start, end, length: (end ?? last) - start, level: smooth[Math.min(best.to, points.length) - 1] };
}

/** The finite points of a loss series and their moving average over PLATEAU_RULES.window of the run (>= 5 steps). */
function smoothLoss(series: readonly [step: number, loss: number][]): { points: [number, number][]; w: number; smooth: number[] } {
  const points = series.filter(([, v]) => Number.isFinite(v));
  const w = Math.max(5, Math.round(points.length * PLATEAU_RULES.window));
  const smooth: number[] = [];
  let sum = 0;
  points.forEach(([, v], i) => {
    sum += v;
    if (i >= w) sum -= points[i - w][1];
    smooth.push(sum / Math.min(i + 1, w));
  });
  return { points, w, smooth };
}

/**
 * The step where meta-training leaves its initial loss level (e.g. ln C on classification tasks): the first
 * step whose smoothed loss is below PLATEAU_RULES.escapeFraction of the smoothed loss over the first window; null if it
 * never does. Unlike the longest flat stretch, this measures the initial plateau that the plateau
 * interventions (batch size, Adam epsilon, biased batches) are about.
 */
export function escapeStep(series: readonly [step: number, loss: number][]): number | null {
  const { points, w, smooth } = smoothLoss(series);
  if (points.length < 2 * w) return null;
  const initial = smooth[w - 1];
  const i = smooth.findIndex((v, k) => k >= w && v < PLATEAU_RULES.escapeFraction * initial);
  return i < 0 ? null : points[i][0];
}
