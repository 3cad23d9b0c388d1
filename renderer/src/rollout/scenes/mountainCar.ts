// MountainCar-v0 and MountainCarContinuous-v0 as Gymnasium draws them: the hill y = 0.45 sin(3x) + 0.55 over
// x in [-1.2, 0.6], the car on it tilted with the slope, the flag at the goal, and the push the agent chose.
import { arrow, type Point, type Shape, turnedRect } from '../shapes';
import type { Scene } from '../scene';

const MIN_X = -1.2;
const MAX_X = 0.6;
const height = (x: number) => Math.sin(3 * x) * 0.45 + 0.55;
const slope = (x: number) => Math.atan(1.35 * Math.cos(3 * x));

function mountainCar(goal: number, continuous: boolean): Scene {
  return {
    aspect: 1.5,
    fps: 30,
    episodeName: 'episode',
    actionLabels: () => (continuous ? ['force'] : ['accelerate left', 'no push', 'accelerate right']),
    actionBound: continuous ? 1 : undefined,
    draw({ timeline, info }, box) {
      const [x] = info.state;
      const scale = Math.min(box.w / (MAX_X - MIN_X), (box.h - 12) / 1.05);
      const left = box.x + (box.w - (MAX_X - MIN_X) * scale) / 2;
      const bottom = box.y + box.h - 4;
      const at = (wx: number, wy: number): Point => [left + (wx - MIN_X) * scale, bottom - wy * scale];
      const hill = Array.from({ length: 121 }, (_, i) => {
        const wx = MIN_X + ((MAX_X - MIN_X) * i) / 120;
        return at(wx, height(wx));
      });
      // The car: its body above the track along the normal, wheels on the track; angles in canvas terms.
      const angle = slope(x);
      const normal: Point = [-Math.sin(angle), Math.cos(angle)];
      const tangent: Point = [Math.cos(angle), Math.sin(angle)];
      const along = (d: number, n: number): Point =>
        at(x + d * tangent[0] + n * normal[0], height(x) + d * tangent[1] + n * normal[1]);
      const carW = 0.12;
      const carH = 0.06;
      const wheel = 0.018;
      // The body rests on the wheels (tucked a little over them), which sit near its ends.
      const lift = wheel * 1.6 + carH / 2;
      const axle = carW * 0.3;
      const body = turnedRect(along(0, lift), carW * scale, carH * scale, -angle);
      const flagX = timeline.rollout.params.goal_position ?? goal;
      const pole = at(flagX, height(flagX));
      const poleTop: Point = [pole[0], pole[1] - 0.15 * scale];
      const push = continuous ? Math.max(-1, Math.min(1, info.action[0])) : info.action[0] - 1;
      const shapes: Shape[] = [
        { kind: 'poly', points: [...hill, at(MAX_X, 0), at(MIN_X, 0)], fill: 'cell' },
        { kind: 'line', points: hill, ink: 'muted', width: 2 },
        { kind: 'line', points: [pole, poleTop], ink: 'fg', width: 2 },
        {
          kind: 'poly',
          points: [
            poleTop,
            [poleTop[0] + 0.08 * scale, poleTop[1] + 0.025 * scale],
            [poleTop[0], poleTop[1] + 0.05 * scale],
          ],
          fill: 'good',
        },
        ...[-axle, axle].map((d): Shape => {
          const [cx, cy] = along(d, wheel);
          return { kind: 'circle', x: cx, y: cy, r: wheel * scale, fill: 'muted' };
        }),
        { kind: 'poly', points: body, fill: 'fg' },
      ];
      // A push too weak to see gets no arrow.
      if (Math.abs(push) >= 0.05) {
        const start = along(Math.sign(push) * (carW / 2 + 0.015), lift);
        const end = along(Math.sign(push) * (carW / 2 + 0.015) + push * 0.12, lift);
        shapes.push(...arrow(start, end, 'accent', 3));
      }
      return shapes;
    },
  };
}

export const mountainCarDiscrete = mountainCar(0.5, false);
export const mountainCarContinuous = mountainCar(0.45, true);
