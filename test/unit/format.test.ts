// The page's and the CLI's times and durations of runs (shared/figures/format.ts).
import { describe, expect, it } from 'vitest';
import { formatDuration, formatTime, runSeconds } from '../../shared/figures/format';

describe('run times', () => {
  it('a run runs from its start to its end, or until now; not at all before it starts', () => {
    const start = Date.UTC(2026, 11, 3, 8, 0, 0);
    expect(runSeconds({ startedAt: start, finishedAt: start + 95_000 }, start + 10 ** 9)).toBe(95);
    expect(runSeconds({ startedAt: start, finishedAt: null }, start + 3_725_000)).toBe(3725);
    expect(runSeconds({ startedAt: null, finishedAt: null }, start)).toBeNull();
    expect([95, 3725, 4].map(formatDuration)).toEqual(['1m 35s', '1h 2m', '4s']);
  });

  it('a moment is its local date and time to the minute', () => {
    const local = new Date(2026, 0, 5, 7, 3, 59).getTime();
    expect(formatTime(local)).toBe('2026-01-05 07:03');
    expect(formatTime(null)).toBe('–');
  });
});
