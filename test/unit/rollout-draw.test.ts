// The rollout viewer's pure parts: stepping through a recorded lifetime, and what each environment's scene
// draws (positions checked against the environments' geometry as Gymnasium defines and draws it).
import { describe, expect, it } from 'vitest';
import type { Rollout } from '../../shared/rollout';
import type { EnvName } from '../../shared/spec';
import { caption, formatReturn, frameShapes } from '../../renderer/src/rollout/scene';
import { SCENES } from '../../renderer/src/rollout/scenes';
import { armCounts } from '../../renderer/src/rollout/scenes/bandit';
import type { Box, Shape } from '../../renderer/src/rollout/shapes';
import { advance, exportPlan, Timeline } from '../../renderer/src/rollout/timeline';

interface Frame {
  state: number[];
  action: number[];
  reward: number;
  probs?: number[];
}

/** A rollout of the given episodes, each a list of frames. */
function rollout(env: EnvName, episodes: Frame[][], params: Record<string, number> = {}, actionCount = 0): Rollout {
  const frames = episodes.flat();
  return {
    runId: 7,
    step: 40,
    split: 'seen',
    env,
    params,
    stateSize: frames[0].state.length,
    actionCount,
    frames: frames.length,
    states: frames.flatMap((f) => f.state),
    actions: frames.flatMap((f) => f.action),
    rewards: frames.map((f) => f.reward),
    episodes: episodes.flatMap((e, k) => e.map(() => k)),
    probs: frames.flatMap((f) => f.probs ?? []),
  };
}

const BOX: Box = { x: 0, y: 0, w: 600, h: 300 };

function draw(r: Rollout, t = 0, box = BOX): Shape[] {
  const timeline = new Timeline(r);
  return SCENES[r.env].draw({ timeline, t, info: timeline.info(t), env: null }, box);
}

const polys = (shapes: Shape[], fill: string) =>
  shapes.filter((s): s is Extract<Shape, { kind: 'poly' }> => s.kind === 'poly' && s.fill === fill);
const lines = (shapes: Shape[], ink: string) =>
  shapes.filter((s): s is Extract<Shape, { kind: 'line' }> => s.kind === 'line' && s.ink === ink);
const circles = (shapes: Shape[], fill: string) =>
  shapes.filter((s): s is Extract<Shape, { kind: 'circle' }> => s.kind === 'circle' && s.fill === fill);
const centroid = (points: readonly (readonly [number, number])[]) => [
  points.reduce((a, p) => a + p[0], 0) / points.length,
  points.reduce((a, p) => a + p[1], 0) / points.length,
];

describe('a recorded lifetime, frame by frame', () => {
  const r = rollout(
    'CartPole-v1',
    [
      [0, 1, 2].map((i) => ({ state: [i, 0, 0, 0], action: [i % 2], reward: 1, probs: [0.25, 0.75] })),
      [0, 1].map((i) => ({ state: [i, 0, 0, 0], action: [1], reward: 2, probs: [0.5, 0.5] })),
    ],
    {},
    2,
  );
  const timeline = new Timeline(r);

  it('finds the episodes and where each frame is in its episode', () => {
    expect(timeline.episodes).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 5 },
    ]);
    expect([0, 2, 3, 4].map((t) => timeline.episodeAt(t))).toEqual([0, 0, 1, 1]);
    expect([2, 4].map((t) => timeline.info(t).episodeReturn)).toEqual([3, 4]);
    expect(timeline.info(4)).toEqual({
      episode: 1,
      episodeCount: 2,
      step: 1,
      episodeLength: 2,
      state: [1, 0, 0, 0],
      action: [1],
      reward: 2,
      episodeReturn: 4,
      lifetimeReturn: 7,
      probs: [0.5, 0.5],
    });
    // The return so far counts the reward of the frame's own action.
    expect(timeline.info(0).episodeReturn).toBe(1);
  });

  it('advances with time at the speed asked, and stops at the last frame', () => {
    expect(advance(0, 100, 50, 1, 100)).toBeCloseTo(5);
    expect(advance(0, 100, 50, 0.25, 100)).toBeCloseTo(1.25);
    expect(advance(90, 1000, 50, 4, 100)).toBe(99);
  });

  it('plans exports of one episode or the whole lifetime, thinning frames past the highest rate', () => {
    expect(exportPlan(timeline, 'episode', 4, 10, 1, 50)).toEqual({ frames: [3, 4], delayMs: 100 });
    expect(exportPlan(timeline, 'lifetime', 4, 10, 1, 50).frames).toEqual([0, 1, 2, 3, 4]);
    // 10 fps at 16x is 160 frames a second: every 4th frame, each shown for 4 / 160 s; the last one always.
    expect(exportPlan(timeline, 'lifetime', 0, 10, 16, 50)).toEqual({ frames: [0, 4], delayMs: 25 });
  });

  it('captions a frame with the episode, the step and the return so far', () => {
    expect(caption(SCENES['CartPole-v1'], timeline.info(4))).toBe('episode 2/2 · step 2/2 · return 4');
    const shapes = frameShapes(SCENES['CartPole-v1'], { timeline, t: 4, info: timeline.info(4), env: null }, 600, 300);
    expect(shapes[0]).toMatchObject({ kind: 'text', text: 'episode 2/2 · step 2/2 · return 4' });
  });

  it('writes returns without float noise, keeping small ones visible', () => {
    expect([0, 500, -845.2351, 0.1 + 0.2, -0.00011266, -0.01].map(formatReturn)).toEqual([
      '0',
      '500',
      '-845.24',
      '0.3',
      '-0.00011',
      '-0.01',
    ]);
  });
});

describe('CartPole-v1', () => {
  const cart = (state: number[], params = { length: 0.5 }) =>
    draw(rollout('CartPole-v1', [[{ state, action: [1], reward: 1 }]], params, 2));
  const pole = (shapes: Shape[]) => polys(shapes, 'warm')[0].points;
  const scale = BOX.w / 6;

  it('puts the cart at x on the track, and the episode limits at x = +-2.4', () => {
    const body = (shapes: Shape[]) =>
      shapes.find((s) => s.kind === 'rect' && s.fill === 'fg') as { x: number; w: number };
    const middle = body(cart([0, 0, 0, 0]));
    expect(middle.x + middle.w / 2).toBeCloseTo(300);
    const right = body(cart([2.4, 0, 0, 0]));
    expect(right.x + right.w / 2).toBeCloseTo(300 + 2.4 * scale);
    const limits = lines(cart([0, 0, 0, 0]), 'bad').filter((s) => s.width === 1.5);
    expect(limits.map((s) => s.points[0][0])).toEqual([300 - 2.4 * scale, 300 + 2.4 * scale]);
  });

  it('stands the pole up at theta 0, leans it right for positive theta, as long as twice the half-length', () => {
    const up = pole(cart([0, 0, 0, 0]));
    const [, upY] = centroid(up);
    const axle = circles(cart([0, 0, 0, 0]), 'muted').at(-1)!;
    expect(centroid(up)[0]).toBeCloseTo(axle.x);
    expect(upY).toBeLessThan(axle.y);
    expect(axle.y - Math.min(...up.map((p) => p[1]))).toBeCloseTo(2 * 0.5 * scale);
    const leaning = pole(cart([0, 0, 0.2, 0]));
    expect(centroid(leaning)[0]).toBeGreaterThan(axle.x);
    const long = pole(cart([0, 0, 0, 0], { length: 0.8 }));
    expect(axle.y - Math.min(...long.map((p) => p[1]))).toBeCloseTo(2 * 0.8 * scale);
  });

  it('draws the push in the direction of the action', () => {
    const push = (a: number) => {
      const shapes = draw(rollout('CartPole-v1', [[{ state: [0, 0, 0, 0], action: [a], reward: 1 }]], {}, 2));
      const [line] = lines(shapes, 'accent');
      return Math.sign(line.points[1][0] - line.points[0][0]);
    };
    expect([push(0), push(1)]).toEqual([-1, 1]);
  });
});

describe('Pendulum-v1', () => {
  const swing = (theta: number, torque: number) =>
    draw(rollout('Pendulum-v1', [[{ state: [theta, 0], action: [torque], reward: 0 }]], { l: 1 }), 0, {
      x: 0,
      y: 0,
      w: 400,
      h: 400,
    });
  const bob = (shapes: Shape[]) => circles(shapes, 'bad')[0];

  it('points the rod up at theta 0 and turns it anticlockwise as theta grows', () => {
    expect(bob(swing(0, 0)).x).toBeCloseTo(200);
    expect(bob(swing(0, 0)).y).toBeLessThan(200);
    const quarter = bob(swing(Math.PI / 2, 0));
    expect(quarter.x).toBeLessThan(200);
    expect(quarter.y).toBeCloseTo(200);
    expect(bob(swing(Math.PI, 0)).y).toBeGreaterThan(200);
  });

  it('draws the torque as an arrow around the pivot: anticlockwise for positive, longer for more, none near 0', () => {
    const arc = (u: number) => swing(0, u).find((s) => s.kind === 'arc') as { from: number; to: number; ccw: boolean };
    expect(arc(2).ccw).toBe(true);
    expect(arc(-2).ccw).toBe(false);
    expect(Math.abs(arc(2).to - arc(2).from)).toBeGreaterThan(Math.abs(arc(0.5).to - arc(0.5).from));
    expect(swing(0, 0).some((s) => s.kind === 'arc')).toBe(false);
    expect(swing(0, 0.05).some((s) => s.kind === 'arc')).toBe(false);
  });
});

describe('Acrobot-v1', () => {
  const links = (theta1: number, theta2: number) =>
    draw(rollout('Acrobot-v1', [[{ state: [theta1, theta2, 0, 0], action: [1], reward: -1 }]], {}, 3), 0, {
      x: 0,
      y: 0,
      w: 500,
      h: 400,
    }).filter((s): s is Extract<Shape, { kind: 'line' }> => s.kind === 'line' && s.ink === 'accent');

  it('hangs both links straight down at rest, from the pivot at the centre', () => {
    const [first, second] = links(0, 0);
    expect(first.points[0]).toEqual([250, 200]);
    expect(first.points[1][0]).toBeCloseTo(250);
    expect(second.points[1][0]).toBeCloseTo(250);
    expect(second.points[1][1]).toBeGreaterThan(first.points[1][1]);
  });

  it('draws the goal line 1 above the pivot, which the tip passes with both links up', () => {
    const scale = (400 / 2 - 6) / 2.2;
    const shapes = draw(rollout('Acrobot-v1', [[{ state: [Math.PI, 0, 0, 0], action: [1], reward: -1 }]], {}, 3), 0, {
      x: 0,
      y: 0,
      w: 500,
      h: 400,
    });
    const [goal] = lines(shapes, 'good');
    expect(goal.points[0][1]).toBeCloseTo(200 - scale);
    const [, second] = links(Math.PI, 0);
    expect(second.points[1][1]).toBeCloseTo(200 - 2 * scale);
  });

  it('shows the torque on the middle joint only when there is one', () => {
    const arcs = (a: number) =>
      draw(rollout('Acrobot-v1', [[{ state: [0, 0, 0, 0], action: [a], reward: -1 }]], {}, 3)).filter(
        (s) => s.kind === 'arc',
      ) as { ccw: boolean }[];
    expect(arcs(1)).toEqual([]);
    expect(arcs(2)[0].ccw).toBe(true);
    expect(arcs(0)[0].ccw).toBe(false);
  });
});

describe('MountainCar', () => {
  const car = (env: 'MountainCar-v0' | 'MountainCarContinuous-v0', x: number) =>
    draw(rollout(env, [[{ state: [x, 0], action: [env === 'MountainCar-v0' ? 2 : 0.5], reward: -1 }]], {}, 3), 0, {
      x: 0,
      y: 0,
      w: 600,
      h: 400,
    });
  const scale = Math.min(600 / 1.8, (400 - 12) / 1.05);
  const hillY = (x: number) => 400 - 4 - (Math.sin(3 * x) * 0.45 + 0.55) * scale;
  const hillX = (x: number) => (600 - 1.8 * scale) / 2 + (x + 1.2) * scale;

  it('sets the wheels on the hill y = 0.45 sin(3x) + 0.55', () => {
    for (const x of [-1.0, -0.5, 0.2]) {
      const wheels = circles(car('MountainCar-v0', x), 'muted');
      const mid = [(wheels[0].x + wheels[1].x) / 2, (wheels[0].y + wheels[1].y) / 2];
      // The wheels' midpoint lies one wheel radius off the track, at the car's x.
      expect(Math.hypot(mid[0] - hillX(x), mid[1] - hillY(x))).toBeCloseTo(wheels[0].r, 0);
    }
  });

  it("plants the flag at Gymnasium's goal: 0.5, or 0.45 for the continuous car", () => {
    const flagX = (env: 'MountainCar-v0' | 'MountainCarContinuous-v0') => lines(car(env, -0.5), 'fg')[0].points[0][0];
    expect(flagX('MountainCar-v0')).toBeCloseTo(hillX(0.5));
    expect(flagX('MountainCarContinuous-v0')).toBeCloseTo(hillX(0.45));
  });
});

describe('grid world', () => {
  // 3x3: a wall in the middle, the goal bottom right; the agent walks right then down.
  const walls = [0, 0, 0, 0, 1, 0, 0, 0, 0];
  const at = (row: number, col: number, action: number) => ({
    state: [row, col, 2, 2, ...walls],
    action: [action],
    reward: -0.01,
  });
  const r = rollout('gridworld', [[at(0, 0, 1), at(0, 1, 1), at(0, 2, 2)]], {}, 4);

  it('draws the walls, the goal and the agent in its cell, with the path walked so far', () => {
    const shapes = draw(r, 2, { x: 0, y: 0, w: 308, h: 308 });
    const cells = shapes.filter((s) => s.kind === 'rect' && (s.fill === 'muted' || s.fill === 'cell'));
    expect(cells.filter((s) => s.kind === 'rect' && s.fill === 'muted')).toHaveLength(1);
    expect(cells).toHaveLength(9);
    const agent = circles(shapes, 'accent')[0];
    expect([agent.x, agent.y]).toEqual([4 + 2.5 * 100, 4 + 0.5 * 100]);
    const [path] = lines(shapes, 'accent');
    expect(path.points).toHaveLength(3);
    expect(shapes.some((s) => s.kind === 'rect' && s.fill === 'good')).toBe(true);
  });
});

describe('bandits', () => {
  const p = [0.2, 0.9, 0.5];
  const pull = (arm: number, reward: number) => ({ state: p, action: [arm], reward, probs: [0.1, 0.8, 0.1] });
  const r = rollout('bernoulli-bandit', [[pull(1, 1)], [pull(0, 0)], [pull(1, 1)], [pull(1, 0)]], {}, 3);

  it('counts pulls and payouts per arm up to the frame', () => {
    expect(armCounts(new Timeline(r), 2)).toEqual({ pulls: [1, 2, 0], wins: [0, 2, 0] });
    expect(armCounts(new Timeline(r), 3)).toEqual({ pulls: [1, 3, 0], wins: [0, 2, 0] });
  });

  it('draws each arm as tall as its probability, the pulled one highlighted with its reward', () => {
    const shapes = draw(r, 3);
    const bars = shapes.filter((s) => s.kind === 'rect' && (s.fill === 'accent' || s.fill === 'muted')) as {
      h: number;
      fill: string;
    }[];
    const track = (shapes.find((s) => s.kind === 'rect' && s.fill === 'cell') as { h: number }).h;
    expect(bars.map((b) => b.h / track)).toEqual(p.map((v) => expect.closeTo(v, 6)));
    expect(bars.map((b) => b.fill)).toEqual(['muted', 'accent', 'muted']);
    expect(shapes.some((s) => s.kind === 'text' && s.text === '2/3 paid')).toBe(true);
    expect(shapes.some((s) => s.kind === 'text' && s.text === '0' && s.ink === 'bad')).toBe(true);
    expect(caption(SCENES['bernoulli-bandit'], new Timeline(r).info(3))).toBe('pull 4/4 · reward 0 · total 2');
  });
});

describe('every environment', () => {
  it("names as many discrete actions as Gymnasium's action spaces have", () => {
    const r = rollout('bernoulli-bandit', [[{ state: [0.1, 0.2, 0.3, 0.4, 0.5], action: [0], reward: 0 }]], {}, 5);
    expect(SCENES['CartPole-v1'].actionLabels(r)).toHaveLength(2);
    expect(SCENES['Acrobot-v1'].actionLabels(r)).toHaveLength(3);
    expect(SCENES['MountainCar-v0'].actionLabels(r)).toHaveLength(3);
    expect(SCENES['bernoulli-bandit'].actionLabels(r)).toEqual(['arm 1', 'arm 2', 'arm 3', 'arm 4', 'arm 5']);
    expect(SCENES['Pendulum-v1'].actionBound).toBe(2);
    expect(SCENES['MountainCarContinuous-v0'].actionBound).toBe(1);
  });
});
