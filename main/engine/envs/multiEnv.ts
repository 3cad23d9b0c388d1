// Several environments in one batch, padded to one interface, for a policy meta-trained across environments (RL²;
// ./family.ts says which instance is on which environment). Every slot holds an instance of one of them, and a new
// trial (assign) may move it to another. Observations: the largest size, each environment's zero-padded after its
// own numbers. Actions: all discrete, the largest count, passed through (a slot refuses an index its environment
// lacks: a policy acting on such a batch gives those no probability, see slotShape); or all continuous: a box
// [-1, 1] of the largest size, which each slot clips and maps onto its environment's own box (its first k
// dimensions scaled, centre + a (high - low) / 2, the rest ignored), so a policy's action means the same fraction of
// every environment's range. Each slot keeps one single-slot batch (./vecEnv.ts) per environment it has been on, made
// when it first lands there with a generator of its own (seeded from the slot's seed and the environment's index),
// so coming back to an environment continues that stream of initial states.
import type { EnvName } from '../../../shared/spec.js';
import { seedFrom } from '../rng.js';
import { actionSize, type EnvModel } from './model.js';
import type { ActionSpace, SlotShape, VecEnv, VecStep } from './types.js';
import { BatchEnv, type InstanceMaker } from './vecEnv.js';

/** One of the environments a batch may hold. */
export interface Member {
  name: EnvName;
  model: EnvModel;
}

/** Whether two action spaces are alike: both continuous, or both discrete with the same count. */
export const padsWith = (a: ActionSpace, b: ActionSpace): boolean =>
  a.kind === 'box' ? b.kind === 'box' : b.kind === 'discrete' && a.n === b.n;

/** The one action space of several environments (see the top); refuses a mix of discrete and continuous ones. */
export function paddedAction(members: readonly Member[]): ActionSpace {
  const first = members[0].model.action;
  const odd = members.find((m) => m.model.action.kind !== first.kind);
  if (odd)
    throw new Error(
      `${odd.name} has ${odd.model.action.kind === 'box' ? 'continuous' : 'discrete'} actions, ${members[0].name} ` +
        `${first.kind === 'box' ? 'continuous' : 'discrete'} ones: environments of one batch need one kind`,
    );
  const widest = Math.max(...members.map((m) => actionSize(m.model.action)));
  if (first.kind === 'discrete')
    return { kind: 'discrete', n: Math.max(...members.map((m) => (m.model.action as typeof first).n)) };
  return { kind: 'box', size: widest, low: -1, high: 1 };
}

/** Where the slots start: instance ids[i] of `split`, and the map from an instance to its environment's index. */
export interface Placement {
  split: string;
  ids: readonly number[];
  envOf: (split: string, id: number) => number;
}

/** A slot's batch on one environment, and the instance it holds (to remake the batch on restore). */
interface Visit {
  env: BatchEnv;
  split: string;
  id: number;
}

interface Saved {
  envs: EnvName[];
  n: number;
  /** Per slot: the environment it is on, and every environment it has been on with that batch's state. */
  active: number[];
  visits: [env: number, split: string, id: number, state: unknown][][];
  ready: boolean;
}

export class MultiEnv implements VecEnv {
  readonly name: EnvName;
  readonly observationSize: number;
  readonly action: ActionSpace;
  readonly maxSteps: number;
  readonly renderStateSize: number;
  private readonly visits: Map<number, Visit>[];
  private readonly active: Int32Array;
  private readonly out: VecStep;
  /** Per environment: one slot's action as its batch takes it. */
  private readonly envActions: Float32Array[];
  private ready = false;
  private finalObsDirty = false;

  constructor(
    private readonly members: readonly Member[],
    private readonly slotSeeds: readonly number[],
    private readonly makeInstance: InstanceMaker,
    private readonly placement: Placement,
  ) {
    const n = slotSeeds.length;
    if (n < 1) throw new Error('a batch needs at least one slot');
    if (placement.ids.length !== n) throw new Error(`${placement.ids.length} instance ids for ${n} slots`);
    this.name = members[0].name;
    this.action = paddedAction(members);
    const models = members.map((m) => m.model);
    this.observationSize = Math.max(...models.map((m) => m.observationSize));
    this.maxSteps = Math.max(...models.map((m) => m.timeLimit));
    this.renderStateSize = Math.max(...models.map((m) => m.renderStateSize));
    const d = this.observationSize;
    this.out = {
      obs: new Float32Array(n * d),
      rewards: new Float32Array(n),
      terminated: new Uint8Array(n),
      truncated: new Uint8Array(n),
      finalObs: new Float32Array(n * d),
    };
    this.envActions = models.map((m) => new Float32Array(actionSize(m.action)));
    this.visits = slotSeeds.map(() => new Map());
    this.active = new Int32Array(n);
    for (let i = 0; i < n; i++) this.land(i, placement.split, placement.ids[i], false);
  }

  get n(): number {
    return this.slotSeeds.length;
  }

  reset(): Float32Array {
    for (let i = 0; i < this.n; i++) this.pad(i, this.current(i).reset(), this.out.obs);
    this.out.finalObs.fill(0);
    this.out.terminated.fill(0);
    this.out.truncated.fill(0);
    this.ready = true;
    return this.out.obs;
  }

  assign(slot: number, split: string, id: number): Float32Array {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.n) throw new Error(`no slot ${slot} of ${this.n}`);
    this.land(slot, split, id);
    const d = this.observationSize;
    return this.out.obs.subarray(slot * d, slot * d + d);
  }

  observe(): Float32Array {
    return this.out.obs;
  }

  step(actions: Float32Array): VecStep {
    if (!this.ready) throw new Error('call reset() before the first step');
    const { n, out, action } = this;
    const A = actionSize(action);
    if (actions.length !== n * A) throw new Error(`expected ${n * A} actions, got ${actions.length}`);
    // Every action is checked before any slot moves, so a refused batch changes nothing.
    for (let k = 0; k < n * A; k++) {
      const a = actions[k];
      if (action.kind === 'discrete' && !(Number.isInteger(a) && a >= 0 && a < action.n))
        throw new Error(`action ${a} is not in 0..${action.n - 1}`);
      if (Number.isNaN(a)) throw new Error('action NaN');
    }
    if (this.finalObsDirty) out.finalObs.fill(0);
    this.finalObsDirty = false;
    for (let i = 0; i < n; i++) {
      const r = this.current(i).step(this.mapped(i, actions));
      out.rewards[i] = r.rewards[0];
      out.terminated[i] = r.terminated[0];
      out.truncated[i] = r.truncated[0];
      if (r.terminated[0] || r.truncated[0]) {
        this.pad(i, r.finalObs, out.finalObs);
        this.finalObsDirty = true;
      }
      this.pad(i, r.obs, out.obs);
    }
    return out;
  }

  envOf(i: number): EnvName {
    return this.members[this.active[i]].name;
  }

  slotShape(i: number): SlotShape {
    return this.current(i).slotShape();
  }

  envAction(i: number, actions: Float32Array): number[] {
    return this.current(i).envAction(0, this.mapped(i, actions));
  }

  renderState(i: number): number[] {
    return this.current(i).renderState(0);
  }

  params(i: number): Record<string, number> {
    return this.current(i).params(0);
  }

  save(): Saved {
    return {
      envs: this.members.map((m) => m.name),
      n: this.n,
      active: Array.from(this.active),
      visits: this.visits.map((byEnv) => [...byEnv].map(([e, v]) => [e, v.split, v.id, v.env.save()])),
      ready: this.ready,
    };
  }

  restore(saved: unknown): void {
    const s = saved as Saved;
    const names = this.members.map((m) => m.name);
    if (s?.n !== this.n || s.envs?.join() !== names.join())
      throw new Error(`not a saved batch of ${this.n} on ${names.join(', ')}`);
    s.visits.forEach((visits, i) => {
      const byEnv = new Map<number, Visit>();
      for (const [e, split, id, state] of visits) {
        const env = this.visits[i].get(e)?.env ?? this.make(i, e, split, id);
        env.restore(state);
        byEnv.set(e, { env, split, id });
      }
      this.visits[i] = byEnv;
    });
    this.active.set(s.active);
    this.ready = s.ready;
    for (let i = 0; i < this.n; i++) this.pad(i, this.current(i).observe(), this.out.obs);
    this.out.finalObs.fill(0);
    this.finalObsDirty = false;
  }

  private current(i: number): BatchEnv {
    return this.visits[i].get(this.active[i])!.env;
  }

  /** Slot i's batch on environment e, holding instance (split, id), before its first episode. */
  private make(i: number, e: number, split: string, id: number): BatchEnv {
    const { name, model } = this.members[e];
    return new BatchEnv(name, model, [seedFrom(this.slotSeeds[i], e)], this.makeInstance, split, [id]);
  }

  /**
   * Puts instance (split, id) into slot i, on its environment: made there (its batch's first episode starts at the
   * reset, or at once after it), or moved there to a new episode. Before the first reset a slot keeps only the batch
   * it is on: what it left had not run.
   */
  private land(i: number, split: string, id: number, start = true): void {
    const e = this.placement.envOf(split, id);
    const visits = this.visits[i];
    if (!this.ready) visits.clear();
    const visit = visits.get(e);
    if (visit) {
      visit.env.assign(0, split, id);
      visit.split = split;
      visit.id = id;
    } else {
      const env = this.make(i, e, split, id);
      if (start) env.reset();
      visits.set(e, { env, split, id });
    }
    this.active[i] = e;
    this.pad(i, this.current(i).observe(), this.out.obs);
  }

  /** Slot i's share of the batch's actions as its environment's batch takes it (see the top). */
  private mapped(i: number, actions: Float32Array): Float32Array {
    const e = this.active[i];
    const into = this.envActions[e];
    const own = this.members[e].model.action;
    if (own.kind === 'discrete') {
      into[0] = actions[i];
      return into;
    }
    const A = actionSize(this.action);
    const centre = (own.low + own.high) / 2;
    const half = (own.high - own.low) / 2;
    for (let j = 0; j < own.size; j++) into[j] = centre + Math.min(1, Math.max(-1, actions[i * A + j])) * half;
    return into;
  }

  /** Writes one slot's observation into row i of `into`, zero-padded. */
  private pad(i: number, obs: Float32Array, into: Float32Array): void {
    const d = this.observationSize;
    into.set(obs, i * d);
    into.fill(0, i * d + obs.length, (i + 1) * d);
  }
}
