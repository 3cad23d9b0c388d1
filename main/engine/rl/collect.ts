// Experience for the on-policy learners, time-major [T, n] (step t of stream i at t * n + i):
// - segments (feed-forward PPO, A2C): every environment runs `rolloutSteps` steps per update and carries on
//   across updates and episode boundaries; a slot starts a new trial (a new instance) after `episodesPerTrial`
//   episodes.
// - whole trials (RL², REINFORCE): every slot starts a new trial and runs until it has completed its episodes;
//   trials are padded to the longest and masked.
import { Rng, seedFrom } from '../rng.js';
import { TRAIN } from '../envs/index.js';
import type { VecEnv } from '../envs/types.js';
import { STEP_END } from './gae.js';
import { actionSize } from './networks.js';
import type { Acted, NetPolicy } from './policy.js';

export interface Experience {
  /** Streams (environments, or trials) and steps per stream. */
  n: number;
  T: number;
  /** [T, n, inputSize]: the network's inputs. */
  inputs: Float32Array;
  /** [T, n, actionSize]. */
  actions: Float32Array;
  logProbs: Float32Array;
  rewards: Float32Array;
  /** [T + 1, n]: values, then each stream's bootstrap value after its last step. */
  values: Float32Array;
  ends: Uint8Array;
  /** V(final observation) where an episode was truncated. */
  bootValues: Float32Array;
  /** 1 on real steps, 0 on padding; null when every step is real. */
  mask: Float32Array | null;
  /** Returns of the episodes that ended during the collection. */
  episodeReturns: number[];
  envSteps: number;
}

/** The instance each new trial runs on: drawn from the training pool, or a fresh one per trial. */
export class TrialSource {
  /** Trials started so far in the run. */
  started = 0;

  constructor(
    private readonly seed: number,
    private readonly numTasks: number | 'fresh',
  ) {}

  /** The instance id (in the `train` split) of the next trial. */
  nextId(): number {
    const trial = this.started++;
    return this.numTasks === 'fresh' ? trial : new Rng(seedFrom(this.seed, 'trial', trial)).int(this.numTasks);
  }

  /** Puts the next trial's instance into `slot` (a new episode starts there). */
  next(env: VecEnv, slot: number): void {
    env.assign(slot, TRAIN, this.nextId());
  }
}

/** Per-step arrays gathered while stepping, packed into one time-major array at the end. */
class Steps<A extends Float32Array | Uint8Array> {
  readonly rows: A[] = [];
  constructor(private readonly make: (size: number) => A) {}
  pack(): A {
    const width = this.rows[0]?.length ?? 0;
    const out = this.make(this.rows.length * width);
    for (const [t, r] of this.rows.entries()) out.set(r, t * width);
    return out;
  }
}

const floats = () => new Steps<Float32Array>((size) => new Float32Array(size));

/** What both collections record at every step, packed into their Experience at the end. */
class Recording {
  readonly inputs = floats();
  readonly actions = floats();
  readonly logProbs = floats();
  readonly values = floats();
  readonly rewards = floats();
  readonly ends = new Steps<Uint8Array>((size) => new Uint8Array(size));
  readonly bootValues = floats();
  readonly episodeReturns: number[] = [];

  /** A step: what the policy did, then what the environment gave (`boot`: V(final observation) of truncations). */
  push(acted: Acted, rewards: Float32Array, end: Uint8Array, boot: Float32Array): void {
    this.inputs.rows.push(acted.inputs);
    this.actions.rows.push(acted.actions);
    this.logProbs.rows.push(acted.logProbs);
    this.values.rows.push(acted.values);
    this.rewards.rows.push(rewards);
    this.ends.rows.push(end);
    this.bootValues.rows.push(boot);
  }

  /** The Experience of `n` streams, `lastValues` each stream's bootstrap value after its last step. */
  pack(n: number, lastValues: Float32Array, mask: Float32Array | null, envSteps: number): Experience {
    this.values.rows.push(lastValues);
    return {
      n,
      T: this.ends.rows.length,
      inputs: this.inputs.pack(),
      actions: this.actions.pack(),
      logProbs: this.logProbs.pack(),
      rewards: this.rewards.pack(),
      values: this.values.pack(),
      ends: this.ends.pack(),
      bootValues: this.bootValues.pack(),
      mask,
      episodeReturns: this.episodeReturns,
      envSteps,
    };
  }
}

/** The episodes running in every slot of a feed-forward learner's environments, carried across updates. */
export class SegmentCollector {
  private obs: Float32Array;
  private readonly episodeReturn: Float64Array;
  private readonly episodesInTrial: Int32Array;

  constructor(
    readonly env: VecEnv,
    private readonly trials: TrialSource,
    private readonly episodesPerTrial: number,
  ) {
    env.reset();
    for (let i = 0; i < env.n; i++) trials.next(env, i);
    this.obs = env.observe().slice();
    this.episodeReturn = new Float64Array(env.n);
    this.episodesInTrial = new Int32Array(env.n);
  }

  /** `T` steps of every environment under `policy` (weights read), actions drawn from `rng`. */
  collect(policy: NetPolicy, T: number, rng: Rng): Experience {
    const { env } = this;
    const { n, observationSize: O } = env;
    const recording = new Recording();
    const none = { prevActions: new Float32Array(n * actionSize(env.action)), prevRewards: new Float32Array(n) };
    for (let t = 0; t < T; t++) {
      const acted = policy.step({ obs: this.obs, ...none, dones: new Uint8Array(n) }, rng, 'sample');
      const step = env.step(acted.actions);
      const end = new Uint8Array(n);
      const boot = new Float32Array(n);
      const truncated: number[] = [];
      for (let i = 0; i < n; i++) {
        end[i] = step.terminated[i] ? STEP_END.terminated : step.truncated[i] ? STEP_END.truncated : STEP_END.continues;
        if (step.truncated[i]) truncated.push(i);
      }
      if (truncated.length) {
        const finals = new Float32Array(truncated.length * O);
        for (const [r, i] of truncated.entries()) finals.set(step.finalObs.subarray(i * O, (i + 1) * O), r * O);
        const v = policy.values(finals, truncated.length);
        for (const [r, i] of truncated.entries()) boot[i] = v[r];
      }
      recording.push(acted, step.rewards.slice(), end, boot);
      for (let i = 0; i < n; i++) {
        this.episodeReturn[i] += step.rewards[i];
        if (end[i] === STEP_END.continues) continue;
        recording.episodeReturns.push(this.episodeReturn[i]);
        this.episodeReturn[i] = 0;
        if (++this.episodesInTrial[i] === this.episodesPerTrial) {
          this.episodesInTrial[i] = 0;
          this.trials.next(env, i);
        }
      }
      this.obs = env.observe().slice();
    }
    return recording.pack(n, policy.values(this.obs, n), null, T * n);
  }

  save(): unknown {
    return {
      env: this.env.save(),
      obs: Array.from(this.obs),
      episodeReturn: Array.from(this.episodeReturn),
      episodesInTrial: Array.from(this.episodesInTrial),
    };
  }

  restore(saved: unknown): void {
    const s = saved as { env: unknown; obs: number[]; episodeReturn: number[]; episodesInTrial: number[] };
    this.env.restore(s.env);
    this.obs = Float32Array.from(s.obs);
    this.episodeReturn.set(s.episodeReturn);
    this.episodesInTrial.set(s.episodesInTrial);
  }
}

/**
 * One new trial in every slot of `env`, run until each has completed `episodes` episodes. A recurrent policy's
 * trial is one stream: its inner episode ends continue it, its last step ends it (`terminated`: the lifetime is
 * over). A feed-forward policy's episodes end as the environment says (truncations bootstrap).
 */
export function collectTrials(
  env: VecEnv,
  trials: TrialSource,
  policy: NetPolicy,
  episodes: number,
  rng: Rng,
): Experience {
  const { n, observationSize: O } = env;
  const recurrent = policy.net.recurrent;
  const A = actionSize(env.action);
  for (let i = 0; i < n; i++) trials.next(env, i);
  let obs = env.observe().slice();
  policy.begin(n);
  const prevActions = new Float32Array(n * A);
  const prevRewards = new Float32Array(n);
  const dones = new Uint8Array(n).fill(1);
  const completed = new Int32Array(n);
  const episodeReturn = new Float64Array(n);
  const recording = new Recording();
  const mask = floats();
  let envSteps = 0;
  let running = n;
  while (running > 0) {
    const acted = policy.step({ obs, prevActions, prevRewards, dones }, rng, 'sample');
    const step = env.step(acted.actions);
    const live = new Float32Array(n);
    const end = new Uint8Array(n);
    const boot = new Float32Array(n);
    const reward = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      dones[i] = step.terminated[i] || step.truncated[i];
      if (completed[i] === episodes) continue; // finished its trial: padding until the others finish
      live[i] = 1;
      envSteps += 1;
      reward[i] = step.rewards[i];
      episodeReturn[i] += step.rewards[i];
      if (!dones[i]) continue;
      recording.episodeReturns.push(episodeReturn[i]);
      episodeReturn[i] = 0;
      const last = ++completed[i] === episodes;
      if (last) running -= 1;
      if (recurrent) end[i] = last ? STEP_END.terminated : STEP_END.continues;
      else end[i] = step.terminated[i] ? STEP_END.terminated : STEP_END.truncated;
      if (!recurrent && step.truncated[i]) boot[i] = policy.values(step.finalObs.slice(i * O, (i + 1) * O), 1)[0];
    }
    recording.push(acted, reward, end, boot);
    mask.rows.push(live);
    prevActions.set(acted.actions);
    prevRewards.set(step.rewards);
    obs = env.observe().slice();
  }
  // Every trial ended: nothing to bootstrap from.
  return recording.pack(n, new Float32Array(n), mask.pack(), envSteps);
}
