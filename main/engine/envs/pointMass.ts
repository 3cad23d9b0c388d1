// point-mass: metalab's own small reach task (not Gymnasium's). A mass at p in the unit square [0, 1]^2 with
// velocity v is pushed toward a goal g by a force a in [-1, 1]^2 (the batch clips it), one explicit Euler step of
// dt = 0.1 per action, velocity first:
//   v' = v + dt (a - c v) / m,   p' = clip(p + dt v', 0, 1)   (per axis; where p + dt v' leaves [0, 1], the wall
//   stops the mass and that component of v' becomes 0),
// mass m = 1 and damping c = 0.5 (each scaled by the instance's physics factor). Reward -||p' - g|| - 0.01 ||a||^2
// (from the state after the step); never terminates; truncated at 100 steps. Every episode draws p and g each from
// U(0.1, 0.9)^2 (p first), v = 0. Observation [p, v, g - p] (6 numbers); state [px, py, vx, vy, gx, gy] in float64.
import { constantsOf, type EnvDef, type SpecOf, uniform } from './model.js';

const DT = 0.1;
const TIME_LIMIT = 100;
const EFFORT_COST = 0.01;
const S = 6;

export const pointMass: EnvDef<SpecOf<'point-mass'>> = {
  model: (spec) => ({
    observationSize: 6,
    action: { kind: 'box', size: 2, low: -1, high: 1 },
    timeLimit: spec.maxSteps ?? TIME_LIMIT,
    stateSize: S,
    instanceSize: 2,
    renderStateSize: 4,
    constants: [
      ['mass', 1.0],
      ['damping', 0.5],
    ],
    reset(x, i) {
      const s = x.state;
      const rng = x.rngs[i];
      const o = i * S;
      s[o] = uniform(rng, 0.1, 0.9);
      s[o + 1] = uniform(rng, 0.1, 0.9);
      s[o + 2] = 0;
      s[o + 3] = 0;
      s[o + 4] = uniform(rng, 0.1, 0.9);
      s[o + 5] = uniform(rng, 0.1, 0.9);
    },
    step(x, i, act) {
      const s = x.state;
      const o = i * S;
      const mass = x.inst[i * 2];
      const damping = x.inst[i * 2 + 1];
      let effort = 0;
      for (let k = 0; k < 2; k++) {
        const a = act[i * 2 + k];
        effort += a * a;
        let v = s[o + 2 + k] + (DT * (a - damping * s[o + 2 + k])) / mass;
        let p = s[o + k] + DT * v;
        if (p < 0 || p > 1) {
          p = p < 0 ? 0 : 1;
          v = 0;
        }
        s[o + k] = p;
        s[o + 2 + k] = v;
      }
      const dx = s[o] - s[o + 4];
      const dy = s[o + 1] - s[o + 5];
      x.rewards[i] = -Math.sqrt(dx * dx + dy * dy) - EFFORT_COST * effort;
      x.terminated[i] = 0;
    },
    observe(x, i, out, offset) {
      const s = x.state;
      const o = i * S;
      for (let k = 0; k < 4; k++) out[offset + k] = s[o + k];
      out[offset + 4] = s[o + 4] - s[o];
      out[offset + 5] = s[o + 5] - s[o + 1];
    },
    renderState: (x, i) => {
      const o = i * S;
      return [x.state[o], x.state[o + 1], x.state[o + 4], x.state[o + 5]];
    },
    params(x, i) {
      return constantsOf(this, x, i);
    },
  }),
};
