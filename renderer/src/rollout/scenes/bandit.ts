// Bandit pulls: each arm a bar as tall as its true probability of paying, the arm pulled now highlighted with the
// reward it paid, and under each arm how often it has been pulled and has paid so far in the lifetime (the tick on
// a bar is that running estimate).
import type { Shape } from '../shapes';
import type { Scene } from '../scene';
import type { Timeline } from '../timeline';

/** Pulls and payouts of each arm over frames 0..t. */
export function armCounts(timeline: Timeline, t: number): { pulls: number[]; wins: number[] } {
  const { actionCount, actions, rewards } = timeline.rollout;
  const pulls = new Array<number>(actionCount).fill(0);
  const wins = new Array<number>(actionCount).fill(0);
  for (let f = 0; f <= t; f++) {
    pulls[actions[f]]++;
    wins[actions[f]] += rewards[f];
  }
  return { pulls, wins };
}

export const bandit: Scene = {
  aspect: 2,
  fps: 4,
  episodeName: 'pull',
  actionLabels: (r) => Array.from({ length: r.actionCount }, (_, i) => `arm ${i + 1}`),
  draw({ timeline, t, info }, box) {
    const p = info.state;
    const k = p.length;
    const pulled = info.action[0];
    const { pulls, wins } = armCounts(timeline, t);
    const slot = box.w / k;
    const barW = Math.min(64, slot * 0.6);
    const top = box.y + 30;
    const bottom = box.y + box.h - (slot >= 40 ? 40 : 8);
    const bar = bottom - top;
    const shapes: Shape[] = [];
    for (let i = 0; i < k; i++) {
      const x = box.x + slot * (i + 0.5) - barW / 2;
      const now = i === pulled;
      shapes.push(
        { kind: 'rect', x, y: top, w: barW, h: bar, fill: 'cell', radius: 3 },
        {
          kind: 'rect',
          x,
          y: bottom - p[i] * bar,
          w: barW,
          h: p[i] * bar,
          fill: now ? 'accent' : 'muted',
          alpha: now ? 1 : 0.45,
          radius: 3,
        },
      );
      if (pulls[i]) {
        const y = bottom - (wins[i] / pulls[i]) * bar;
        shapes.push({
          kind: 'line',
          points: [
            [x - 3, y],
            [x + barW + 3, y],
          ],
          ink: 'fg',
          width: 2,
        });
      }
      if (slot >= 40)
        shapes.push(
          {
            kind: 'text',
            x: x + barW / 2,
            y: bottom + 14,
            text: `arm ${i + 1} · p ${p[i].toFixed(2)}`,
            ink: now ? 'fg' : 'muted',
            size: 11,
            align: 'center',
            baseline: 'middle',
            bold: now,
          },
          {
            kind: 'text',
            x: x + barW / 2,
            y: bottom + 29,
            text: `${wins[i]}/${pulls[i]} paid`,
            ink: 'muted',
            size: 11,
            align: 'center',
            baseline: 'middle',
          },
        );
    }
    const x = box.x + slot * (pulled + 0.5);
    shapes.push({
      kind: 'text',
      x,
      y: top - 12,
      text: info.reward > 0 ? `+${info.reward}` : String(info.reward),
      ink: info.reward > 0 ? 'good' : 'bad',
      size: 14,
      align: 'center',
      baseline: 'middle',
      bold: true,
    });
    return shapes;
  },
};
