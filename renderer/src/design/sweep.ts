// Sweep axes as the designer edits them: possibly half-typed, so listed only where well-formed and short
// enough (a log2 range from 0 or a linear range of a billion points must not be listed).
import { axisCount, axisValues, MAX_RUNS_PER_EXPERIMENT, type SweepAxis } from '../../../shared/spec';
import { getAt, type NumericField } from './schema';

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

/**
 * A new axis for a field: its current value and another distinct value in its range (double, or a tenth for
 * fractional fields; else the next or previous one), so the runs differ.
 */
export function startingAxis(field: NumericField, spec: unknown): Axis {
  const { type, default: fallback, minimum, maximum, exclusiveMinimum, exclusiveMaximum } = field.schema;
  const current = getAt(spec, field.path.split('.'));
  const value = typeof current === 'number' ? current : typeof fallback === 'number' ? fallback : (minimum ?? 1);
  const fits = (v: number) =>
    v !== value &&
    v >= (minimum ?? -Infinity) &&
    v <= (maximum ?? Infinity) &&
    v > (exclusiveMinimum ?? -Infinity) &&
    v < (exclusiveMaximum ?? Infinity);
  const candidates = type === 'integer' ? [value * 2, value + 1, value - 1] : [value / 10, value + 1, value - 1];
  const other = candidates.find(fits);
  return { path: field.path, values: other === undefined ? [value] : [value, other] };
}
