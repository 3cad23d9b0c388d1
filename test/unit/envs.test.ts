// Classic control against Gymnasium's equations: a scalar float64 transcription of each step written here from
// Gymnasium 1.x's classic_control sources (and DESIGN.md section 5), and the NumPy peer (bench/peer/envs.py) where
// Debian's python3 has NumPy. Plus initial-state ranges, termination, truncation and action clipping. The same for
// metalab's continuous-force CartPole and point-mass (main/engine/envs/cartPole.ts, pointMass.ts), and physics.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ClassicControlName, rlTask } from '../../shared/spec';
import { createVecEnv, type VecEnv, type VecStep } from '../../main/engine/envs';
import { Rng } from '../../main/engine/rng';
import { pythonWith } from '../helpers/system';

const task = (name: string, extra: object = {}) => rlTask.parse({ family: 'rl', env: { name, ...extra } });

type State = number[];
type Constants = Record<string, number>;
interface Reference {
  /** One step by action `a` (its numbers), with the instance's constants `c` where the transcription reads them. */
  step(s: State, a: number[], c?: Constants): { s: State; reward: number; terminated: boolean };
  observe(s: State): number[];
  /** The state at reset from the render state there, where the two differ. */
  initial?(render: number[]): State;
}

const { PI, cos, sin } = Math;
const clip = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
/** A linear state feedback on [x, x_dot, theta, theta_dot] that keeps the continuous cart's pole up. */
const GAINS = [0.1, 0.3, 10, 2];

const CART: Constants = { gravity: 9.8, masscart: 1.0, masspole: 0.1, length: 0.5, force_mag: 10.0 };

/** Gymnasium's CartPoleEnv.step (explicit Euler, kinematics_integrator 'euler'), pushed by push x force_mag. */
function cartStep([x, xDot, th, thDot]: State, push: number, c: Constants = CART) {
  const { gravity: g, masscart: mc, masspole: mp, length: l, force_mag: f } = c;
  const tau = 0.02;
  const force = push * f;
  const temp = (force + mp * l * thDot ** 2 * sin(th)) / (mp + mc);
  const thAcc = (g * sin(th) - cos(th) * temp) / (l * (4 / 3 - (mp * cos(th) ** 2) / (mp + mc)));
  const xAcc = temp - (mp * l * thAcc * cos(th)) / (mp + mc);
  const s = [x + tau * xDot, xDot + tau * xAcc, th + tau * thDot, thDot + tau * thAcc];
  const limit = (12 * 2 * PI) / 360;
  return { s, reward: 1, terminated: Math.abs(s[0]) > 2.4 || Math.abs(s[2]) > limit };
}

const cartPole: Reference = { step: (s, [a], c) => cartStep(s, a === 1 ? 1 : -1, c), observe: (s) => s };
const cartPoleContinuous: Reference = { step: (s, [a], c) => cartStep(s, a, c), observe: (s) => s };

/** point-mass as its file header defines it: velocity first, then position, walls stop the mass. */
const pointMass: Reference = {
  step(s, a, c = { mass: 1, damping: 0.5 }) {
    const dt = 0.1;
    const next = [...s];
    for (const k of [0, 1]) {
      let v = s[2 + k] + (dt * (a[k] - c.damping * s[2 + k])) / c.mass;
      let p = s[k] + dt * v;
      if (p < 0 || p > 1) [p, v] = [clip(p, 0, 1), 0];
      [next[k], next[2 + k]] = [p, v];
    }
    const reward = -Math.hypot(next[0] - s[4], next[1] - s[5]) - 0.01 * (a[0] ** 2 + a[1] ** 2);
    return { s: next, reward, terminated: false };
  },
  observe: ([px, py, vx, vy, gx, gy]) => [px, py, vx, vy, gx - px, gy - py],
  initial: ([px, py, gx, gy]) => [px, py, 0, 0, gx, gy],
};

/** Gymnasium's AcrobotEnv: _dsdt ('book'), one rk4 step of 0.2, wrap and bound. */
const acrobot: Reference = {
  step(s0, [a]) {
    const torque = [-1, 0, 1][a];
    const f = ([t1, t2, d1, d2]: State): State => {
      const [m1, m2, l1, lc1, lc2, I, g] = [1, 1, 1, 0.5, 0.5, 1, 9.8];
      const dd1 = m1 * lc1 ** 2 + m2 * (l1 ** 2 + lc2 ** 2 + 2 * l1 * lc2 * cos(t2)) + I + I;
      const dd2 = m2 * (lc2 ** 2 + l1 * lc2 * cos(t2)) + I;
      const phi2 = m2 * lc2 * g * cos(t1 + t2 - PI / 2);
      const phi1 =
        -m2 * l1 * lc2 * d2 ** 2 * sin(t2) -
        2 * m2 * l1 * lc2 * d2 * d1 * sin(t2) +
        (m1 * lc1 + m2 * l1) * g * cos(t1 - PI / 2) +
        phi2;
      const acc2 =
        (torque + (dd2 / dd1) * phi1 - m2 * l1 * lc2 * d1 ** 2 * sin(t2) - phi2) / (m2 * lc2 ** 2 + I - dd2 ** 2 / dd1);
      return [d1, d2, -(dd2 * acc2 + phi1) / dd1, acc2];
    };
    const add = (y: State, h: number, k: State) => y.map((v, j) => v + h * k[j]);
    const k1 = f(s0);
    const k2 = f(add(s0, 0.1, k1));
    const k3 = f(add(s0, 0.1, k2));
    const k4 = f(add(s0, 0.2, k3));
    const y = s0.map((v, j) => v + (0.2 / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]));
    const wrap = (x: number) => {
      while (x > PI) x -= 2 * PI;
      while (x < -PI) x += 2 * PI;
      return x;
    };
    const s = [wrap(y[0]), wrap(y[1]), clip(y[2], -4 * PI, 4 * PI), clip(y[3], -9 * PI, 9 * PI)];
    const terminated = -cos(s[0]) - cos(s[1] + s[0]) > 1;
    return { s, reward: terminated ? 0 : -1, terminated };
  },
  observe: ([t1, t2, d1, d2]) => [cos(t1), sin(t1), cos(t2), sin(t2), d1, d2],
};

/** Both mountain cars: the velocity update, then the position, and the left wall. */
function car(s: State, push: number): State {
  let v = clip(s[1] + push - 0.0025 * cos(3 * s[0]), -0.07, 0.07);
  const x = clip(s[0] + v, -1.2, 0.6);
  if (x === -1.2 && v < 0) v = 0;
  return [x, v];
}

const mountainCar: Reference = {
  step(s0, [a]) {
    const s = car(s0, (a - 1) * 0.001);
    return { s, reward: -1, terminated: s[0] >= 0.5 && s[1] >= 0 };
  },
  observe: (s) => s,
};

const mountainCarContinuous: Reference = {
  step(s0, [a]) {
    const next = car(s0, a * 0.0015);
    const terminated = next[0] >= 0.45 && next[1] >= 0;
    // Gymnasium stores this car's state as float32.
    return { s: next.map(Math.fround), reward: (terminated ? 100 : 0) - 0.1 * a ** 2, terminated };
  },
  observe: (s) => s,
};

const pendulum: Reference = {
  step([th, thDot], [u]) {
    const norm = (((((th + PI) % (2 * PI)) + 2 * PI) % (2 * PI)) - PI) ** 2;
    const reward = -(norm + 0.1 * thDot ** 2 + 0.001 * u ** 2);
    const w = clip(thDot + (((3 * 10) / 2) * sin(th) + 3 * u) * 0.05, -8, 8);
    return { s: [th + w * 0.05, w], reward, terminated: false };
  },
  observe: ([th, w]) => [cos(th), sin(th), w],
};

type Compared = ClassicControlName | 'CartPoleContinuous' | 'point-mass';
const REFERENCES: Record<Compared, Reference> = {
  'CartPole-v1': cartPole,
  'Acrobot-v1': acrobot,
  'MountainCar-v0': mountainCar,
  'MountainCarContinuous-v0': mountainCarContinuous,
  'Pendulum-v1': pendulum,
  CartPoleContinuous: cartPoleContinuous,
  'point-mass': pointMass,
};

/** A fixed sequence of random actions for n slots: indices, or values within the bounds. */
function actionsFor(env: VecEnv, steps: number, seed = 3): Float32Array[] {
  const rng = new Rng(seed);
  const a = env.action;
  const size = a.kind === 'discrete' ? 1 : a.size;
  return Array.from({ length: steps }, () =>
    Float32Array.from({ length: env.n * size }, () =>
      a.kind === 'discrete' ? rng.int(a.n) : (rng.next() * 2 - 1) * a.high,
    ),
  );
}

interface Trajectory {
  initial: State[];
  /** Each instance's constants. */
  params: Constants[];
  actions: Float32Array[];
  /** Numbers per instance in each row of `actions`. */
  actionSize: number;
  obs: number[][][];
  rewards: number[][];
  terminated: number[][];
  /** Steps of each slot's first episode. */
  length: number[];
}

/** n slots (n instances) from their reset through `steps` steps; each compared until its first episode ends. */
function ours(name: Compared, n: number, steps: number, extra: object = {}): Trajectory {
  const env = createVecEnv(rlTask.parse({ family: 'rl', env: { name, ...extra }, numTasks: n }), 11, n);
  env.reset();
  const initialOf = REFERENCES[name].initial ?? ((r: number[]) => r);
  const initial = Array.from({ length: n }, (_, i) => initialOf(env.renderState(i)));
  const params = Array.from({ length: n }, (_, i) => env.params(i));
  const actions = actionsFor(env, steps);
  const actionSize = actions[0].length / n;
  const t: Trajectory = {
    initial,
    params,
    actions,
    actionSize,
    obs: [],
    rewards: [],
    terminated: [],
    length: Array(n).fill(steps),
  };
  actions.forEach((a, k) => {
    const r = env.step(a);
    const d = env.observationSize;
    const seen = (i: number) => (r.terminated[i] || r.truncated[i] ? r.finalObs : r.obs);
    t.obs.push(Array.from({ length: n }, (_, i) => Array.from(seen(i).subarray(i * d, i * d + d))));
    t.rewards.push(Array.from(r.rewards));
    t.terminated.push(Array.from(r.terminated));
    for (let i = 0; i < n; i++) if ((r.terminated[i] || r.truncated[i]) && t.length[i] === steps) t.length[i] = k + 1;
  });
  return t;
}

/** Slot i's action at step k of a trajectory. */
const actionOf = (t: Trajectory, k: number, i: number) =>
  Array.from(t.actions[k].subarray(i * t.actionSize, (i + 1) * t.actionSize));

/** Each slot of `t` stepped by the transcription with its own constants: observations, rewards, ends compared. */
function expectTranscription(name: Compared, t: Trajectory): number {
  const ref = REFERENCES[name];
  let compared = 0;
  t.initial.forEach((s0, i) => {
    let s = s0;
    for (let k = 0; k < t.length[i]; k++) {
      const r = ref.step(s, actionOf(t, k, i), t.params[i]);
      s = r.s;
      const expected = ref.observe(s).map(Math.fround);
      expectClose(t.obs[k][i], expected, 1e-6, `${name} slot ${i} step ${k}`);
      expect(close(t.rewards[k][i], Math.fround(r.reward), 1e-6)).toBe(true);
      expect(t.terminated[k][i]).toBe(r.terminated ? 1 : 0);
      compared++;
    }
  });
  return compared;
}

const close = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

/** Every number of `actual` within `tol` of `expected` (relative above 1, absolute below). */
function expectClose(actual: number[], expected: number[], tol: number, label: string): void {
  expect(actual.length, label).toBe(expected.length);
  const off = actual.filter((v, j) => !close(v, expected[j], tol));
  expect(off, `${label}: ${actual} vs ${expected}`).toEqual([]);
}

describe('classic control against Gymnasium equations', () => {
  for (const name of Object.keys(REFERENCES) as Compared[]) {
    it(`${name}: the first steps of 4 instances equal a scalar float64 transcription`, () => {
      expect(expectTranscription(name, ours(name, 4, 150))).toBeGreaterThan(40);
    });
  }

  it('randomised physics reach the dynamics: each instance follows the transcription with its own constants', () => {
    for (const name of ['CartPole-v1', 'CartPoleContinuous', 'point-mass'] as const) {
      const t = ours(name, 4, 150, { physics: 0.5 });
      expect(t.params[0]).not.toEqual(t.params[1]);
      expect(t.params.every((p) => Object.keys(p).length === (name === 'point-mass' ? 2 : 5))).toBe(true);
      expect(expectTranscription(name, t)).toBeGreaterThan(40);
    }
  });

  it('CartPole-v1 from rest, pushed right: the numbers worked by hand', () => {
    // temp = 10 / 1.1; thetaacc = -temp / (0.5 (4/3 - 0.1 / 1.1)); xacc = temp - 0.05 thetaacc / 1.1
    const temp = 10 / 1.1;
    const thetaAcc = -temp / (0.5 * (4 / 3 - 0.1 / 1.1));
    expect(thetaAcc).toBeCloseTo(-14.634146, 5);
    const xAcc = temp - (0.05 * thetaAcc) / 1.1;
    expect(xAcc).toBeCloseTo(9.756098, 5);
    const { s } = cartPole.step([0, 0, 0, 0], [1]);
    expect(s[1]).toBeCloseTo(0.195122, 6);
    expect(s[3]).toBeCloseTo(-0.292683, 6);
  });

  const python = pythonWith('numpy', 'classic control against the NumPy peer');
  it.skipIf(!python)('matches the NumPy peer (bench/peer/envs.py) on the same initial states and actions', () => {
    for (const name of Object.keys(REFERENCES) as Compared[]) {
      const t = ours(name, 4, 60);
      const peer = spawnSync(python!, [path.join(__dirname, '../../bench/peer/envs.py'), 'trajectory'], {
        input: JSON.stringify({ env: name, states: t.initial, actions: t.actions.map((a) => Array.from(a)) }),
        encoding: 'utf8',
      });
      expect(peer.status, peer.stderr).toBe(0);
      const p = JSON.parse(peer.stdout) as { obs: number[][][]; rewards: number[][]; terminated: number[][] };
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < t.length[i]; k++) {
          expectClose(t.obs[k][i], p.obs[k][i], 1e-5, `${name} slot ${i} step ${k}`);
          expect(close(t.rewards[k][i], p.rewards[k][i], 1e-6)).toBe(true);
          expect(t.terminated[k][i]).toBe(p.terminated[k][i]);
        }
      }
    }
  });
});

describe('classic control episodes', () => {
  /** Runs one slot under `policy` until `episodes` episodes ended; returns each one's steps, return and end. */
  function episodes(name: string, policy: (obs: Float32Array) => number | number[], count: number) {
    const env = createVecEnv(task(name), 5, 1);
    let obs = env.reset();
    const out: { steps: number; ret: number; last: number; terminated: boolean; final: number[] }[] = [];
    let [steps, ret] = [0, 0];
    while (out.length < count) {
      const r = env.step(Float32Array.from([policy(obs)].flat()));
      steps++;
      ret += r.rewards[0];
      if (r.terminated[0] || r.truncated[0]) {
        out.push({ steps, ret, last: r.rewards[0], terminated: r.terminated[0] === 1, final: Array.from(r.finalObs) });
        [steps, ret] = [0, 0];
      } else expect(Array.from(r.finalObs).every((v) => v === 0)).toBe(true);
      obs = r.obs;
    }
    return out;
  }

  it('initial states are drawn from the documented ranges', () => {
    const ranges: [string, [number, number][]][] = [
      ['CartPole-v1', Array(4).fill([-0.05, 0.05])],
      ['Acrobot-v1', Array(4).fill([-0.1, 0.1])],
      [
        'MountainCar-v0',
        [
          [-0.6, -0.4],
          [0, 0],
        ],
      ],
      [
        'MountainCarContinuous-v0',
        [
          [-0.6, -0.4],
          [0, 0],
        ],
      ],
      [
        'Pendulum-v1',
        [
          [-PI, PI],
          [-1, 1],
        ],
      ],
      ['CartPoleContinuous', Array(4).fill([-0.05, 0.05])],
      ['point-mass', Array(4).fill([0.1, 0.9])],
    ];
    for (const [name, bounds] of ranges) {
      const env = createVecEnv(task(name), 2, 300);
      env.reset();
      const states = Array.from({ length: 300 }, (_, i) => env.renderState(i));
      bounds.forEach(([lo, hi], j) => {
        const column = states.map((s) => s[j]);
        expect(Math.min(...column)).toBeGreaterThanOrEqual(lo);
        expect(Math.max(...column)).toBeLessThanOrEqual(hi);
        if (hi > lo) expect(Math.max(...column) - Math.min(...column)).toBeGreaterThan(0.9 * (hi - lo));
      });
      if (name === 'Acrobot-v1') expect(states.flat().every((v) => v === Math.fround(v))).toBe(true);
    }
  });

  it('CartPole-v1: reward 1 on the terminating step; a balancing controller is truncated at 500', () => {
    const fall = episodes('CartPole-v1', () => 1, 3);
    for (const e of fall) {
      expect(e).toMatchObject({ terminated: true, last: 1 });
      expect(e.ret).toBe(e.steps);
      expect(e.steps).toBeLessThan(20);
      expect(Math.abs(e.final[2])).toBeGreaterThan((12 * 2 * PI) / 360);
    }
    const balanced = episodes('CartPole-v1', (o) => (o[2] + 0.5 * o[3] > 0 ? 1 : 0), 2);
    for (const e of balanced) expect(e).toMatchObject({ steps: 500, ret: 500, terminated: false });
  });

  it('Acrobot-v1: -1 a step and 0 on the terminal step; MountainCar-v0 ends at the goal', () => {
    for (const e of episodes('Acrobot-v1', (o) => (o[4] > 0 ? 0 : 2), 3)) {
      expect(e).toMatchObject({ terminated: true, last: 0 });
      expect(e.ret).toBe(-(e.steps - 1));
      // The tip's height -cos t1 - cos(t1 + t2) from the observation [cos t1, sin t1, cos t2, sin t2, ...].
      const [c1, s1, c2, s2] = e.final;
      expect(-c1 - (c1 * c2 - s1 * s2)).toBeGreaterThan(1 - 1e-6);
    }
    for (const e of episodes('MountainCar-v0', (o) => (o[1] >= 0 ? 2 : 0), 3)) {
      expect(e).toMatchObject({ terminated: true, last: -1, ret: -e.steps });
      expect(e.final[0]).toBeGreaterThanOrEqual(0.5);
    }
    for (const e of episodes('MountainCar-v0', () => 1, 2)) expect(e).toMatchObject({ steps: 200, terminated: false });
  });

  it('MountainCarContinuous-v0: 100 at the goal minus 0.1 a^2, truncated at 999', () => {
    for (const e of episodes('MountainCarContinuous-v0', (o) => (o[1] >= 0 ? 1 : -1), 2)) {
      expect(e.terminated).toBe(true);
      expect(e.last).toBeCloseTo(99.9, 5);
      expect(e.ret).toBeCloseTo(100 - 0.1 * e.steps, 3);
    }
    const idle = episodes('MountainCarContinuous-v0', () => 0, 1)[0];
    expect(idle).toMatchObject({ steps: 999, terminated: false, ret: 0 });
  });

  it('Pendulum-v1 never terminates and is truncated at 200; the final observation is the last one', () => {
    const env = createVecEnv(task('Pendulum-v1'), 4, 3);
    env.reset();
    for (let k = 1; k <= 400; k++) {
      const before = Array.from({ length: 3 }, (_, i) => env.renderState(i));
      const r = env.step(new Float32Array(3));
      expect(Array.from(r.terminated)).toEqual([0, 0, 0]);
      expect(Array.from(r.truncated)).toEqual(Array(3).fill(k % 200 === 0 ? 1 : 0));
      if (k % 200 === 0) {
        const expected = before.flatMap((s) => pendulum.observe(pendulum.step(s, [0]).s).map(Math.fround));
        expectClose(Array.from(r.finalObs), expected, 1e-6, 'final observations');
        for (let i = 0; i < 3; i++) expect(Math.abs(env.renderState(i)[1])).toBeLessThanOrEqual(1);
      }
    }
  });

  it('CartPoleContinuous: full pushes retrace CartPole-v1 exactly; a graded force balances the pole to 500', () => {
    const discrete = createVecEnv(task('CartPole-v1'), 8, 3);
    const continuous = createVecEnv(task('CartPoleContinuous'), 8, 3);
    expect(Array.from(continuous.reset())).toEqual(Array.from(discrete.reset()));
    const all = (r: VecStep) => [...r.obs, ...r.rewards, ...r.terminated, ...r.truncated, ...r.finalObs];
    const rng = new Rng(6);
    let ends = 0;
    for (let k = 0; k < 100; k++) {
      const a = Float32Array.from({ length: 3 }, () => rng.int(2));
      const d = all(discrete.step(a));
      const c = continuous.step(a.map((v) => 2 * v - 1));
      expect(all(c)).toEqual(d);
      ends += c.terminated.reduce((x, y) => x + y, 0);
    }
    expect(ends).toBeGreaterThan(3);
    for (const e of episodes('CartPoleContinuous', () => 1, 2)) {
      expect(e).toMatchObject({ terminated: true, last: 1 });
      expect(e.steps).toBeLessThan(20);
    }
    const graded = (o: Float32Array) =>
      clip(
        GAINS.reduce((sum, g, j) => sum + g * o[j], 0),
        -1,
        1,
      );
    for (const e of episodes('CartPoleContinuous', graded, 2)) expect(e).toMatchObject({ steps: 500, ret: 500 });
  });

  it('point-mass: starts at rest, is truncated at 100, a controller reaches the goal, walls stop the mass', () => {
    const env = createVecEnv(task('point-mass'), 2, 50);
    const obs = env.reset();
    for (let i = 0; i < 50; i++) {
      const [px, py, gx, gy] = env.renderState(i);
      expectClose(Array.from(obs.subarray(i * 6, i * 6 + 6)), [px, py, 0, 0, gx - px, gy - py].map(Math.fround), 0, '');
    }
    const toGoal = (o: Float32Array) => [0, 1].map((k) => clip(4 * o[4 + k] - 2 * o[2 + k], -1, 1));
    const reached = episodes('point-mass', toGoal, 3);
    // With no force the mass stays where it started: the same distance charged on each of the 100 steps.
    const idle = episodes('point-mass', () => [0, 0], 3);
    reached.forEach((e, k) => {
      expect(e).toMatchObject({ steps: 100, terminated: false });
      expect(Math.hypot(e.final[4], e.final[5])).toBeLessThan(0.02);
      expect(e.last).toBeGreaterThan(-0.03);
      expect(idle[k]).toMatchObject({ steps: 100, terminated: false });
      expect(idle[k].ret).toBeCloseTo(100 * idle[k].last, 3);
      expect(idle[k].final.slice(2, 4)).toEqual([0, 0]);
      expect(e.ret).toBeGreaterThan(0.5 * idle[k].ret);
    });
    expect(idle[0].last).not.toBe(idle[1].last); // each episode draws its own start and goal
    for (const e of episodes('point-mass', () => [1, 1], 2)) {
      expect(e.final.slice(0, 4)).toEqual([1, 1, 0, 0]);
      expect(e.last).toBeCloseTo(-Math.hypot(e.final[4], e.final[5]) - 0.02, 6);
    }
  });

  it('the spec time limit replaces Gymnasium’s (and point-mass’s)', () => {
    const env = createVecEnv(task('CartPole-v1', { maxSteps: 7 }), 1, 1);
    expect(env.maxSteps).toBe(7);
    env.reset();
    const truncated = Array.from({ length: 14 }, (_, k) => env.step(Float32Array.of(k % 2)).truncated[0]);
    expect(truncated).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
    expect(createVecEnv(task('CartPoleContinuous', { maxSteps: 9 }), 1, 1).maxSteps).toBe(9);
    expect(createVecEnv(task('CartPoleContinuous'), 1, 1).maxSteps).toBe(500);
    const mass = createVecEnv(task('point-mass', { maxSteps: 3 }), 1, 1);
    mass.reset();
    expect(Array.from({ length: 6 }, () => mass.step(new Float32Array(2)).truncated[0])).toEqual([0, 0, 1, 0, 0, 1]);
  });

  it('continuous actions are clipped to the bounds; invalid discrete actions are refused', () => {
    const run = (name: string, ...a: number[]) => {
      const env = createVecEnv(task(name), 9, 1);
      env.reset();
      const r = env.step(Float32Array.from(a));
      return [...Array.from(r.obs), r.rewards[0]];
    };
    expect(run('Pendulum-v1', 5)).toEqual(run('Pendulum-v1', 2));
    expect(run('MountainCarContinuous-v0', -3)).toEqual(run('MountainCarContinuous-v0', -1));
    expect(run('CartPoleContinuous', 4)).toEqual(run('CartPoleContinuous', 1));
    expect(run('point-mass', 3, -7)).toEqual(run('point-mass', 1, -1));
    expect(run('point-mass', 3, -7)).not.toEqual(run('point-mass', 1, 1));
    const cart = createVecEnv(task('CartPole-v1'), 1, 2);
    expect(() => cart.step(Float32Array.of(1, 1))).toThrow(/reset/);
    cart.reset();
    const before = cart.renderState(0);
    for (const bad of [2, -1, 0.5, Number.NaN]) expect(() => cart.step(Float32Array.of(1, bad))).toThrow(/action/);
    expect(cart.renderState(0)).toEqual(before); // a refused batch moves no slot
  });
});
