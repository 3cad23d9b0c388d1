// Laying planned runs out in time, the same in the lab's planner and in the page (which lays a spec's runs out over
// the SLURM cluster's throttle instead of this machine's concurrency).

/** When the last run ends if runs start in order, each as soon as one of `slots` is free. */
export function wallSeconds(durations: readonly number[], slots: number): number {
  const free = new Array<number>(Math.max(1, slots)).fill(0);
  for (const d of durations) {
    const slot = free.indexOf(Math.min(...free));
    free[slot] += d;
  }
  return Math.max(...free);
}
