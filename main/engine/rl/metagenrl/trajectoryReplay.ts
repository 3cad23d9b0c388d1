// One agent's replay for MetaGenRL: a ring of transitions in the order they happened, sampled as windows of T
// consecutive steps (the sub-trajectories the learned objective reads), rather than as single transitions.
// A window starts uniformly at random among those that lie wholly in the stored history (none crosses the write
// position, where the newest step meets the oldest); its steps after the first episode end inside it are padding.
// The authors' buffer starts windows at episode starts instead; this one sees every position, masked.
import type { Rng } from '../../rng.js';
import { type RingState, restoreColumns, saveColumns, type Transitions } from '../replay.js';
import type { SavedVariable } from '../types.js';
import type { SubTrajectories } from './objective.js';

const COLUMNS = ['obs', 'actions', 'rewards', 'nextObs', 'dones', 'ends'] as const;
type Column = (typeof COLUMNS)[number];

export class TrajectoryReplay {
  private readonly columns: Record<Column, Float32Array>;
  /** Transitions stored (at most the capacity). */
  size = 0;
  /** Where the next transition goes (the oldest is overwritten once full). */
  private next = 0;

  constructor(
    readonly capacity: number,
    readonly obsSize: number,
    readonly actionSize: number,
  ) {
    this.columns = Object.fromEntries(COLUMNS.map((c) => [c, new Float32Array(capacity * this.width(c))])) as Record<
      Column,
      Float32Array
    >;
  }

  private width(column: Column): number {
    if (column === 'obs' || column === 'nextObs') return this.obsSize;
    return column === 'actions' ? this.actionSize : 1;
  }

  /**
   * Appends one step: `nextObs` is the episode's last observation where it ended, `terminated` a terminal state
   * (a time-limit truncation is not), `ended` whether the episode ended here either way.
   */
  add(
    obs: Float32Array,
    action: Float32Array,
    reward: number,
    nextObs: Float32Array,
    terminated: boolean,
    ended: boolean,
  ): void {
    const i = this.next;
    const c = this.columns;
    c.obs.set(obs.subarray(0, this.obsSize), i * this.obsSize);
    c.actions.set(action.subarray(0, this.actionSize), i * this.actionSize);
    c.rewards[i] = reward;
    c.nextObs.set(nextObs.subarray(0, this.obsSize), i * this.obsSize);
    c.dones[i] = terminated ? 1 : 0;
    c.ends[i] = ended ? 1 : 0;
    this.next = (i + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  /** Where the k-th oldest stored step is. */
  private slot(k: number): number {
    return this.size < this.capacity ? k : (this.next + k) % this.capacity;
  }

  /**
   * B windows of T consecutive steps, time-major (row t * B + b is step t of window b). Each starts uniformly among
   * the size - T + 1 windows of the stored history (while fewer than T steps are stored, the one window there is,
   * padded at its end). A step is valid until the first episode end inside its window (that step included).
   */
  sample(B: number, T: number, rng: Rng): SubTrajectories {
    if (this.size === 0) throw new Error('cannot sample from an empty replay buffer');
    const { obsSize: O, actionSize: A } = this;
    const rows = T * B;
    const out: SubTrajectories = {
      batch: B,
      length: T,
      obsSize: O,
      actionSize: A,
      obs: new Float32Array(rows * O),
      actions: new Float32Array(rows * A),
      rewards: new Float32Array(rows),
      nextObs: new Float32Array(rows * O),
      dones: new Float32Array(rows),
      mask: new Float32Array(rows),
    };
    const windows = Math.max(1, this.size - T + 1);
    const c = this.columns;
    for (let b = 0; b < B; b++) {
      const start = rng.int(windows);
      let valid = true;
      for (let t = 0; t < T && start + t < this.size; t++) {
        const i = this.slot(start + t);
        const row = t * B + b;
        out.obs.set(c.obs.subarray(i * O, (i + 1) * O), row * O);
        out.actions.set(c.actions.subarray(i * A, (i + 1) * A), row * A);
        out.rewards[row] = c.rewards[i];
        out.nextObs.set(c.nextObs.subarray(i * O, (i + 1) * O), row * O);
        out.dones[row] = c.dones[i];
        out.mask[row] = valid ? 1 : 0;
        if (c.ends[i]) valid = false;
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

/** The valid steps of a minibatch of sub-trajectories as plain transitions (what the critics learn from). */
export function validTransitions(x: SubTrajectories): Transitions {
  const { obsSize: O, actionSize: A } = x;
  const rows: number[] = [];
  x.mask.forEach((m, row) => {
    if (m) rows.push(row);
  });
  const n = rows.length;
  const out: Transitions = {
    size: n,
    obs: new Float32Array(n * O),
    actions: new Float32Array(n * A),
    rewards: new Float32Array(n),
    nextObs: new Float32Array(n * O),
    dones: new Float32Array(n),
  };
  rows.forEach((row, k) => {
    out.obs.set(x.obs.subarray(row * O, (row + 1) * O), k * O);
    out.actions.set(x.actions.subarray(row * A, (row + 1) * A), k * A);
    out.rewards[k] = x.rewards[row];
    out.nextObs.set(x.nextObs.subarray(row * O, (row + 1) * O), k * O);
    out.dones[k] = x.dones[row];
  });
  return out;
}
