// Meta-training loss plateaus: the longest flat stretch of the loss, and the step where it leaves its
// initial level. The rules are explicit so they can be read, tested and argued with; the README states them.
import type { Plateau as PlateauSummary } from '../../shared/results.js';

export interface Plateau extends PlateauSummary {
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
    const flat =
      i < points.length && smooth[i - w] - smooth[i] < PLATEAU_RULES.maxRelativeFall * Math.abs(smooth[i - w]);
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
function smoothLoss(series: readonly [step: number, loss: number][]): {
  points: [number, number][];
  w: number;
  smooth: number[];
} {
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
