// Acrobot-v1 as Gymnasium draws it: two links hanging from a fixed pivot (theta1 = 0 straight down, theta2
// relative to the first link), the line the free end must rise above, and the torque on the middle joint.
import { arcArrow, type Point, type Shape } from '../shapes';
import type { Scene } from '../scene';

/** Height above the pivot the tip must exceed: -cos(theta1) - cos(theta1 + theta2) > 1. */
const GOAL_HEIGHT = 1;
const TORQUES = [-1, 0, 1];

export const acrobot: Scene = {
  aspect: 1.25,
  fps: 15,
  episodeName: 'episode',
  actionLabels: () => ['torque −1', 'torque 0', 'torque +1'],
  draw({ timeline, info }, box) {
    const [theta1, theta2] = info.state;
    const { params } = timeline.rollout;
    const l1 = params.LINK_LENGTH_1 ?? 1;
    const l2 = params.LINK_LENGTH_2 ?? 1;
    const reach = Math.max(l1 + l2, GOAL_HEIGHT) + 0.2;
    const scale = (Math.min(box.w, box.h) / 2 - 6) / reach;
    const cx = box.x + box.w / 2;
    const cy = box.y + box.h / 2;
    // World coordinates have y up; the canvas's point down.
    const at = (wx: number, wy: number): Point => [cx + wx * scale, cy - wy * scale];
    const p1: [number, number] = [l1 * Math.sin(theta1), -l1 * Math.cos(theta1)];
    const p2: [number, number] = [p1[0] + l2 * Math.sin(theta1 + theta2), p1[1] - l2 * Math.cos(theta1 + theta2)];
    const width = Math.max(6, 0.12 * scale);
    const torque = TORQUES[info.action[0]] ?? 0;
    const joint = at(...p1);
    const shapes: Shape[] = [
      { kind: 'line', points: [at(-reach, GOAL_HEIGHT), at(reach, GOAL_HEIGHT)], ink: 'good', width: 2, dash: [6, 5] },
      { kind: 'line', points: [at(0, 0), joint], ink: 'accent', width },
      { kind: 'line', points: [joint, at(...p2)], ink: 'accent', width },
      { kind: 'circle', x: cx, y: cy, r: width * 0.55, fill: 'fg' },
      { kind: 'circle', x: joint[0], y: joint[1], r: width * 0.55, fill: 'warm' },
    ];
    // Positive torque turns the second link anticlockwise (y up), which is anticlockwise on screen too.
    if (torque) shapes.push(...arcArrow(joint[0], joint[1], width * 2.2, -Math.PI / 2, -torque * 1.5, 'bad', 2.5));
    return shapes;
  },
};
