// Sweep axes as the designer edits them: possibly half-typed, so listed only where well-formed and short
// enough (a log2 range from 0 or a linear range of a billion points must not be listed).
import { axisCount, axisValues, MAX_RUNS_PER_EXPERIMENT, type SweepAxis } from '../../../shared/spec';

export type Axis = {
  path: string;
  values?: unknown[];
  range?: { from: unknown; to: unknown; scale?: 'log2' | 'linear'; steps?: unknown };
};

export function axesOf(sweep: unknown): Axis[] {
  const list = (sweep as { axes?: unknown } | undefined)?.axes;
  return Array.isArray(list) ? (list as Axis[]).filter((a) => a && typeof a === 'object') : [];
}

export function valuesOf(axis: Axis): (number | string)[] | null {
  if (axis.range && !(typeof axis.range.from === 'number' && typeof axis.range.to === 'number')) return null;
  if (
    !axis.range &&
    !(Array.isArray(axis.values) && axis.values.every((v) => typeof v === 'number' || typeof v === 'string'))
  )
    return null;
  const count = axisCount(axis as SweepAxis);
  return count > 0 && count <= MAX_RUNS_PER_EXPERIMENT ? axisValues(axis as SweepAxis) : null;
}

/** "16, 32, 64, 128, 256, 512, …, 4096 (9 values)". */
export function summarize(values: (number | string)[]): string {
  const shown = values.length > 8 ? [...values.slice(0, 6), '…', values[values.length - 1]] : values;
  const text = shown.map((v) => (typeof v === 'number' ? Number(v.toPrecision(6)) : v)).join(', ');
  return `${text} (${values.length} value${values.length === 1 ? '' : 's'})`;
}
