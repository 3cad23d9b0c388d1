// Pendulum-v1 as Gymnasium draws it: a rod from a fixed pivot, theta = 0 pointing up and growing anticlockwise,
// with the applied torque as a curved arrow around the pivot (its sweep grows with the torque).
import { arcArrow, type Shape } from '../shapes';
import type { Scene } from '../scene';

const MAX_TORQUE = 2;
const MIN_SWEEP = 0.6;

export const pendulum: Scene = {
  aspect: 1.25,
  fps: 30,
  episodeName: 'episode',
  actionLabels: () => ['torque'],
  actionBound: MAX_TORQUE,
  draw({ timeline, info }, box) {
    const [theta] = info.state;
    const length = timeline.rollout.params.l ?? 1;
    const scale = (Math.min(box.w, box.h) / 2 - 10) / Math.max(1.3, length + 0.15);
    const cx = box.x + box.w / 2;
    const cy = box.y + box.h / 2;
    const rod = length * scale;
    const tip: [number, number] = [cx - Math.sin(theta) * rod, cy - Math.cos(theta) * rod];
    const width = Math.max(6, 0.16 * scale);
    const torque = Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, info.action[0] ?? 0));
    const shapes: Shape[] = [
      {
        kind: 'line',
        points: [
          [cx, cy],
          [cx, cy - rod],
        ],
        ink: 'good',
        width: 1.5,
        dash: [5, 5],
        alpha: 0.6,
      },
      { kind: 'line', points: [[cx, cy], tip], ink: 'bad', width },
      { kind: 'circle', x: tip[0], y: tip[1], r: width * 0.5, fill: 'bad' },
      { kind: 'circle', x: cx, y: cy, r: width * 0.45, fill: 'fg' },
    ];
    // Anticlockwise with y up is anticlockwise on screen: a negative sweep in canvas angles. The sweep grows with
    // the torque from a floor that leaves room for the arrow's head; below 5% of the bound there is no arrow.
    if (Math.abs(torque) >= 0.05 * MAX_TORQUE) {
      const sweep = -Math.sign(torque) * (MIN_SWEEP + (Math.abs(torque) / MAX_TORQUE) * (1.4 * Math.PI - MIN_SWEEP));
      shapes.push(...arcArrow(cx, cy, 0.3 * scale, -Math.PI / 2 - sweep / 2, sweep, 'accent', 3));
    }
    return shapes;
  },
};
