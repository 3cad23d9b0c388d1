// Runs grouped by any field's value across experiments (the table groups by experiment unless told otherwise).
import { RUN_STATUSES, type Run } from '../../../shared/api';
import { compareSweepValues, type Leaf } from '../../../shared/figures/data';
import type { FieldValue } from '../../../shared/query';
import { PHASE_LABELS } from '../../../shared/results';

/** Run fields to group by, before the spec's paths. */
export const GROUP_FIELDS = ['status', 'phase', 'backend', 'executor', 'tag'] as const;

export interface FieldGroup {
  key: string;
  label: string;
  runs: Run[];
}

/** Where a value sorts among the field's values: statuses and phases in their own order, else as sweep values. */
function rank(field: string, value: string | number): string | number {
  const order: readonly string[] | null = field === 'status' ? RUN_STATUSES : field === 'phase' ? PHASE_LABELS : null;
  return order ? order.indexOf(String(value)) : value;
}

/**
 * One group per value of the field, in order, runs without one last; a run with several values (tags) is in the
 * group of each.
 */
export function groupByField(runs: readonly Run[], field: string, read: (run: Run) => FieldValue): FieldGroup[] {
  const byValue = new Map<string | number | null, Run[]>();
  for (const run of runs) {
    const v = read(run);
    const values: readonly Leaf[] = Array.isArray(v) ? (v.length ? v : [null]) : [(v as Leaf | undefined) ?? null];
    for (const x of values) {
      const key = typeof x === 'boolean' ? String(x) : x;
      byValue.set(key, [...(byValue.get(key) ?? []), run]);
    }
  }
  const values = [...byValue.keys()].filter((v) => v !== null);
  values.sort((a, b) => compareSweepValues(rank(field, a), rank(field, b)));
  const groups = values.map((v) => ({ key: `${field}=${v}`, label: `${field} = ${v}`, runs: byValue.get(v)! }));
  const none = byValue.get(null);
  return none ? [...groups, { key: `${field}:none`, label: `no ${field}`, runs: none }] : groups;
}
