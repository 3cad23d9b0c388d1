// Metric series computed the slow way in JS, for the store's tests.
import { bucketWidth, LEVEL_SHIFTS } from '../../main/services/store/metrics';

/**
 * What getSeries must return, computed the slow way: buckets of width w aligned to its multiples (`width`, else
 * getSeries's own for [from, to] and n points).
 */
export function bruteForce(rows: [number, number | null][], from: number, to: number, n: number, width?: number) {
  const w = width ?? bucketWidth(from, to, n).w;
  const buckets = new Map<number, [number, number | null][]>();
  for (const [step, value] of [...rows].sort((a, b) => a[0] - b[0])) {
    if (step < from || step > to) continue;
    const b = Math.floor(step / w);
    const bucket = buckets.get(b) ?? [];
    bucket.push([step, value]);
    buckets.set(b, bucket);
  }
  const out = {
    steps: [] as number[],
    min: [] as (number | null)[],
    max: [] as (number | null)[],
    last: [] as (number | null)[],
  };
  for (const bucket of buckets.values()) {
    const values = bucket.map(([, v]) => v).filter((v): v is number => v !== null);
    const last = bucket.reduce((a, b) => (b[0] > a[0] ? b : a));
    out.steps.push(last[0]);
    out.min.push(values.length ? Math.min(...values) : null);
    out.max.push(values.length ? Math.max(...values) : null);
    out.last.push(last[1]);
  }
  return out;
}

/** Every level bucket of a series as the store keeps it: key, level, bucket, min, max, count, last_step, last. */
export function bruteForceLevels(key: string, rows: [number, number | null][]) {
  const out: [string, number, number, number | null, number | null, number, number, number | null][] = [];
  for (const shift of LEVEL_SHIFTS) {
    const b = bruteForce(rows, 0, Number.MAX_SAFE_INTEGER, 2, 1 << shift);
    b.steps.forEach((step, i) => {
      const count = rows.filter(([s]) => s >> shift === step >> shift).length;
      out.push([key, shift, step >> shift, b.min[i], b.max[i], count, step, b.last[i]]);
    });
  }
  return out;
}
