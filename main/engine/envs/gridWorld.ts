// A grid world: each instance is a random maze (./maze.ts) with its own start cell (every episode starts there) and
// goal. Actions 0 up, 1 right, 2 down, 3 left; a move into a wall or off the grid stays put. Reward +1 on the step
// that reaches the goal (which terminates the episode), -0.01 on every other step; truncated at maxSteps, 4 size^2
// by default.
// Observations, binary planes:
// - partial (18 numbers): the 3 x 3 cells centred on the agent, row-major, first a wall plane (1 wall or off the
//   grid), then a goal plane (1 at the goal);
// - full (3 size^2): the wall plane, the agent plane and the goal plane of the whole grid, each row-major.
import type { EnvDef, SpecOf } from './model.js';
import { drawMaze } from './maze.js';

const MOVES = [
  [-1, 0],
  [0, 1],
  [1, 0],
  [0, -1],
];

export const gridWorld: EnvDef<SpecOf<'gridworld'>> = {
  model(spec) {
    const size = spec.size;
    const cells = size * size;
    const I = cells + 2; // instance: cells, start, goal
    const partial = spec.observation === 'partial';
    return {
      observationSize: partial ? 18 : 3 * cells,
      action: { kind: 'discrete', n: 4 },
      timeLimit: spec.maxSteps ?? 4 * cells,
      stateSize: 1,
      instanceSize: I,
      renderStateSize: 4 + cells,
      constants: [],
      drawInstance(rng, data, offset) {
        const maze = drawMaze(rng, size, spec.walls);
        data.set(maze.cells, offset);
        data[offset + cells] = maze.start;
        data[offset + cells + 1] = maze.goal;
      },
      reset(x, i) {
        x.state[i] = x.inst[i * I + cells];
      },
      step(x, i, act) {
        const at = x.state[i];
        const [dr, dc] = MOVES[act[i]];
        const r = Math.floor(at / size) + dr;
        const c = (at % size) + dc;
        const to = r * size + c;
        const free = r >= 0 && r < size && c >= 0 && c < size && x.inst[i * I + to] === 0;
        const next = free ? to : at;
        x.state[i] = next;
        const goal = next === x.inst[i * I + cells + 1];
        x.terminated[i] = goal ? 1 : 0;
        x.rewards[i] = goal ? 1 : -0.01;
      },
      observe(x, i, out, offset) {
        const o = i * I;
        const at = x.state[i];
        const goal = x.inst[o + cells + 1];
        if (partial) {
          const [r0, c0] = [Math.floor(at / size), at % size];
          for (let dr = -1, k = 0; dr <= 1; dr++) {
            for (let dc = -1; dc <= 1; dc++, k++) {
              const [r, c] = [r0 + dr, c0 + dc];
              const inside = r >= 0 && r < size && c >= 0 && c < size;
              out[offset + k] = inside ? x.inst[o + r * size + c] : 1;
              out[offset + 9 + k] = inside && r * size + c === goal ? 1 : 0;
            }
          }
          return;
        }
        for (let c = 0; c < cells; c++) {
          out[offset + c] = x.inst[o + c];
          out[offset + cells + c] = c === at ? 1 : 0;
          out[offset + 2 * cells + c] = c === goal ? 1 : 0;
        }
      },
      renderState(x, i) {
        const o = i * I;
        const [at, goal] = [x.state[i], x.inst[o + cells + 1]];
        const grid = Array.from(x.inst.subarray(o, o + cells));
        return [Math.floor(at / size), at % size, Math.floor(goal / size), goal % size, ...grid];
      },
      params: () => ({ size }),
    };
  },
};
