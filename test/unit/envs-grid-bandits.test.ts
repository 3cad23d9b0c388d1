// The bandits and the grid world (main/engine/envs/bandits.ts, gridWorld.ts, maze.ts).
import { describe, expect, it } from 'vitest';
import { rlTask } from '../../shared/spec';
import { createVecEnv, drawInstance } from '../../main/engine/envs';
import { drawMaze, freeCellsConnected, reachableFrom } from '../../main/engine/envs/maze';
import { Rng } from '../../main/engine/rng';

const task = (env: object, flags: object = {}) => rlTask.parse({ family: 'rl', env, ...flags });

describe('bandits', () => {
  it('a Bernoulli arm pays 1 with its probability; every pull is an episode of one step', () => {
    const env = createVecEnv(task({ name: 'bernoulli-bandit', arms: 3 }, { numTasks: 'fresh' }), 2, 2);
    expect(env.reset()).toEqual(new Float32Array(2));
    const p = [env.renderState(0), env.renderState(1)];
    expect(p[0]).not.toEqual(p[1]);
    expect(p.flat().every((v) => v >= 0 && v < 1)).toBe(true);
    const paid = [
      [0, 0, 0],
      [0, 0, 0],
    ];
    const pulls = 3000;
    for (let t = 0; t < pulls; t++) {
      const arm = t % 3;
      const r = env.step(Float32Array.of(arm, arm));
      expect([...r.terminated, ...r.truncated, ...r.obs]).toEqual([1, 1, 0, 0, 0, 0]);
      for (let i = 0; i < 2; i++) paid[i][arm] += r.rewards[i];
    }
    for (let i = 0; i < 2; i++) {
      for (let k = 0; k < 3; k++) expect(Math.abs(paid[i][k] / (pulls / 3) - p[i][k])).toBeLessThan(0.06);
    }
    expect(env.params(0)).toEqual({ arms: 3 });
  });

  it('the dependent bandit pays with p and 1 - p, p ~ U(0, 1) across instances', () => {
    const t = task({ name: 'dependent-bandit' }, { numTasks: 'fresh' });
    const ps = Array.from({ length: 400 }, (_, id) => [...drawInstance(t, 1, 'train', id).data]);
    for (const [a, b] of ps) expect(a + b).toBeCloseTo(1, 12);
    const mean = ps.reduce((s, [a]) => s + a, 0) / ps.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    expect(Math.min(...ps.map(([a]) => a))).toBeLessThan(0.02);
  });

  it('the swapping bandit reverses its arms after pull swapAt of a trial; a new trial starts the count again', () => {
    const env = createVecEnv(task({ name: 'swapping-bandit', arms: 3, swapAt: 4 }, { numTasks: 'fresh' }), 5, 1);
    env.reset();
    const p = env.renderState(0);
    expect(env.params(0)).toEqual({ arms: 3, swapAt: 4 });
    const pull = (arm: number) => env.step(Float32Array.of(arm)).rewards[0];
    for (let t = 0; t < 4; t++) {
      expect(env.renderState(0)).toEqual(p);
      pull(0);
    }
    expect(env.renderState(0)).toEqual([...p].reverse());
    // After the swap, arm 0 pays with the last arm's probability: the count of its payouts says so.
    const saved = env.save();
    let paid = 0;
    for (let t = 0; t < 4000; t++) paid += pull(0);
    expect(Math.abs(paid / 4000 - p[2])).toBeLessThan(0.03);
    // Restored mid-trial: still swapped. A new trial in the slot: unswapped until its own pull 4.
    env.restore(saved);
    expect(env.renderState(0)).toEqual([...p].reverse());
    env.assign(0, 'train', 7);
    const q = env.renderState(0);
    expect(q).not.toEqual(p);
    pull(1);
    expect(env.renderState(0)).toEqual(q);
  });
});

describe('grid world', () => {
  it('mazes: free cells all connected, the wall fraction kept, start and goal distinct free cells', () => {
    const rng = new Rng(3);
    for (const [size, walls] of [
      [3, 0.4],
      [5, 0.2],
      [9, 0.4],
      [15, 0.3],
    ]) {
      for (let k = 0; k < 20; k++) {
        const m = drawMaze(rng, size, walls);
        expect(freeCellsConnected(m.cells, size)).toBe(true);
        expect(m.cells.reduce((s, c) => s + c, 0)).toBe(Math.round(walls * size * size));
        expect([m.cells[m.start], m.cells[m.goal]]).toEqual([0, 0]);
        expect(m.start).not.toBe(m.goal);
      }
    }
    const cut = Uint8Array.from([0, 1, 0, 0, 1, 0, 0, 1, 0]);
    expect(freeCellsConnected(cut, 3)).toBe(false);
    expect(reachableFrom(cut, 3, 0)).toBe(3);
  });

  /** A 4 x 4 grid world in one slot whose maze we read back from its render state. */
  function grid(observation: 'partial' | 'full') {
    const env = createVecEnv(task({ name: 'gridworld', size: 4, walls: 0.25, observation }), 6, 1);
    env.reset();
    const s = env.renderState(0);
    const cells = s.slice(4);
    return { env, agent: [s[0], s[1]], goal: [s[2], s[3]], wall: (r: number, c: number) => cells[r * 4 + c] === 1 };
  }

  it('moves up, right, down, left; walls and edges stop the agent; -0.01 a step, +1 at the goal', () => {
    const { env, goal, wall } = grid('partial');
    expect(env.maxSteps).toBe(64);
    const MOVES = [
      [-1, 0],
      [0, 1],
      [1, 0],
      [0, -1],
    ];
    const rng = new Rng(5);
    let reached = 0;
    for (let t = 0; t < 2000; t++) {
      const [r, c] = env.renderState(0);
      const a = rng.int(4);
      const [nr, nc] = [r + MOVES[a][0], c + MOVES[a][1]];
      const blocked = nr < 0 || nr > 3 || nc < 0 || nc > 3 || wall(nr, nc);
      const [er, ec] = blocked ? [r, c] : [nr, nc];
      const out = env.step(Float32Array.of(a));
      const atGoal = er === goal[0] && ec === goal[1];
      expect(out.rewards[0]).toBeCloseTo(atGoal ? 1 : -0.01, 7);
      expect(out.terminated[0]).toBe(atGoal ? 1 : 0);
      if (atGoal) reached++;
      else if (!out.truncated[0]) expect(env.renderState(0).slice(0, 2)).toEqual([er, ec]);
    }
    expect(reached).toBeGreaterThan(0);
  });

  it('the partial view is the 3 x 3 wall plane (off-grid counts as wall) and goal plane around the agent', () => {
    const { env, wall } = grid('partial');
    const rng = new Rng(9);
    let obs = env.observe();
    for (let t = 0; t < 200; t++) {
      const [r, c, gr, gc] = env.renderState(0);
      for (let dr = -1, k = 0; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++, k++) {
          const [y, x] = [r + dr, c + dc];
          const off = y < 0 || y > 3 || x < 0 || x > 3;
          expect(obs[k]).toBe(off || wall(y, x) ? 1 : 0);
          expect(obs[9 + k]).toBe(y === gr && x === gc ? 1 : 0);
        }
      }
      obs = env.step(Float32Array.of(rng.int(4))).obs;
    }
  });

  it('the full view is the wall, agent and goal planes', () => {
    const { env } = grid('full');
    const obs = env.observe();
    const [r, c, gr, gc, ...cells] = env.renderState(0);
    expect(Array.from(obs.subarray(0, 16))).toEqual(cells);
    expect(Array.from(obs.subarray(16, 32))).toEqual(Array.from({ length: 16 }, (_, k) => (k === r * 4 + c ? 1 : 0)));
    expect(Array.from(obs.subarray(32, 48))).toEqual(Array.from({ length: 16 }, (_, k) => (k === gr * 4 + gc ? 1 : 0)));
  });

  it('two objects: the goal +1 and the other -1 (swapped: -1 and +1), each ends the episode; a plane each', () => {
    for (const objects of ['two', 'two-swapped'] as const) {
      const env = createVecEnv(task({ name: 'gridworld', size: 4, walls: 0.25, objects }), 6, 1);
      env.reset();
      const [, , gr, gc, ...rest] = env.renderState(0);
      const [cells, [or, oc]] = [rest.slice(0, 16), rest.slice(16)];
      expect(rest).toHaveLength(18);
      expect(cells[or * 4 + oc]).toBe(0);
      expect([or, oc]).not.toEqual([gr, gc]);
      expect(env.observationSize).toBe(27);
      const rng = new Rng(3);
      const seen = new Set<number>();
      let obs = env.observe();
      for (let t = 0; t < 3000; t++) {
        const [r, c] = env.renderState(0);
        for (let dr = -1, k = 0; dr <= 1; dr++)
          for (let dc = -1; dc <= 1; dc++, k++) expect(obs[18 + k]).toBe(r + dr === or && c + dc === oc ? 1 : 0);
        const out = env.step(Float32Array.of(rng.int(4)));
        obs = out.obs;
        if (out.terminated[0]) seen.add(out.rewards[0]);
        else expect(out.rewards[0]).toBeCloseTo(-0.01, 7);
      }
      // Both objects reached: +1 and -1, whichever object pays which.
      expect([...seen].sort()).toEqual([-1, 1]);
      // Which pays +1: step onto the goal from a free neighbour.
      const s = createVecEnv(task({ name: 'gridworld', size: 4, walls: 0.25, objects }), 6, 1);
      s.reset();
      expect(goalReward(s, gr, gc)).toBe(objects === 'two' ? 1 : -1);
    }
  });

  it('an instance keeps its maze and start across episodes; other instances differ', () => {
    const env = createVecEnv(task({ name: 'gridworld', size: 5, maxSteps: 3 }, { numTasks: 5 }), 1, 2);
    env.reset();
    const first = [env.renderState(0), env.renderState(1)];
    expect(first[0]).not.toEqual(first[1]);
    for (let t = 0; t < 3; t++) env.step(Float32Array.of(1, 2));
    expect([env.renderState(0), env.renderState(1)]).toEqual(first);
  });
});

/** The reward of walking into the goal at (gr, gc) by a shortest path in a one-slot grid world (breadth first). */
function goalReward(env: ReturnType<typeof createVecEnv>, gr: number, gc: number): number {
  const [r0, c0, , , ...rest] = env.renderState(0);
  const size = Math.round(Math.sqrt(rest.length - 2));
  const moves = [
    [-1, 0],
    [0, 1],
    [1, 0],
    [0, -1],
  ];
  const [or, oc] = rest.slice(size * size);
  const free = (r: number, c: number) =>
    r >= 0 && r < size && c >= 0 && c < size && rest[r * size + c] === 0 && !(r === or && c === oc);
  const previous = new Map<number, [number, number]>([[r0 * size + c0, [-1, -1]]]);
  const queue = [[r0, c0]];
  while (queue.length) {
    const [r, c] = queue.shift()!;
    if (r === gr && c === gc) break;
    moves.forEach(([dr, dc], a) => {
      const [nr, nc] = [r + dr, c + dc];
      if ((free(nr, nc) || (nr === gr && nc === gc)) && !previous.has(nr * size + nc)) {
        previous.set(nr * size + nc, [r * size + c, a]);
        queue.push([nr, nc]);
      }
    });
  }
  const path: number[] = [];
  for (let at = gr * size + gc; previous.get(at)![0] >= 0; at = previous.get(at)![0])
    path.unshift(previous.get(at)![1]);
  let reward = 0;
  for (const a of path) reward = env.step(Float32Array.of(a)).rewards[0];
  return reward;
}
