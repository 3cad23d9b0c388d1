// A replay buffer for off-policy learners (TD3): a ring of transitions in typed-array columns, sampled
// uniformly with replacement (as Fujimoto et al.'s and Stable-Baselines3's buffers are).
import type { Rng } from '../rng.js';
import type { SavedVariable } from './types.js';

/** A minibatch of transitions, row-major columns. `dones` is 1 only where the episode terminated. */
export interface Transitions {
  size: number;
  obs: Float32Array;
  actions: Float32Array;
  rewards: Float32Array;
  nextObs: Float32Array;
  dones: Float32Array;
}

const COLUMNS = ['obs', 'actions', 'rewards', 'nextObs', 'dones'] as const;

export class ReplayBuffer {
  private readonly columns: Record<(typeof COLUMNS)[number], Float32Array>;
  /** Transitions stored (at most the capacity). */
  size = 0;
  /** Where the next transition goes (the oldest is overwritten once full). */
  private next = 0;

  constructor(
    readonly capacity: number,
    readonly obsSize: number,
    readonly actionSize: number,
  ) {
    this.columns = {
      obs: new Float32Array(capacity * obsSize),
      actions: new Float32Array(capacity * actionSize),
      rewards: new Float32Array(capacity),
      nextObs: new Float32Array(capacity * obsSize),
      dones: new Float32Array(capacity),
    };
  }

  private width(column: (typeof COLUMNS)[number]): number {
    if (column === 'obs' || column === 'nextObs') return this.obsSize;
    return column === 'actions' ? this.actionSize : 1;
  }

  add(obs: Float32Array, action: Float32Array, reward: number, nextObs: Float32Array, terminated: boolean): void {
    const i = this.next;
    const c = this.columns;
    c.obs.set(obs.subarray(0, this.obsSize), i * this.obsSize);
    c.actions.set(action.subarray(0, this.actionSize), i * this.actionSize);
    c.rewards[i] = reward;
    c.nextObs.set(nextObs.subarray(0, this.obsSize), i * this.obsSize);
    c.dones[i] = terminated ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** `count` transitions drawn uniformly with replacement. */
  sample(count: number, rng: Rng): Transitions {
    if (this.size === 0) throw new Error('cannot sample from an empty replay buffer');
    const out: Transitions = {
      size: count,
      obs: new Float32Array(count * this.obsSize),
      actions: new Float32Array(count * this.actionSize),
      rewards: new Float32Array(count),
      nextObs: new Float32Array(count * this.obsSize),
      dones: new Float32Array(count),
    };
    for (let k = 0; k < count; k++) {
      const i = rng.int(this.size);
      for (const column of COLUMNS) {
        const w = this.width(column);
        out[column].set(this.columns[column].subarray(i * w, (i + 1) * w), k * w);
      }
    }
    return out;
  }

  /** The stored rows of every column, as checkpoint tensors named `<prefix><column>`. */
  save(prefix: string): { tensors: SavedVariable[]; state: { size: number; next: number } } {
    const tensors = COLUMNS.map((column) => {
      const w = this.width(column);
      return { name: prefix + column, shape: [this.size, w], values: this.columns[column].slice(0, this.size * w) };
    });
    return { tensors, state: { size: this.size, next: this.next } };
  }

  restore(prefix: string, tensors: readonly SavedVariable[], state: { size: number; next: number }): void {
    if (state.size > this.capacity) throw new Error(`a replay buffer of ${state.size} does not fit ${this.capacity}`);
    for (const column of COLUMNS) {
      const saved = tensors.find((t) => t.name === prefix + column);
      const w = this.width(column);
      if (!saved || saved.values.length !== state.size * w) throw new Error(`checkpoint lacks ${prefix}${column}`);
      this.columns[column].fill(0);
      this.columns[column].set(saved.values);
    }
    this.size = state.size;
    this.next = state.next;
  }
}
