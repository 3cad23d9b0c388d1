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
  save(prefix: string): { tensors: SavedVariable[]; state: RingState } {
    return saveColumns(prefix, COLUMNS, this.columns, (c) => this.width(c), { size: this.size, next: this.next });
  }

  restore(prefix: string, tensors: readonly SavedVariable[], state: RingState): void {
    restoreColumns(prefix, tensors, COLUMNS, this.columns, (c) => this.width(c), this.capacity, state);
    this.size = state.size;
    this.next = state.next;
  }
}

/** Where a ring of columns stands: rows stored, and where the next goes. */
export interface RingState {
  size: number;
  next: number;
}

/** The first `size` rows of each column (of `width(c)` numbers a row), as checkpoint tensors `<prefix><column>`. */
export function saveColumns<C extends string>(
  prefix: string,
  names: readonly C[],
  columns: Record<C, Float32Array>,
  width: (c: C) => number,
  state: RingState,
): { tensors: SavedVariable[]; state: RingState } {
  const tensors = names.map((c) => ({
    name: prefix + c,
    shape: [state.size, width(c)],
    values: columns[c].slice(0, state.size * width(c)),
  }));
  return { tensors, state: { ...state } };
}

/** The columns as saveColumns saved them; a checkpoint that lacks one, or does not fit, is refused. */
export function restoreColumns<C extends string>(
  prefix: string,
  tensors: readonly SavedVariable[],
  names: readonly C[],
  columns: Record<C, Float32Array>,
  width: (c: C) => number,
  capacity: number,
  state: RingState,
): void {
  if (state.size > capacity) throw new Error(`a replay buffer of ${state.size} does not fit ${capacity}`);
  for (const c of names) {
    const saved = tensors.find((t) => t.name === prefix + c);
    if (!saved || saved.values.length !== state.size * width(c)) throw new Error(`checkpoint lacks ${prefix}${c}`);
    columns[c].fill(0);
    columns[c].set(saved.values);
  }
}
