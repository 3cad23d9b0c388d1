// Live views refetch what a run streams, but at most once a second however fast its ticks arrive.
import { watch } from 'vue';

/** Calls `fetch` once a second at most while `ticks` (e.g. runs' metric or evaluation ticks, joined) changes. */
export function refetchOn(ticks: () => string | number | undefined, fetch: () => Promise<void>): void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  watch(ticks, () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      void fetch();
    }, 1000);
  });
}
