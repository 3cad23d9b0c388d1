// A grid world: each instance is a random maze (./maze.ts) with its own start cell (every episode starts there) and
// goal. Actions 0 up, 1 right, 2 down, 3 left; a move into a wall or off the grid stays put. Reward +1 on the step
// that reaches the goal (which terminates the episode), -0.01 on every other step; truncated at maxSteps, 4 size^2
// by default. With `objects` two (or two-swapped), a second object on another free cell, drawn after the maze:
// reaching it gives -1 (+1 swapped, when the goal gives -1), and ends the episode too. It lies where each object
// can be reached from the start without passing the other (where the maze allows it).
// Observations, binary planes:
// - partial (18 numbers; 27 with two objects): the 3 x 3 cells centred on the agent, row-major, first a wall plane
//   (1 wall or off the grid), then a goal plane (1 at the goal), then the other object's plane;
// - full (3 size^2; 4 size^2): the wall, agent and goal planes of the whole grid, each row-major, then the other
//   object's.
import type { EnvDef, SpecOf } from './model.js';
import type { Rng } from '../rng.js';
import { drawMaze, type Maze, reachableFrom } from './maze.js';

const MOVES = [
  [-1, 0],
  [0, 1],
  [1, 0],
  [0, -1],
];

/**
 * A free cell for the second object that the start reaches without passing the goal, and whose object does not
 * stand between the start and the goal (any other free cell where the maze has none such).
 */
function otherObject(maze: Maze, size: number, rng: Rng): number {
  const { cells, start, goal } = maze;
  const free = [...cells.keys()].filter((c) => cells[c] === 0 && c !== start && c !== goal);
  const walled = (c: number) => {
    const copy = cells.slice();
    copy[c] = 1;
    return copy;
  };
  const beforeGoal = walled(goal);
  const all = reachableFrom(cells, size, start);
  const clear = free.filter(
    (c) => reachableFrom(walled(c), size, start) === all - 1 && reaches(beforeGoal, size, start, c),
  );
  const pick = clear.length ? clear : free;
  return pick[rng.int(pick.length)];
}

/** Whether `to` is reached from `from` through free cells (it may itself be free or not). */
function reaches(cells: Uint8Array, size: number, from: number, to: number): boolean {
  const open = cells.slice();
  open[to] = 0;
  const target = open.slice();
  target[to] = 1;
  return reachableFrom(open, size, from) > reachableFrom(target, size, from);
}

export const gridWorld: EnvDef<SpecOf<'gridworld'>> = {
  model(spec) {
    const size = spec.size;
    const cells = size * size;
    const two = spec.objects !== 'goal';
    const [goalReward, otherReward] = spec.objects === 'two-swapped' ? [-1, 1] : [1, -1];
    const I = cells + (two ? 3 : 2); // instance: cells, start, goal, the other object
    const partial = spec.observation === 'partial';
    const planes = two ? 1 : 0; // the other object's plane, after the others
    return {
      observationSize: partial ? 18 + 9 * planes : (3 + planes) * cells,
      action: { kind: 'discrete', n: 4 },
      timeLimit: spec.maxSteps ?? 4 * cells,
      stateSize: 1,
      instanceSize: I,
      renderStateSize: 4 + cells + 2 * planes,
      constants: [],
      drawInstance(rng, data, offset) {
        const maze = drawMaze(rng, size, spec.walls);
        data.set(maze.cells, offset);
        data[offset + cells] = maze.start;
        data[offset + cells + 1] = maze.goal;
        if (two) data[offset + cells + 2] = otherObject(maze, size, rng);
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
        const other = two && next === x.inst[i * I + cells + 2];
        x.terminated[i] = goal || other ? 1 : 0;
        x.rewards[i] = goal ? goalReward : other ? otherReward : -0.01;
      },
      observe(x, i, out, offset) {
        const o = i * I;
        const at = x.state[i];
        const goal = x.inst[o + cells + 1];
        const other = two ? x.inst[o + cells + 2] : -1;
        if (partial) {
          const [r0, c0] = [Math.floor(at / size), at % size];
          for (let dr = -1, k = 0; dr <= 1; dr++) {
            for (let dc = -1; dc <= 1; dc++, k++) {
              const [r, c] = [r0 + dr, c0 + dc];
              const inside = r >= 0 && r < size && c >= 0 && c < size;
              out[offset + k] = inside ? x.inst[o + r * size + c] : 1;
              out[offset + 9 + k] = inside && r * size + c === goal ? 1 : 0;
              if (two) out[offset + 18 + k] = inside && r * size + c === other ? 1 : 0;
            }
          }
          return;
        }
        for (let c = 0; c < cells; c++) {
          out[offset + c] = x.inst[o + c];
          out[offset + cells + c] = c === at ? 1 : 0;
          out[offset + 2 * cells + c] = c === goal ? 1 : 0;
          if (two) out[offset + 3 * cells + c] = c === other ? 1 : 0;
        }
      },
      renderState(x, i) {
        const o = i * I;
        const [at, goal] = [x.state[i], x.inst[o + cells + 1]];
        const grid = Array.from(x.inst.subarray(o, o + cells));
        const other = x.inst[o + cells + 2];
        const rest = two ? [Math.floor(other / size), other % size] : [];
        return [Math.floor(at / size), at % size, Math.floor(goal / size), goal % size, ...grid, ...rest];
      },
      params: () => ({ size }),
    };
  },
};
