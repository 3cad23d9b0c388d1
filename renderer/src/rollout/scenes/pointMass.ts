// point-mass: the unit square seen from above (y up), the goal, the mass with the path it has taken this episode,
// a dashed line to the goal (the distance the reward charges) and the force as an arrow (none below 5% of the bound).
import { arrow, type Point, type Shape } from '../shapes';
import type { Scene } from '../scene';

const MARGIN = 10;
/** A force of 1 along an axis is drawn this fraction of the square's side long. */
const FORCE_LENGTH = 0.18;

export const pointMass: Scene = {
  aspect: 1.25,
  fps: 20,
  episodeName: 'episode',
  actionLabels: () => ['force x', 'force y'],
  actionBound: 1,
  draw({ timeline, t, info }, box) {
    const side = Math.min(box.w, box.h) - 2 * MARGIN;
    const left = box.x + (box.w - side) / 2;
    const bottom = box.y + (box.h + side) / 2;
    const at = (x: number, y: number): Point => [left + x * side, bottom - y * side];
    const [px, py, gx, gy] = info.state;
    const mass = at(px, py);
    const goal = at(gx, gy);
    const span = timeline.episodes[info.episode];
    const path = Array.from({ length: t - span.start + 1 }, (_, i) => {
      const s = timeline.state(span.start + i);
      return at(s[0], s[1]);
    });
    const shapes: Shape[] = [
      { kind: 'rect', x: left, y: bottom - side, w: side, h: side, fill: 'cell', stroke: 'line' },
      { kind: 'circle', x: goal[0], y: goal[1], r: 0.045 * side, stroke: 'good', width: 2 },
      { kind: 'circle', x: goal[0], y: goal[1], r: 0.015 * side, fill: 'good' },
      { kind: 'line', points: [mass, goal], ink: 'good', width: 1, dash: [4, 4], alpha: 0.6 },
    ];
    if (path.length > 1) shapes.push({ kind: 'line', points: path, ink: 'accent', width: 2, alpha: 0.35 });
    shapes.push({ kind: 'circle', x: mass[0], y: mass[1], r: 0.03 * side, fill: 'accent' });
    const [ax, ay] = info.action.map((a) => Math.max(-1, Math.min(1, a)));
    if (Math.hypot(ax, ay) >= 0.05) {
      const end: Point = [mass[0] + ax * FORCE_LENGTH * side, mass[1] - ay * FORCE_LENGTH * side];
      shapes.push(...arrow(mass, end, 'fg', 2.5));
    }
    return shapes;
  },
};
