// The batch: N slots of one environment model stepped together on typed arrays, each slot holding one instance
// (its constants, maze or arm probabilities, and its own permutations and projection) and its own generator.
// Ended episodes reset at once (auto-reset); the step reports the episode's last observation in finalObs.
import type { EnvName } from '../../../shared/spec.js';
import { Rng } from '../rng.js';
import { actionSize, type EnvModel, type Slots } from './model.js';
import type { ActionSpace, SlotShape, VecEnv, VecStep } from './types.js';

/** One instance of a task distribution: what a slot takes on when it is assigned (./family.ts draws them). */
export interface Instance {
  /** [instanceSize]: the physical constants, then the model's own data. */
  data: Float64Array;
  /** The agent's observation j is the environment's observation[perm[j]] (before any projection). */
  observationPermutation: Int32Array | null;
  /** The agent's discrete action a is the environment's action perm[a]. */
  actionPermutation: Int32Array | null;
  /** [d, d] row-major: the agent sees P o (o permuted first, when both apply). */
  projection: Float32Array | null;
}

export type InstanceMaker = (split: string, id: number) => Instance;

interface Saved {
  env: EnvName;
  n: number;
  /** The slots' seeds: a batch restores only what a batch made like it (same task seed and slots) saved. */
  seeds: number[];
  slots: [split: string, id: number][];
  state: number[];
  steps: number[];
  rngs: number[][];
  ready: boolean;
}

export class BatchEnv implements VecEnv {
  readonly observationSize: number;
  readonly action: ActionSpace;
  readonly maxSteps: number;
  readonly renderStateSize: number;
  private readonly x: Slots & { rngs: Rng[] };
  private readonly out: VecStep;
  private readonly steps: Int32Array;
  /** Actions as the model receives them: permuted indices, or values clipped to the bounds. */
  private readonly act: Float32Array;
  private readonly slots: [string, number][];
  private readonly observationPermutation: Int32Array | null;
  private readonly actionPermutation: Int32Array | null;
  private readonly projection: Float32Array | null;
  /** One slot's observation before its permutation, and after it. */
  private readonly raw: Float32Array;
  private readonly permuted: Float32Array;
  private ready = false;
  private finalObsDirty = false;

  constructor(
    readonly name: EnvName,
    private readonly model: EnvModel,
    private readonly slotSeeds: readonly number[],
    private readonly makeInstance: InstanceMaker,
    split: string,
    ids: readonly number[],
  ) {
    const n = slotSeeds.length;
    if (n < 1) throw new Error('a batch needs at least one slot');
    if (ids.length !== n) throw new Error(`${ids.length} instance ids for ${n} slots`);
    const d = model.observationSize;
    this.observationSize = d;
    this.action = model.action;
    this.maxSteps = model.timeLimit;
    this.renderStateSize = model.renderStateSize;
    this.out = {
      obs: new Float32Array(n * d),
      rewards: new Float32Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      finalObs: new Float32Array(n * d),
    };
    this.x = {
      state: new Float64Array(n * model.stateSize),
      inst: new Float64Array(n * model.instanceSize),
      rngs: slotSeeds.map((s) => new Rng(s)),
      rewards: this.out.rewards,
      terminated: this.out.terminated,
    };
    this.steps = new Int32Array(n);
    this.act = new Float32Array(n * actionSize(model.action));
    this.raw = new Float32Array(d);
    this.permuted = new Float32Array(d);
    this.slots = ids.map((id) => [split, id]);
    // Which transforms the task applies is the same for every instance: the first one shows it.
    const first = makeInstance(split, ids[0]);
    const actions = model.action.kind === 'discrete' ? model.action.n : 0;
    this.observationPermutation = first.observationPermutation && new Int32Array(n * d);
    this.actionPermutation = first.actionPermutation && new Int32Array(n * actions);
    this.projection = first.projection && new Float32Array(n * d * d);
    for (let i = 0; i < n; i++) this.place(i, i === 0 ? first : makeInstance(split, ids[i]));
  }

  get n(): number {
    return this.slotSeeds.length;
  }

  reset(): Float32Array {
    for (let i = 0; i < this.n; i++) this.begin(i);
    this.out.finalObs.fill(0);
    this.out.terminated.fill(0);
    this.out.truncated.fill(0);
    this.ready = true;
    return this.out.obs;
  }

  assign(slot: number, split: string, id: number): Float32Array {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.n) throw new Error(`no slot ${slot} of ${this.n}`);
    this.place(slot, this.makeInstance(split, id));
    this.slots[slot] = [split, id];
    this.begin(slot);
    const d = this.observationSize;
    return this.out.obs.subarray(slot * d, slot * d + d);
  }

  observe(): Float32Array {
    return this.out.obs;
  }

  step(actions: Float32Array): VecStep {
    if (!this.ready) throw new Error('call reset() before the first step');
    const { model, x, out, act, steps } = this;
    const n = this.n;
    const space = model.action;
    const A = actionSize(space);
    if (actions.length !== n * A) throw new Error(`expected ${n * A} actions, got ${actions.length}`);
    // Every action is checked (and mapped) before any slot moves, so a refused batch changes nothing.
    if (space.kind === 'discrete') {
      for (let i = 0; i < n; i++) {
        const a = actions[i];
        if (!(Number.isInteger(a) && a >= 0 && a < space.n)) throw new Error(`action ${a} is not in 0..${space.n - 1}`);
        act[i] = this.actionPermutation ? this.actionPermutation[i * space.n + a] : a;
      }
    } else {
      for (let k = 0; k < n * A; k++) {
        if (Number.isNaN(actions[k])) throw new Error('action NaN');
        act[k] = Math.min(Math.max(actions[k], space.low), space.high);
      }
    }
    if (this.finalObsDirty) out.finalObs.fill(0);
    this.finalObsDirty = false;
    const limit = this.maxSteps;
    for (let i = 0; i < n; i++) {
      model.step(x, i, act);
      steps[i] += 1;
      const truncated = !x.terminated[i] && steps[i] >= limit ? 1 : 0;
      out.truncated[i] = truncated;
      if (x.terminated[i] || truncated) {
        this.observeSlot(i, out.finalObs);
        this.finalObsDirty = true;
        model.reset(x, i);
        steps[i] = 0;
      }
      this.observeSlot(i, out.obs);
    }
    return out;
  }

  envOf(): EnvName {
    return this.name;
  }

  slotShape(): SlotShape {
    const { action } = this;
    return { observationSize: this.observationSize, actions: action.kind === 'discrete' ? action.n : action.size };
  }

  envAction(i: number, actions: Float32Array): number[] {
    const space = this.model.action;
    if (space.kind === 'discrete') return [actions[i]];
    const taken = Array.from(actions.subarray(i * space.size, (i + 1) * space.size));
    return taken.map((a) => Math.min(space.high, Math.max(space.low, a)));
  }

  renderState(i: number): number[] {
    return this.model.renderState(this.x, i);
  }

  params(i: number): Record<string, number> {
    return this.model.params(this.x, i);
  }

  save(): Saved {
    return {
      env: this.name,
      n: this.n,
      seeds: [...this.slotSeeds],
      slots: this.slots.map(([split, id]) => [split, id]),
      state: Array.from(this.x.state),
      steps: Array.from(this.steps),
      rngs: this.x.rngs.map((r) => r.state()),
      ready: this.ready,
    };
  }

  restore(saved: unknown): void {
    const s = saved as Saved;
    if (s?.env !== this.name || s.n !== this.n || s.state?.length !== this.x.state.length)
      throw new Error(`not a saved ${this.name} batch of ${this.n}`);
    if (s.seeds.some((seed, i) => seed !== this.slotSeeds[i]))
      throw new Error('this batch was saved by one made with another seed or other slots');
    s.slots.forEach(([split, id], i) => {
      this.place(i, this.makeInstance(split, id));
      this.slots[i] = [split, id];
    });
    this.x.state.set(s.state);
    this.steps.set(s.steps);
    s.rngs.forEach((r, i) => {
      this.x.rngs[i] = Rng.fromState(r);
    });
    this.ready = s.ready;
    for (let i = 0; i < this.n; i++) this.observeSlot(i, this.out.obs);
    this.out.finalObs.fill(0);
  }

  /** Copies an instance into slot i. */
  private place(i: number, inst: Instance): void {
    const { model } = this;
    const d = this.observationSize;
    this.x.inst.set(inst.data, i * model.instanceSize);
    // A new trial: state the model keeps across its episodes (a swapping bandit's pull count) starts again.
    this.x.state.fill(0, i * model.stateSize, (i + 1) * model.stateSize);
    if (inst.observationPermutation) this.observationPermutation?.set(inst.observationPermutation, i * d);
    if (inst.actionPermutation && model.action.kind === 'discrete')
      this.actionPermutation?.set(inst.actionPermutation, i * model.action.n);
    if (inst.projection) this.projection?.set(inst.projection, i * d * d);
  }

  /** A new episode in slot i, and its first observation. */
  private begin(i: number): void {
    this.model.reset(this.x, i);
    this.steps[i] = 0;
    this.observeSlot(i, this.out.obs);
  }

  /** Slot i's observation as the agent sees it (permuted, projected), at into[i * d]. */
  private observeSlot(i: number, into: Float32Array): void {
    const d = this.observationSize;
    const { observationPermutation: perm, projection } = this;
    if (!perm && !projection) {
      this.model.observe(this.x, i, into, i * d);
      return;
    }
    this.model.observe(this.x, i, this.raw, 0);
    let o = this.raw;
    if (perm) {
      for (let j = 0; j < d; j++) this.permuted[j] = this.raw[perm[i * d + j]];
      o = this.permuted;
    }
    if (!projection) {
      into.set(o, i * d);
      return;
    }
    for (let k = 0; k < d; k++) {
      let sum = 0;
      const row = (i * d + k) * d;
      for (let j = 0; j < d; j++) sum += projection[row + j] * o[j];
      into[i * d + k] = sum;
    }
  }
}
