// CartPole-v1 as Gymnasium 1.x defines it (classic_control/cartpole.py): explicit Euler with tau 0.02 (x moves
// with the old velocity), reward 1 on every step including the terminating one, terminated when |x| > 2.4 or
// |theta| > 12 degrees, truncated at 500. State float64, observation float32, each U(-0.05, 0.05) at reset.
// CartPoleContinuous: the same model (constants, physics randomisation, rewards, ends, initial states) pushed by a
// continuous force F = force_mag a, a in [-1, 1] (the batch clips it); CartPole-v1's actions 0 / 1 are a = -1 / +1.
import { CLASSIC_CONTROL } from '../../../shared/spec.js';
import { constantsOf, type EnvDef, type EnvModel, type SpecOf, timeLimitOf, uniform } from './model.js';
import type { ActionSpace } from './types.js';

const TAU = 0.02;
const X_THRESHOLD = 2.4;
const THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;

/** The model of a cart pushed by force_mag times `push(act, i)`, a number in [-1, 1]. */
function cartPoleModel(
  timeLimit: number,
  action: ActionSpace,
  push: (act: Float32Array, i: number) => number,
): EnvModel {
  return {
    observationSize: 4,
    action,
    timeLimit,
    stateSize: 4,
    instanceSize: 5,
    renderStateSize: 4,
    constants: [
      ['gravity', 9.8],
      ['masscart', 1.0],
      ['masspole', 0.1],
      ['length', 0.5],
      ['force_mag', 10.0],
    ],
    reset(x, i) {
      const rng = x.rngs[i];
      for (let k = 0; k < 4; k++) x.state[i * 4 + k] = uniform(rng, -0.05, 0.05);
    },
    step(x, i, act) {
      const s = x.state;
      const o = i * 4;
      const c = i * 5;
      const gravity = x.inst[c];
      const masspole = x.inst[c + 2];
      const length = x.inst[c + 3];
      const totalMass = masspole + x.inst[c + 1];
      const polemassLength = masspole * length;
      const xPos = s[o];
      const xDot = s[o + 1];
      const theta = s[o + 2];
      const thetaDot = s[o + 3];
      const force = x.inst[c + 4] * push(act, i);
      const cos = Math.cos(theta);
      const sin = Math.sin(theta);
      const temp = (force + polemassLength * (thetaDot * thetaDot) * sin) / totalMass;
      const thetaAcc = (gravity * sin - cos * temp) / (length * (4.0 / 3.0 - (masspole * (cos * cos)) / totalMass));
      const xAcc = temp - (polemassLength * thetaAcc * cos) / totalMass;
      const x1 = xPos + TAU * xDot;
      const theta1 = theta + TAU * thetaDot;
      s[o] = x1;
      s[o + 1] = xDot + TAU * xAcc;
      s[o + 2] = theta1;
      s[o + 3] = thetaDot + TAU * thetaAcc;
      x.terminated[i] =
        x1 < -X_THRESHOLD || x1 > X_THRESHOLD || theta1 < -THETA_THRESHOLD || theta1 > THETA_THRESHOLD ? 1 : 0;
      x.rewards[i] = 1;
    },
    observe(x, i, out, offset) {
      for (let k = 0; k < 4; k++) out[offset + k] = x.state[i * 4 + k];
    },
    renderState: (x, i) => Array.from(x.state.subarray(i * 4, i * 4 + 4)),
    params(x, i) {
      return constantsOf(this, x, i);
    },
  };
}

export const cartPole: EnvDef<SpecOf<'CartPole-v1'>> = {
  model: (spec) => cartPoleModel(timeLimitOf(spec), { kind: 'discrete', n: 2 }, (act, i) => (act[i] === 1 ? 1 : -1)),
};

export const cartPoleContinuous: EnvDef<SpecOf<'CartPoleContinuous'>> = {
  model: (spec) =>
    cartPoleModel(
      spec.maxSteps ?? CLASSIC_CONTROL['CartPole-v1'],
      { kind: 'box', size: 1, low: -1, high: 1 },
      (act, i) => act[i],
    ),
};
