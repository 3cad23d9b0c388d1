// How each environment is drawn: a Scene turns one frame of a recorded lifetime into shapes (./shapes.ts). The
// registry (./scenes/index.ts) holds one per environment of shared/spec.ts.
import type { Rollout } from '../../../shared/rollout';
import type { EnvSpec } from '../../../shared/spec';
import type { Box, Shape } from './shapes';
import type { FrameInfo, Timeline } from './timeline';

export interface FrameView {
  timeline: Timeline;
  t: number;
  info: FrameInfo;
  /** The run's environment spec, where a scene needs more than the rollout (a grid world's observation). */
  env: EnvSpec | null;
}

export interface Scene {
  /** Width over height of the drawing. */
  aspect: number;
  /** Frames a second at 1x: Gymnasium's render rate, or for bandits and mazes a pace one can follow. */
  fps: number;
  /** What one episode of the lifetime is called ('pull' for a bandit, whose episodes are single pulls). */
  episodeName: 'episode' | 'pull';
  /** Names of the discrete actions, or of the continuous action's dimensions. */
  actionLabels(r: Rollout): string[];
  /** Continuous actions: the largest magnitude the environment accepts (the action bars' scale). */
  actionBound?: number;
  draw(view: FrameView, box: Box): Shape[];
}

/** Height of the caption line above every scene (episode, step, return): exported frames carry it too. */
export const CAPTION = 26;

/** A return or reward as text: at most two decimals (two significant digits below 0.01), no float noise. */
export function formatReturn(v: number): string {
  return v !== 0 && Math.abs(v) < 0.01 ? String(Number(v.toPrecision(2))) : String(Number(v.toFixed(2)));
}

/** The caption: where in the lifetime the frame is, and what has been earned. */
export function caption(scene: Scene, info: FrameInfo): string {
  const k = `${info.episode + 1}/${info.episodeCount}`;
  if (scene.episodeName === 'pull')
    return `pull ${k} · reward ${formatReturn(info.reward)} · total ${formatReturn(info.lifetimeReturn)}`;
  return `episode ${k} · step ${info.step + 1}/${info.episodeLength} · return ${formatReturn(info.episodeReturn)}`;
}

/** A whole frame: the caption line, then the scene below it. */
export function frameShapes(scene: Scene, view: FrameView, width: number, height: number): Shape[] {
  return [
    {
      kind: 'text',
      x: 10,
      y: CAPTION / 2 + 2,
      text: caption(scene, view.info),
      ink: 'muted',
      size: 12,
      baseline: 'middle',
    },
    ...scene.draw(view, { x: 0, y: CAPTION, w: width, h: height - CAPTION }),
  ];
}
