// What a run produces, typed: the phase of in-context learning an evaluation shows, and the summary of a
// finished run. Stored as JSON in the database (checked with RunSummary on the way in and out).
import { z } from 'zod';

/**
 * The phases of in-context learning, in order of generality; the engine's objectives decide which one an evaluation
 * shows.
 */
export const PHASE_LABELS = [
  'not learning yet',
  'memorization',
  'task identification',
  'general learning-to-learn',
] as const;
export type Phase = (typeof PHASE_LABELS)[number];
export const Phase = z.enum(PHASE_LABELS);

/** A phase as recorded in a metric series (metrics are numbers): its index in PHASE_LABELS. */
export function phaseCode(phase: Phase): number {
  return PHASE_LABELS.indexOf(phase);
}

/** The phase a metric value records, or null for a missing or unknown code. */
export function phaseFromCode(code: number | null | undefined): Phase | null {
  return code === null || code === undefined ? null : (PHASE_LABELS[code] ?? null);
}

/**
 * A phase label is uncertain when fewer than this fraction of bootstrap resamples of its evaluation's sequences (RL:
 * trials) give it: the evaluation is too small to tell it from another phase.
 */
export const PHASE_CONFIDENT = 0.9;

/** Whether a label with this confidence is uncertain (a label stored without one, before it was measured, is not). */
export function phaseUncertain(confidence: number | null | undefined): boolean {
  return confidence !== null && confidence !== undefined && confidence < PHASE_CONFIDENT;
}

/** The longest stretch where the meta-training loss stayed flat (see the engine's plateau rules). */
export const Plateau = z
  .object({
    /** First step of the plateau. */
    start: z.number(),
    /** Step where the loss starts falling again; null if training ended on the plateau. */
    end: z.number().nullable(),
    length: z.number(),
  })
  .strict();
export type Plateau = z.infer<typeof Plateau>;

/** A finished run's results. `figures` holds every named number, keyed as in the metric registry. */
export const RunSummary = z
  .object({
    steps: z.int().nonnegative(),
    backend: z.string(),
    /** The phase of the last evaluation. */
    phase: Phase.nullable(),
    /** Its confidence (see PHASE_CONFIDENT); absent from summaries stored before it was measured. */
    phaseConfidence: z.number().min(0).max(1).nullable().optional(),
    plateau: Plateau.nullable(),
    /**
     * Run figures (final_loss, param_count, …) and the last evaluation's figures (eval/<split>/<name>); null: not
     * measured.
     */
    figures: z.record(z.string(), z.number().nullable()),
  })
  .strict();
export type RunSummary = z.infer<typeof RunSummary>;
