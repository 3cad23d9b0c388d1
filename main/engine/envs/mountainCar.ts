// MountainCar-v0 and MountainCarContinuous-v0 as Gymnasium 1.x defines them (classic_control/mountain_car.py,
// continuous_mountain_car.py): v += push - gravity cos(3 x), clipped to 0.07; x += v, clipped to [-1.2, 0.6]; the
// left wall stops a car moving left; x U(-0.6, -0.4), v 0 at reset.
// MountainCar-v0: actions 0 / 1 / 2 push with (a - 1) force; reward -1 a step; terminated at x >= 0.5 with v >= 0;
// truncated at 200. MountainCarContinuous-v0: push = power * a, a in [-1, 1]; reward 100 at the goal (x >= 0.45,
// v >= 0) minus 0.1 a^2 every step; truncated at 999. Gymnasium stores the continuous car's state as float32 after
// each step, so this does too (the arithmetic is float64, as under NumPy 1.x; NumPy 2 rounds some intermediates to
// float32, a difference within that same rounding). Its reward is computed from the action as received: here the
// VecEnv has clipped it to [-1, 1] (Gymnasium penalises an out-of-range action before clipping; in range, equal).
import { constantsOf, type EnvDef, type EnvModel, type Slots, type SpecOf, timeLimitOf, uniform } from './model.js';

const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;

const reset = (x: Slots, i: number) => {
  x.state[i * 2] = uniform(x.rngs[i], -0.6, -0.4);
  x.state[i * 2 + 1] = 0;
};

/** The common part of both cars' models; the step differs. */
const car = (timeLimit: number, constants: EnvModel['constants']) => ({
  observationSize: 2,
  timeLimit,
  stateSize: 2,
  instanceSize: 2,
  renderStateSize: 2,
  constants,
  reset,
  observe(x: Slots, i: number, out: Float32Array, offset: number) {
    out[offset] = x.state[i * 2];
    out[offset + 1] = x.state[i * 2 + 1];
  },
  renderState: (x: Slots, i: number) => [x.state[i * 2], x.state[i * 2 + 1]],
  params(this: EnvModel, x: Slots, i: number) {
    return constantsOf(this, x, i);
  },
});

export const mountainCar: EnvDef<SpecOf<'MountainCar-v0'>> = {
  model: (spec) => ({
    ...car(timeLimitOf(spec), [
      ['force', 0.001],
      ['gravity', 0.0025],
    ]),
    action: { kind: 'discrete', n: 3 },
    step(x, i, act) {
      const s = x.state;
      const force = x.inst[i * 2];
      const gravity = x.inst[i * 2 + 1];
      let position = s[i * 2];
      let velocity = s[i * 2 + 1];
      velocity += (act[i] - 1) * force + Math.cos(3 * position) * -gravity;
      velocity = Math.min(Math.max(velocity, -MAX_SPEED), MAX_SPEED);
      position += velocity;
      position = Math.min(Math.max(position, MIN_POSITION), MAX_POSITION);
      if (position === MIN_POSITION && velocity < 0) velocity = 0;
      s[i * 2] = position;
      s[i * 2 + 1] = velocity;
      x.terminated[i] = position >= 0.5 && velocity >= 0 ? 1 : 0;
      x.rewards[i] = -1;
    },
  }),
};

export const mountainCarContinuous: EnvDef<SpecOf<'MountainCarContinuous-v0'>> = {
  model: (spec) => ({
    ...car(timeLimitOf(spec), [
      ['power', 0.0015],
      ['gravity', 0.0025],
    ]),
    action: { kind: 'box', size: 1, low: -1, high: 1 },
    step(x, i, act) {
      const s = x.state;
      const power = x.inst[i * 2];
      const gravity = x.inst[i * 2 + 1];
      const force = act[i];
      let position = s[i * 2];
      let velocity = s[i * 2 + 1];
      velocity += force * power - gravity * Math.cos(3 * position);
      if (velocity > MAX_SPEED) velocity = MAX_SPEED;
      if (velocity < -MAX_SPEED) velocity = -MAX_SPEED;
      position += velocity;
      if (position > MAX_POSITION) position = MAX_POSITION;
      if (position < MIN_POSITION) position = MIN_POSITION;
      if (position === MIN_POSITION && velocity < 0) velocity = 0;
      const terminal = position >= 0.45 && velocity >= 0;
      s[i * 2] = Math.fround(position);
      s[i * 2 + 1] = Math.fround(velocity);
      x.terminated[i] = terminal ? 1 : 0;
      x.rewards[i] = (terminal ? 100 : 0) - force * force * 0.1;
    },
  }),
};
