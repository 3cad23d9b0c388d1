// Acrobot-v1 as Gymnasium 1.x defines it (classic_control/acrobot.py): the "book" dynamics (Sutton & Barto), one
// RK4 step of dt 0.2 per action with the torque held, angles wrapped to [-pi, pi], speeds clipped to 4 pi and 9 pi,
// reward -1 a step and 0 on the terminal one (tip above the bar: -cos t1 - cos(t1 + t2) > 1), truncated at 500.
// The initial state is U(-0.1, 0.1) rounded to float32 (Gymnasium casts it), then float64.
// Constants: Gymnasium's names; g is _dsdt's local 9.8; torque_mag scales AVAIL_TORQUE = [-1, 0, +1].
// LINK_LENGTH_2 does not enter the dynamics (only the drawing): it is reported, never randomised.
import { constantsOf, type EnvDef, type SpecOf, timeLimitOf, uniform } from './model.js';

const DT = 0.2;
const MAX_VEL_1 = 4 * Math.PI;
const MAX_VEL_2 = 9 * Math.PI;
const TORQUES = [-1.0, 0.0, 1.0];
const K = 8; // instance numbers: the constants below

/** Wraps x into [m, M] by whole turns, as Gymnasium's wrap() does (repeated subtraction, not a modulo). */
function wrap(x: number, m: number, M: number): number {
  const diff = M - m;
  while (x > M) x -= diff;
  while (x < m) x += diff;
  return x;
}

export const acrobot: EnvDef<SpecOf<'Acrobot-v1'>> = {
  model(spec) {
    // RK4 scratch: a stage's state, and the four stages' derivatives [dtheta1, dtheta2, ddtheta1, ddtheta2].
    const y = new Float64Array(4);
    const k1 = new Float64Array(4);
    const k2 = new Float64Array(4);
    const k3 = new Float64Array(4);
    const k4 = new Float64Array(4);

    /** _dsdt of the book dynamics at state s[so..], constants p[po..], with the torque a held over the step. */
    const derivs = (s: Float64Array, so: number, p: Float64Array, po: number, a: number, out: Float64Array) => {
      const l1 = p[po];
      const m1 = p[po + 1];
      const m2 = p[po + 2];
      const lc1 = p[po + 3];
      const lc2 = p[po + 4];
      const moi = p[po + 5];
      const g = p[po + 6];
      const theta1 = s[so];
      const theta2 = s[so + 1];
      const dtheta1 = s[so + 2];
      const dtheta2 = s[so + 3];
      const d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * Math.cos(theta2)) + moi + moi;
      const d2 = m2 * (lc2 * lc2 + l1 * lc2 * Math.cos(theta2)) + moi;
      const phi2 = m2 * lc2 * g * Math.cos(theta1 + theta2 - Math.PI / 2.0);
      const phi1 =
        -m2 * l1 * lc2 * (dtheta2 * dtheta2) * Math.sin(theta2) -
        2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * Math.sin(theta2) +
        (m1 * lc1 + m2 * l1) * g * Math.cos(theta1 - Math.PI / 2) +
        phi2;
      const ddtheta2 =
        (a + (d2 / d1) * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * Math.sin(theta2) - phi2) /
        (m2 * (lc2 * lc2) + moi - (d2 * d2) / d1);
      out[0] = dtheta1;
      out[1] = dtheta2;
      out[2] = -(d2 * ddtheta2 + phi1) / d1;
      out[3] = ddtheta2;
    };
    /** y = s[so..] + h k: the next stage's state. */
    const stage = (s: Float64Array, so: number, h: number, k: Float64Array) => {
      for (let j = 0; j < 4; j++) y[j] = s[so + j] + h * k[j];
    };

    return {
      observationSize: 6,
      action: { kind: 'discrete', n: 3 },
      timeLimit: timeLimitOf(spec),
      stateSize: 4,
      instanceSize: K,
      renderStateSize: 4,
      constants: [
        ['LINK_LENGTH_1', 1.0],
        ['LINK_MASS_1', 1.0],
        ['LINK_MASS_2', 1.0],
        ['LINK_COM_POS_1', 0.5],
        ['LINK_COM_POS_2', 0.5],
        ['LINK_MOI', 1.0],
        ['g', 9.8],
        ['torque_mag', 1.0],
      ],
      reset(x, i) {
        const rng = x.rngs[i];
        for (let j = 0; j < 4; j++) x.state[i * 4 + j] = Math.fround(uniform(rng, -0.1, 0.1));
      },
      step(x, i, act) {
        const s = x.state;
        const o = i * 4;
        const p = x.inst;
        const po = i * K;
        const torque = TORQUES[act[i]] * p[po + 7];
        derivs(s, o, p, po, torque, k1);
        stage(s, o, DT / 2.0, k1);
        derivs(y, 0, p, po, torque, k2);
        stage(s, o, DT / 2.0, k2);
        derivs(y, 0, p, po, torque, k3);
        stage(s, o, DT, k3);
        derivs(y, 0, p, po, torque, k4);
        const h = DT / 6.0;
        for (let j = 0; j < 4; j++) y[j] = s[o + j] + h * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
        s[o] = wrap(y[0], -Math.PI, Math.PI);
        s[o + 1] = wrap(y[1], -Math.PI, Math.PI);
        s[o + 2] = Math.min(Math.max(y[2], -MAX_VEL_1), MAX_VEL_1);
        s[o + 3] = Math.min(Math.max(y[3], -MAX_VEL_2), MAX_VEL_2);
        const terminal = -Math.cos(s[o]) - Math.cos(s[o + 1] + s[o]) > 1.0;
        x.terminated[i] = terminal ? 1 : 0;
        x.rewards[i] = terminal ? 0 : -1;
      },
      observe(x, i, out, offset) {
        const o = i * 4;
        out[offset] = Math.cos(x.state[o]);
        out[offset + 1] = Math.sin(x.state[o]);
        out[offset + 2] = Math.cos(x.state[o + 1]);
        out[offset + 3] = Math.sin(x.state[o + 1]);
        out[offset + 4] = x.state[o + 2];
        out[offset + 5] = x.state[o + 3];
      },
      renderState: (x, i) => Array.from(x.state.subarray(i * 4, i * 4 + 4)),
      params(x, i) {
        return { ...constantsOf(this, x, i), LINK_LENGTH_2: 1.0 };
      },
    };
  },
};
