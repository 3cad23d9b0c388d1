// What the rollout viewer draws for the continuous-control environments of MetaGenRL's tasks: the continuous-force
// CartPole (CartPole-v1's scene, its push as long as the force) and point-mass (renderer/src/rollout/scenes/).
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../shared/rollout';
import type { EnvName } from '../../shared/spec';
import { SCENES } from '../../renderer/src/rollout/scenes';
import type { Box, Shape } from '../../renderer/src/rollout/shapes';
import { Timeline } from '../../renderer/src/rollout/timeline';

interface Frame {
  state: number[];
  action: number[];
}

/** One episode of the given frames, reward 0 each. */
function rollout(env: EnvName, frames: Frame[]): Rollout {
  return {
    runId: 1,
    step: 10,
    split: 'unseen',
    env,
    params: {},
    stateSize: frames[0].state.length,
    actionCount: 0,
    frames: frames.length,
    states: frames.flatMap((f) => f.state),
    actions: frames.flatMap((f) => f.action),
    rewards: frames.map(() => 0),
    episodes: frames.map(() => 0),
    probs: [],
  };
}

function draw(r: Rollout, t: number, box: Box): Shape[] {
  const timeline = new Timeline(r);
  return SCENES[r.env].draw({ timeline, t, info: timeline.info(t), env: null }, box);
}

type Line = Extract<Shape, { kind: 'line' }>;
type Circle = Extract<Shape, { kind: 'circle' }>;
const lines = (shapes: Shape[], ink: string) => shapes.filter((s): s is Line => s.kind === 'line' && s.ink === ink);
const circles = (shapes: Shape[], fill: string) =>
  shapes.filter((s): s is Circle => s.kind === 'circle' && s.fill === fill);

describe('CartPoleContinuous', () => {
  const shapes = (a: number) =>
    draw(rollout('CartPoleContinuous', [{ state: [0, 0, 0, 0], action: [a] }]), 0, { x: 0, y: 0, w: 600, h: 300 });
  /** From the arrow's tail to its tip (the head's first point), horizontally. */
  const length = (a: number) => {
    const drawn = shapes(a);
    const [shaft] = lines(drawn, 'accent');
    const head = drawn.find((s): s is Extract<Shape, { kind: 'poly' }> => s.kind === 'poly' && s.fill === 'accent');
    return head!.points[0][0] - shaft.points[0][0];
  };

  it('names its one force, bounded by 1', () => {
    const r = rollout('CartPoleContinuous', [{ state: [0, 0, 0, 0], action: [0.5] }]);
    expect(SCENES.CartPoleContinuous.actionLabels(r)).toEqual(['force']);
    expect(SCENES.CartPoleContinuous.actionBound).toBe(1);
  });

  it('draws the push along the force, as long as it (clipped to the bound), and none for no force', () => {
    expect(Math.sign(length(0.8))).toBe(1);
    expect(Math.sign(length(-0.8))).toBe(-1);
    expect(length(0.5)).toBeCloseTo(length(1) / 2);
    expect(length(3)).toBeCloseTo(length(1));
    expect(lines(shapes(0), 'accent')).toEqual([]);
  });
});

describe('point-mass', () => {
  // A 500 x 400 box: the unit square is 380 pixels wide, from x = 60 and up from y = 390.
  const box = { x: 0, y: 0, w: 500, h: 400 };
  const at = (x: number, y: number) => [60 + 380 * x, 390 - 380 * y];
  const goal = [0.8, 0.7];
  const frames = [
    { state: [0.2, 0.3, ...goal], action: [1, 0] },
    { state: [0.25, 0.3, ...goal], action: [1, 1] },
    { state: [0.3, 0.35, ...goal], action: [0, 0] },
  ];
  const r = rollout('point-mass', frames);

  it('names its two forces, each bounded by 1', () => {
    expect(SCENES['point-mass'].actionLabels(r)).toEqual(['force x', 'force y']);
    expect(SCENES['point-mass'].actionBound).toBe(1);
  });

  it('draws the square, the goal, and the mass where it is (y up) with its path so far', () => {
    const shapes = draw(r, 1, box);
    expect(shapes.find((s) => s.kind === 'rect')).toMatchObject({ x: 60, y: 10, w: 380, h: 380 });
    const [mass] = circles(shapes, 'accent');
    expect([mass.x, mass.y]).toEqual(at(0.25, 0.3).map((v) => expect.closeTo(v, 9)));
    const [target] = circles(shapes, 'good');
    expect([target.x, target.y]).toEqual(at(0.8, 0.7).map((v) => expect.closeTo(v, 9)));
    const [path] = lines(shapes, 'accent');
    expect(path.points).toHaveLength(2);
    expect(lines(draw(r, 2, box), 'accent')[0].points).toHaveLength(3);
    expect(lines(draw(r, 0, box), 'accent')).toEqual([]);
  });

  it('draws the force from the mass in its direction, none for no force', () => {
    const force = (t: number) => lines(draw(r, t, box), 'fg')[0];
    const right = force(0);
    expect(right.points[0]).toEqual(at(0.2, 0.3).map((v) => expect.closeTo(v, 9)));
    expect(right.points[1][0]).toBeGreaterThan(right.points[0][0]);
    expect(right.points[1][1]).toBeCloseTo(right.points[0][1]);
    const diagonal = force(1);
    expect(diagonal.points[1][0]).toBeGreaterThan(diagonal.points[0][0]);
    expect(diagonal.points[1][1]).toBeLessThan(diagonal.points[0][1]); // up on the screen
    expect(force(2)).toBeUndefined();
  });
});
