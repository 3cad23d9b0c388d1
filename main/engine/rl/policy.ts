// The policy acting in its environments: the typed-array forward pass of the network's current weights
// (./fastForward.ts), the action distribution, and for a recurrent policy its memory of the lifetime and the
// count of episodes it has begun (the remaining fraction of the lifetime is one of its inputs).
import type { BatchShape } from '../envs/types.js';
import type { Rng } from '../rng.js';
import type { Param } from '../models/index.js';
import { type DenseWeights, denseLayers, type LstmMemory, lstmMemory, lstmStep, mlpForward } from './fastForward.js';
import { sampleActions } from './distributions.js';
import { distributionSize, type PolicyNet, writeRecurrentInput } from './networks.js';
import type { Policy } from './types.js';

export type ActInput = Parameters<Policy['act']>[0];

/** What one step of acting produced, per row: besides the actions, what the update needs. */
export interface Acted {
  actions: Float32Array;
  probs: Float32Array | null;
  logProbs: Float32Array;
  values: Float32Array;
  /** The network's input rows [n * inputSize] (a recurrent update re-runs them). */
  inputs: Float32Array;
}

interface Weights {
  policy: DenseWeights[];
  value: DenseWeights[] | null;
  logStd: Float32Array | null;
}

export class NetPolicy implements Policy {
  private weights: Weights | null = null;
  private memory: LstmMemory | null = null;
  /** Recurrent: episodes begun in each lifetime since `begin`. */
  private episodes = new Int32Array(0);
  /**
   * Of a padded discrete batch: each slot's own number of actions, which `act` gives no probability beyond (set by
   * begin; `step`, which an update's rollout calls, never masks: gradient learners train on batches of one count).
   */
  private actionCounts: number[] | null = null;

  constructor(readonly net: PolicyNet) {}

  /** Reads the network's weights (call after every update, before acting). */
  async refresh(): Promise<void> {
    const variables = this.net.params.map((p) => p.variable);
    const values = await Promise.all(variables.map((v) => v.data() as Promise<Float32Array>));
    const byVariable = new Map(variables.map((v, i) => [v, values[i]]));
    this.load((v) => byVariable.get(v)!);
  }

  /** The same, read synchronously (after a restore, which cannot wait). */
  refreshNow(): void {
    this.load((v) => v.dataSync() as Float32Array);
  }

  /** Acts with weights read by `valuesOf` from the network's variables (ES: perturbed copies of them). */
  load(valuesOf: (v: Param['variable']) => Float32Array): void {
    const { net } = this;
    this.weights = {
      policy: denseLayers(net.policyModel.params, valuesOf),
      value: net.valueModel ? denseLayers(net.valueModel.params, valuesOf) : null,
      logStd: net.logStd ? valuesOf(net.logStd) : null,
    };
  }

  begin(n: number, batch?: BatchShape): void {
    this.actionCounts = batch && batch.action.kind === 'discrete' ? batch.slots.map((s) => s.actions) : null;
    this.episodes = new Int32Array(n);
    if (this.net.recurrent) this.memory = lstmMemory(this.loaded().policy.slice(0, -1), n);
  }

  private loaded(): Weights {
    if (!this.weights) throw new Error('the policy acted before its weights were read (refresh)');
    return this.weights;
  }

  act(input: ActInput, rng: Rng, mode: 'sample' | 'greedy'): { actions: Float32Array; probs: Float32Array | null } {
    const { actions, probs } = this.step(input, rng, mode, false, this.actionCounts);
    return { actions, probs };
  }

  /**
   * One step on every row: the actions and their log-probabilities, the values (a feed-forward critic runs only
   * `withValues`), and the network's inputs.
   */
  step(
    input: ActInput,
    rng: Rng,
    mode: 'sample' | 'greedy',
    withValues = true,
    actionCounts: readonly number[] | null = null,
  ): Acted {
    const w = this.loaded();
    const { net } = this;
    const { shape } = net;
    const n = input.dones.length;
    const P = distributionSize(shape.action);
    let dist: Float32Array;
    let values: Float32Array;
    let inputs: Float32Array;
    if (net.recurrent) {
      if (!this.memory || this.episodes.length !== n)
        throw new Error(`the policy acted on ${n} lifetimes before begin`);
      inputs = new Float32Array(n * net.inputSize);
      const remaining = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const first = this.episodes[i] === 0;
        if (input.dones[i]) this.episodes[i] += 1;
        remaining[i] = Math.max(0, shape.lifetime - this.episodes[i] + 1) / shape.lifetime;
        const { obs, prevActions, prevRewards, dones } = input;
        writeRecurrentInput(inputs, i, shape, obs, prevActions, prevRewards[i], dones[i], remaining[i], first);
      }
      const out = lstmStep(w.policy.slice(0, -1), w.policy.at(-1)!, this.memory, inputs, n);
      dist = new Float32Array(n * P);
      values = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < P; j++) dist[i * P + j] = out[i * (P + 1) + j];
        values[i] = out[i * (P + 1) + P] * Math.fround(remaining[i] * shape.lifetime);
      }
    } else {
      inputs = input.obs.slice(0, n * net.inputSize);
      dist = mlpForward(w.policy, inputs, n, net.activation);
      values = withValues ? this.values(inputs, n) : new Float32Array(n); // acting alone needs no critic
    }
    if (actionCounts) for (let i = 0; i < n; i++) dist.fill(-Infinity, i * P + actionCounts[i], (i + 1) * P);
    return { ...sampleActions(shape.action, dist, w.logStd, n, rng, mode), values, inputs };
  }

  /** A feed-forward policy's value of `rows` observations (to bootstrap from). */
  values(obs: Float32Array, rows: number): Float32Array {
    const value = this.loaded().value;
    if (!value) throw new Error('a recurrent policy values its states while acting');
    return mlpForward(value, obs, rows, this.net.activation);
  }
}
