// Generalised advantage estimation (Schulman et al. 2016) on time-major typed arrays [T, n]: step t of
// stream i at t * n + i. How each step ends decides what its TD error bootstraps from and whether the
// estimate propagates back through it.

/** How a step ends: the stream goes on, its episode terminated (no future), or hit its time limit. */
export const STEP_END = { continues: 0, terminated: 1, truncated: 2 } as const;

export interface GaeInput {
  /** Streams (environments or trials) side by side. */
  n: number;
  /** Steps per stream. */
  T: number;
  rewards: Float32Array;
  /** [T + 1, n]: V(s_t), then the value of the state each stream reached after its last step. */
  values: Float32Array;
  /** [T, n] STEP_END codes. A padded step after a stream's end is never reached (the end stops propagation). */
  ends: Uint8Array;
  /** [T, n]: for truncated steps, V of the episode's final observation (read nowhere else). */
  bootValues: Float32Array;
  discount: number;
  lambda: number;
}

/**
 * Advantages A_t = sum_k (gamma lambda)^k delta_{t+k} and returns A_t + V(s_t), where delta_t = r_t + gamma
 * V_next - V(s_t). V_next is 0 after a termination, V(final observation) after a truncation (a time limit is
 * no terminal state), and V(s_{t+1}) otherwise; propagation stops at either end of an episode. An RL² trial
 * marks its inner episode boundaries `continues` (its return runs through them) and its last step `terminated`.
 */
export function gae(input: GaeInput): { advantages: Float32Array; returns: Float32Array } {
  const { n, T, rewards, values, ends, bootValues, discount, lambda } = input;
  const advantages = new Float32Array(T * n);
  const returns = new Float32Array(T * n);
  for (let i = 0; i < n; i++) {
    let next = 0;
    for (let t = T - 1; t >= 0; t--) {
      const k = t * n + i;
      const end = ends[k];
      const nextValue = end === STEP_END.terminated ? 0 : end === STEP_END.truncated ? bootValues[k] : values[k + n];
      const delta = rewards[k] + discount * nextValue - values[k];
      next = delta + (end === STEP_END.continues ? discount * lambda * next : 0);
      advantages[k] = next;
      returns[k] = next + values[k];
    }
  }
  return { advantages, returns };
}
