// How sure a phase label is. An evaluation's sequences (RL: trials) are a sample, and the quantities a phase rule
// compares (improvements within the sequence, levels against chance) are means over them; with few sequences a
// label can be noise. The rule is applied again to bootstrap resamples of the sequences, every split resampled on
// its own, and the label's confidence is the fraction of resamples that give the label the whole sample gives.
import type { Phase } from '../../../shared/results.js';
import { Rng } from '../rng.js';

/** One split's evidence: statistics per evaluation sequence (RL: per trial), one number per sequence a column. */
export type PerSequence = Readonly<Record<string, Float64Array | null>>;

/** Resamples per label: a confidence of 0.9 is then measured to about ±0.02 (its standard error). */
export const PHASE_RESAMPLES = 200;

/** How many sequences a split's evidence holds (every column holds one number per sequence). */
function sequenceCount(e: PerSequence): number {
  return Object.values(e).find((column) => column !== null)?.length ?? 0;
}

/** The evidence of the sequences at `rows` (repeats allowed), in that order. */
export function pickSequences<E extends PerSequence>(e: E, rows: Int32Array): E {
  return Object.fromEntries(
    Object.entries(e).map(([name, column]) => [name, column && Float64Array.from(rows, (i) => column[i])]),
  ) as E;
}

/** Mean of a column (0 for none). */
export function columnMean(column: Float64Array): number {
  let s = 0;
  for (const v of column) s += v;
  return column.length ? s / column.length : 0;
}

/** The label the rule gives the evidence, and the fraction of bootstrap resamples that give it too. */
export function phaseWithConfidence<E extends PerSequence>(
  evidence: ReadonlyMap<string, E>,
  rule: (evidence: ReadonlyMap<string, E>) => Phase,
  seed: number,
  resamples = PHASE_RESAMPLES,
): { phase: Phase; confidence: number } {
  const phase = rule(evidence);
  const rng = new Rng(seed);
  let agree = 0;
  for (let r = 0; r < resamples; r++) {
    const resampled = new Map(
      [...evidence].map(([split, e]) => {
        const n = sequenceCount(e);
        return [
          split,
          pickSequences(
            e,
            Int32Array.from({ length: n }, () => rng.int(n)),
          ),
        ] as const;
      }),
    );
    if (rule(resampled) === phase) agree++;
  }
  return { phase, confidence: agree / resamples };
}
