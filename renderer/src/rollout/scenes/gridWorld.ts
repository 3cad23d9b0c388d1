// The grid world: the maze's walls, the goal (and a second object), the agent and the path it has walked this
// episode; with partial observation, the 3x3 window the agent sees.
import { arrow, type Shape } from '../shapes';
import type { Scene } from '../scene';

/** Row and column steps of the four moves, in the environment's action order. */
const MOVES: readonly (readonly [number, number])[] = [
  [-1, 0],
  [0, 1],
  [1, 0],
  [0, -1],
];

export const gridWorld: Scene = {
  aspect: 1.25,
  fps: 6,
  episodeName: 'episode',
  actionLabels: () => ['up', 'right', 'down', 'left'],
  draw({ timeline, t, info, env }, box) {
    const { state } = info;
    const size = Math.round(Math.sqrt(state.length - 4));
    const cell = Math.min(box.w, box.h - 8) / size;
    const left = box.x + (box.w - cell * size) / 2;
    const top = box.y + (box.h - cell * size) / 2;
    const centre = (row: number, col: number): [number, number] => [
      left + (col + 0.5) * cell,
      top + (row + 0.5) * cell,
    ];
    const shapes: Shape[] = [];
    for (let row = 0; row < size; row++)
      for (let col = 0; col < size; col++) {
        const wall = state[4 + row * size + col] === 1;
        shapes.push({
          kind: 'rect',
          x: left + col * cell,
          y: top + row * cell,
          w: cell,
          h: cell,
          fill: wall ? 'muted' : 'cell',
          stroke: 'bg',
        });
      }
    const [agentRow, agentCol, goalRow, goalCol] = state;
    const inset = cell * 0.14;
    // The goal, and with two objects the other one: green where reaching it pays +1, red where -1.
    const swapped = env?.name === 'gridworld' && env.objects === 'two-swapped';
    const objects: [number, number, 'good' | 'bad'][] = [[goalRow, goalCol, swapped ? 'bad' : 'good']];
    if (state.length > 4 + size * size)
      objects.push([state[4 + size * size], state[5 + size * size], swapped ? 'good' : 'bad']);
    for (const [row, col, fill] of objects)
      shapes.push({
        kind: 'rect',
        x: left + col * cell + inset,
        y: top + row * cell + inset,
        w: cell - 2 * inset,
        h: cell - 2 * inset,
        fill,
        radius: cell * 0.12,
      });
    const span = timeline.episodes[info.episode];
    const path = Array.from({ length: t - span.start + 1 }, (_, i) => {
      const s = timeline.state(span.start + i);
      return centre(s[0], s[1]);
    });
    if (path.length > 1) shapes.push({ kind: 'line', points: path, ink: 'accent', width: cell * 0.12, alpha: 0.35 });
    if (env?.name === 'gridworld' && env.observation === 'partial')
      shapes.push({
        kind: 'rect',
        x: left + Math.max(0, agentCol - 1) * cell,
        y: top + Math.max(0, agentRow - 1) * cell,
        w: (Math.min(size, agentCol + 2) - Math.max(0, agentCol - 1)) * cell,
        h: (Math.min(size, agentRow + 2) - Math.max(0, agentRow - 1)) * cell,
        stroke: 'accent',
      });
    const [x, y] = centre(agentRow, agentCol);
    shapes.push({ kind: 'circle', x, y, r: cell * 0.3, fill: 'accent' });
    const move = MOVES[info.action[0]];
    if (move) {
      const from: [number, number] = [x + move[1] * cell * 0.34, y + move[0] * cell * 0.34];
      shapes.push(...arrow(from, [from[0] + move[1] * cell * 0.4, from[1] + move[0] * cell * 0.4], 'fg', 2.5));
    }
    return shapes;
  },
};
