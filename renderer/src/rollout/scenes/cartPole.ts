// CartPole-v1 as Gymnasium draws it: a cart on a track, the pole hinged on it, leaning right for positive theta.
// The view spans the track's limits (x = +-2.4, where the episode ends) with a margin, so the cart stays in sight.
// CartPoleContinuous is drawn the same, its push an arrow as long as the force (none below 5% of the bound).
import { arrow, type Point, type Shape, turnedRect } from '../shapes';
import type { Scene } from '../scene';

const X_LIMIT = 2.4;
const THETA_LIMIT = (12 * Math.PI) / 180;
const HALF_VIEW = X_LIMIT + 0.6;

function cartPoleScene(continuous: boolean): Scene {
  return {
    aspect: 2.2,
    fps: 50,
    episodeName: 'episode',
    actionLabels: () => (continuous ? ['force'] : ['push left', 'push right']),
    actionBound: continuous ? 1 : undefined,
    draw({ timeline, info }, box) {
      const [x, , theta] = info.state;
      const scale = box.w / (2 * HALF_VIEW);
      const px = (wx: number) => box.x + box.w / 2 + wx * scale;
      const ground = box.y + box.h * 0.78;
      const cartW = 0.5 * scale;
      const cartH = 0.3 * scale;
      const wheel = Math.max(3, 0.05 * scale);
      const cartTop = ground - 2 * wheel - cartH;
      const cx = px(x);
      const axle: Point = [cx, cartTop + cartH * 0.25];
      const poleLength = 2 * (timeline.rollout.params.length ?? 0.5) * scale;
      const poleWidth = Math.max(5, 0.08 * scale);
      const limit = (side: number): Shape => ({
        kind: 'line',
        points: [
          [px(side * X_LIMIT), ground - 0.9 * scale],
          [px(side * X_LIMIT), ground + 8],
        ],
        ink: 'bad',
        width: 1.5,
        dash: [4, 4],
        alpha: 0.7,
      });
      const tilt = (side: number): Shape => ({
        kind: 'line',
        points: [
          axle,
          [axle[0] + side * Math.sin(THETA_LIMIT) * poleLength, axle[1] - Math.cos(THETA_LIMIT) * poleLength],
        ],
        ink: 'bad',
        width: 1,
        dash: [3, 4],
        alpha: 0.45,
      });
      // The push in [-1, 1]: a discrete action pushes with the whole force.
      const push = continuous ? Math.max(-1, Math.min(1, info.action[0])) : info.action[0] === 1 ? 1 : -1;
      const from = cx + Math.sign(push) * (cartW / 2 + 6);
      const y = cartTop + cartH / 2;
      const shown = Math.abs(push) >= 0.05;
      return [
        {
          kind: 'line',
          points: [
            [px(-HALF_VIEW), ground],
            [px(HALF_VIEW), ground],
          ],
          ink: 'line',
          width: 2,
        },
        {
          kind: 'line',
          points: [
            [px(-X_LIMIT), ground],
            [px(X_LIMIT), ground],
          ],
          ink: 'muted',
          width: 2,
        },
        limit(-1),
        limit(1),
        tilt(-1),
        tilt(1),
        { kind: 'rect', x: cx - cartW / 2, y: cartTop, w: cartW, h: cartH, fill: 'fg', radius: 3 },
        { kind: 'circle', x: cx - cartW / 3, y: ground - wheel, r: wheel, fill: 'muted' },
        { kind: 'circle', x: cx + cartW / 3, y: ground - wheel, r: wheel, fill: 'muted' },
        ...(shown ? arrow([from, y], [from + push * 0.35 * scale, y], 'accent', 3) : []),
        {
          kind: 'poly',
          points: turnedRect(
            [axle[0] + (Math.sin(theta) * poleLength) / 2, axle[1] - (Math.cos(theta) * poleLength) / 2],
            poleWidth,
            poleLength,
            theta,
          ),
          fill: 'warm',
        },
        { kind: 'circle', x: axle[0], y: axle[1], r: poleWidth * 0.45, fill: 'muted' },
      ];
    },
  };
}

export const cartPole = cartPoleScene(false);
export const cartPoleContinuous = cartPoleScene(true);
