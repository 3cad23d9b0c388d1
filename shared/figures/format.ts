export function formatNumber(v: number | string | null | undefined, digits = 4): string {
  if (v === null || v === undefined) return '–';
  if (typeof v === 'string') return v;
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(2) : v.toPrecision(digits);
}

export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h ${m}m` : m ? `${m}m ${s % 60}s` : `${s}s`;
}

/** A moment as local date and time to the minute: 2026-12-03 08:14. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** Seconds a run has run: from its start to its end, or to `now` while it has none; null before it started. */
export function runSeconds(run: { startedAt: number | null; finishedAt: number | null }, now: number): number | null {
  return run.startedAt === null ? null : ((run.finishedAt ?? now) - run.startedAt) / 1000;
}

export function formatPoint(point: Record<string, number | string>): string {
  const entries = Object.entries(point);
  return entries.length ? entries.map(([k, v]) => `${k.split('.').pop()}=${v}`).join(', ') : '–';
}

/** An axis label: up to six significant digits (ticks close together stay apart), no float noise or trailing zeros. */
export function formatAxis(v: number): string {
  return String(Number(v.toPrecision(6)));
}
