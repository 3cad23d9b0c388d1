// Training loops run on one thread with the worker's messaging: they yield to the event loop now and then, so
// cancel messages and metric flushes get through.

/** How often a loop yields. */
const YIELD_MS = 25;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}

/**
 * What a training loop checks before each step: it yields every YIELD_MS, and once `signal` is aborted it saves a
 * checkpoint at the step reached and reports the run cancelled.
 */
export class CancelCheck {
  private lastYield = performance.now();

  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly checkpoint: (step: number) => Promise<void>,
  ) {}

  /** Whether the run is cancelled before `step` (its checkpoint then saved). */
  async cancelled(step: number): Promise<boolean> {
    if (performance.now() - this.lastYield > YIELD_MS) {
      await yieldToEventLoop();
      this.lastYield = performance.now();
    }
    if (!this.signal?.aborted) return false;
    await this.checkpoint(step);
    return true;
  }
}
