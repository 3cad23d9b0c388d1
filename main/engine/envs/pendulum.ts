// Pendulum-v1 as Gymnasium 1.x defines it (classic_control/pendulum.py): semi-implicit Euler with dt 0.05, the new
// speed clipped to 8 before it moves the angle; theta 0 is upright; torque in [-2, 2]; reward -(angle_normalize(th)^2
// + 0.1 thdot^2 + 0.001 u^2) from the state before the step; never terminates, truncated at 200; observation
// [cos th, sin th, thdot]; th U(-pi, pi), thdot U(-1, 1) at reset.
import { constantsOf, type EnvDef, type SpecOf, timeLimitOf, uniform } from './model.js';

const MAX_SPEED = 8;
const MAX_TORQUE = 2.0;
const DT = 0.05;

/** The angle in [-pi, pi): NumPy's floored modulo, which keeps the sign of the divisor. */
export function angleNormalize(x: number): number {
  let m = (x + Math.PI) % (2 * Math.PI);
  if (m < 0) m += 2 * Math.PI;
  return m - Math.PI;
}

export const pendulum: EnvDef<SpecOf<'Pendulum-v1'>> = {
  model: (spec) => ({
    observationSize: 3,
    action: { kind: 'box', size: 1, low: -MAX_TORQUE, high: MAX_TORQUE },
    timeLimit: timeLimitOf(spec),
    stateSize: 2,
    instanceSize: 3,
    renderStateSize: 2,
    constants: [
      ['g', 10.0],
      ['m', 1.0],
      ['l', 1.0],
    ],
    reset(x, i) {
      x.state[i * 2] = uniform(x.rngs[i], -Math.PI, Math.PI);
      x.state[i * 2 + 1] = uniform(x.rngs[i], -1, 1);
    },
    step(x, i, act) {
      const s = x.state;
      const g = x.inst[i * 3];
      const m = x.inst[i * 3 + 1];
      const l = x.inst[i * 3 + 2];
      const th = s[i * 2];
      const thdot = s[i * 2 + 1];
      const u = act[i];
      const a = angleNormalize(th);
      const costs = a * a + 0.1 * (thdot * thdot) + 0.001 * (u * u);
      let newthdot = thdot + (((3 * g) / (2 * l)) * Math.sin(th) + (3.0 / (m * (l * l))) * u) * DT;
      newthdot = Math.min(Math.max(newthdot, -MAX_SPEED), MAX_SPEED);
      s[i * 2] = th + newthdot * DT;
      s[i * 2 + 1] = newthdot;
      x.rewards[i] = -costs;
      x.terminated[i] = 0;
    },
    observe(x, i, out, offset) {
      out[offset] = Math.cos(x.state[i * 2]);
      out[offset + 1] = Math.sin(x.state[i * 2]);
      out[offset + 2] = x.state[i * 2 + 1];
    },
    renderState: (x, i) => [x.state[i * 2], x.state[i * 2 + 1]],
    params(x, i) {
      return constantsOf(this, x, i);
    },
  }),
};
