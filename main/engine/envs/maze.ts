// Random mazes for the grid world: size x size cells, row-major, 1 wall and 0 free; outside the grid counts as wall.
// Walls go in one at a time in a random order, and a cell whose wall would cut the free cells apart stays free, so
// every free cell reaches every other one (the start reaches the goal). The maze has round(walls * size^2) walls,
// at most size^2 - 2.
import type { Rng } from '../rng.js';

export interface Maze {
  cells: Uint8Array;
  start: number;
  goal: number;
}

/** Cells reachable from `from` through free cells (4-neighbourhood). */
export function reachableFrom(cells: Uint8Array, size: number, from: number): number {
  const seen = new Uint8Array(cells.length);
  const queue = new Int32Array(cells.length);
  let [head, tail] = [0, 0];
  queue[tail++] = from;
  seen[from] = 1;
  while (head < tail) {
    const c = queue[head++];
    const [r, k] = [Math.floor(c / size), c % size];
    for (const [nr, nk] of [
      [r - 1, k],
      [r, k + 1],
      [r + 1, k],
      [r, k - 1],
    ]) {
      const n = nr * size + nk;
      if (nr < 0 || nr >= size || nk < 0 || nk >= size || cells[n] || seen[n]) continue;
      seen[n] = 1;
      queue[tail++] = n;
    }
  }
  return tail;
}

/** Whether every free cell reaches every other one. */
export function freeCellsConnected(cells: Uint8Array, size: number): boolean {
  const first = cells.indexOf(0);
  if (first < 0) return false;
  const free = cells.length - cells.reduce((a, b) => a + b, 0);
  return reachableFrom(cells, size, first) === free;
}

/** A maze with round(wallFraction * size^2) walls (at most size^2 - 2), its free cells connected. */
export function drawMaze(rng: Rng, size: number, wallFraction: number): Maze {
  const count = size * size;
  const cells = new Uint8Array(count);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const target = Math.min(Math.round(wallFraction * count), count - 2);
  // A connected set of free cells always has one whose wall keeps the rest connected (a leaf of a spanning tree),
  // but it may be a cell skipped earlier: pass over the order again until the count is reached.
  let walls = 0;
  for (let progress = true; walls < target && progress; ) {
    progress = false;
    for (let k = 0; k < count && walls < target; k++) {
      if (cells[order[k]]) continue;
      cells[order[k]] = 1;
      if (freeCellsConnected(cells, size)) [walls, progress] = [walls + 1, true];
      else cells[order[k]] = 0;
    }
  }
  const free = [...cells.keys()].filter((c) => cells[c] === 0);
  const start = free[rng.int(free.length)];
  const others = free.filter((c) => c !== start);
  return { cells, start, goal: others[rng.int(others.length)] };
}
