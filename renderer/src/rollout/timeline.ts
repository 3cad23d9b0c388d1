// A recorded lifetime as the viewer steps through it: where each episode starts and ends, and at any frame what
// the agent saw, did and has earned so far. Pure bookkeeping over shared/rollout.ts's flat arrays.
import type { Rollout } from '../../../shared/rollout';

export interface EpisodeSpan {
  /** First frame of the episode. */
  start: number;
  /** One past its last frame. */
  end: number;
}

export interface FrameInfo {
  /** 0-based index of the episode within the lifetime, and how many episodes it has. */
  episode: number;
  episodeCount: number;
  /** 0-based step within the episode, and the episode's length in steps. */
  step: number;
  episodeLength: number;
  /** The render state the agent acted in (shared/rollout.ts). */
  state: number[];
  /** The action it took: a discrete index, or the continuous values. */
  action: number[];
  /** The reward that action earned. */
  reward: number;
  /** Return of the current episode through this frame's reward. */
  episodeReturn: number;
  /** Everything earned since the lifetime began, through this frame. */
  lifetimeReturn: number;
  /** Discrete actions: the policy's probability of each; empty for continuous ones. */
  probs: number[];
}

export class Timeline {
  readonly episodes: EpisodeSpan[] = [];
  readonly actionSize: number;
  /** cumulative[t]: rewards of frames 0..t-1. */
  private readonly cumulative: Float64Array;

  constructor(readonly rollout: Rollout) {
    const { frames, episodes, rewards } = rollout;
    this.actionSize = frames ? rollout.actions.length / frames : 0;
    for (let t = 0; t < frames; t++) {
      if (t === 0 || episodes[t] !== episodes[t - 1]) this.episodes.push({ start: t, end: t + 1 });
      else this.episodes[this.episodes.length - 1].end = t + 1;
    }
    this.cumulative = new Float64Array(frames + 1);
    for (let t = 0; t < frames; t++) this.cumulative[t + 1] = this.cumulative[t] + rewards[t];
  }

  get frames(): number {
    return this.rollout.frames;
  }

  /** Index into `episodes` of the episode frame t belongs to. */
  episodeAt(t: number): number {
    let lo = 0;
    let hi = this.episodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.episodes[mid].start <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  state(t: number): number[] {
    const n = this.rollout.stateSize;
    return this.rollout.states.slice(t * n, (t + 1) * n);
  }

  info(t: number): FrameInfo {
    const r = this.rollout;
    const k = this.episodeAt(t);
    const span = this.episodes[k];
    const a = this.actionSize;
    const n = r.actionCount;
    return {
      episode: k,
      episodeCount: this.episodes.length,
      step: t - span.start,
      episodeLength: span.end - span.start,
      state: this.state(t),
      action: r.actions.slice(t * a, (t + 1) * a),
      reward: r.rewards[t],
      episodeReturn: this.cumulative[t + 1] - this.cumulative[span.start],
      lifetimeReturn: this.cumulative[t + 1],
      probs: r.probs.length ? r.probs.slice(t * n, (t + 1) * n) : [],
    };
  }
}

/** Playback speeds offered, as multiples of the environment's own frame rate. */
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;

/** The frame `elapsedMs` after `position` (fractional, so slow speeds still advance), stopping at the last frame. */
export function advance(position: number, elapsedMs: number, fps: number, speed: number, frames: number): number {
  return Math.min(frames - 1, position + (elapsedMs / 1000) * fps * speed);
}

export type ExportScope = 'episode' | 'lifetime';

export interface ExportPlan {
  /** The frames to encode, in order. */
  frames: number[];
  /** How long each is shown. */
  delayMs: number;
}

/**
 * The frames an export encodes and how long each shows: the episode holding frame t or the whole lifetime, at the
 * playback rate; faster than `maxFps` (what video players and GIF delays can show), every n-th frame.
 */
export function exportPlan(
  timeline: Timeline,
  scope: ExportScope,
  t: number,
  fps: number,
  speed: number,
  maxFps: number,
): ExportPlan {
  const span = scope === 'lifetime' ? { start: 0, end: timeline.frames } : timeline.episodes[timeline.episodeAt(t)];
  const rate = fps * speed;
  const stride = Math.max(1, Math.ceil(rate / maxFps));
  const frames: number[] = [];
  for (let f = span.start; f < span.end; f += stride) frames.push(f);
  if (frames.at(-1) !== span.end - 1) frames.push(span.end - 1);
  return { frames, delayMs: (1000 * stride) / rate };
}
