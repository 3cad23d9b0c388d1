// What SLURM last said of a run (shared/cluster.ts SlurmRunInfo.state), as the page shows it.

/** How a SLURM state reads at a glance, in the colours of the run statuses (style.css `.status`). */
const TONES: Record<string, string> = {
  RUNNING: 'running',
  COMPLETING: 'running',
  CONFIGURING: 'queued',
  PENDING: 'queued',
  REQUEUED: 'queued',
  COMPLETED: 'finished',
  CANCELLED: 'cancelled',
  PREEMPTED: 'cancelled',
  TIMEOUT: 'interrupted',
};

/**
 * SLURM's word on a run split for display: `RUNNING on node1` is the state RUNNING and `on node1`; text that is not a
 * state (`submitting`, `cannot reach SLURM: …`) is all `rest`.
 */
export function slurmStateParts(state: string): { state: string | null; tone: string; rest: string } {
  const m = /^([A-Z][A-Z_]+)\b\s*(.*)$/s.exec(state);
  if (!m) return { state: null, tone: '', rest: state };
  return { state: m[1], tone: TONES[m[1]] ?? 'failed', rest: m[2] };
}
