// The post-run step: a finished run's summary from its last evaluation and its whole loss history, with the
// plateau analysis (./plateau.ts) done here, in the engine, once every step's loss is known.
import { RUN_FIGURES } from '../../shared/metrics.js';
import type { Phase, RunSummary } from '../../shared/results.js';
import { detectPlateau, escapeStep } from './plateau.js';

export interface RunRecord {
  steps: number;
  backend: string;
  paramCount: number;
  stateSize: number;
  /** The loss of every step, step 1 first. */
  losses: readonly number[];
  /** The last evaluation's figures (eval/<split>/<name>), phase and its confidence; null if never evaluated. */
  lastEvaluation: { figures: Record<string, number>; phase: Phase; confidence: number } | null;
}

export function summarize(run: RunRecord): RunSummary {
  const series = run.losses.map((loss, i): [number, number] => [i + 1, loss]);
  const plateau = detectPlateau(series);
  const f = RUN_FIGURES;
  return {
    steps: run.steps,
    backend: run.backend,
    phase: run.lastEvaluation?.phase ?? null,
    phaseConfidence: run.lastEvaluation?.confidence ?? null,
    plateau: plateau && { start: plateau.start, end: plateau.end, length: plateau.length },
    figures: {
      [f.finalLoss.key]: run.losses.at(-1) ?? null,
      [f.paramCount.key]: run.paramCount,
      [f.stateSize.key]: run.stateSize,
      [f.plateauLength.key]: plateau?.length ?? 0,
      [f.lossEscapeStep.key]: escapeStep(series),
      ...run.lastEvaluation?.figures,
    },
  };
}
