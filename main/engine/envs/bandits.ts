// Bandits as the meta-RL papers use them: one pull is one episode of one step (terminated after it), so a trial of
// K episodes is a lifetime of K pulls on one instance. The observation is one constant 0 (an RL² policy also sees
// its previous action and reward). Payouts come from the slot's generator.
// bernoulli-bandit (Duan et al. 2016): K arms, arm k pays 1 with probability p_k ~ U(0, 1), drawn per instance.
// dependent-bandit (Wang et al. 2016): two arms paying 1 with probabilities p and 1 - p, p ~ U(0, 1).
// swapping-bandit: a bernoulli-bandit whose arms' probabilities reverse order after pull `swapAt` of the trial (its
// state counts the trial's pulls: a new instance in the slot starts it at 0).
import type { Rng } from '../rng.js';
import type { EnvDef, EnvModel, Slots, SpecOf } from './model.js';

/** A bandit with `arms` arms whose probabilities an instance draws with `draw`; reversed after `swapAt` pulls. */
function bandit(
  arms: number,
  draw: (rng: Rng, data: Float64Array, offset: number) => void,
  swapAt: number | null = null,
): EnvModel {
  const stateSize = swapAt === null ? 0 : 1;
  /** Arm a's probability in slot i now. */
  const p = (x: Slots, i: number, a: number) =>
    x.inst[i * arms + (stateSize && x.state[i] >= swapAt! ? arms - 1 - a : a)];
  return {
    observationSize: 1,
    action: { kind: 'discrete', n: arms },
    timeLimit: 1,
    stateSize,
    instanceSize: arms,
    renderStateSize: arms,
    constants: [],
    drawInstance: draw,
    reset() {},
    step(x: Slots, i: number, act: Float32Array) {
      x.rewards[i] = x.rngs[i].next() < p(x, i, act[i]) ? 1 : 0;
      x.terminated[i] = 1;
      if (stateSize) x.state[i] += 1;
    },
    observe(_x: Slots, _i: number, out: Float32Array, offset: number) {
      out[offset] = 0;
    },
    renderState: (x: Slots, i: number) => Array.from({ length: arms }, (_, a) => p(x, i, a)),
    params: (): Record<string, number> => (swapAt === null ? { arms } : { arms, swapAt }),
  };
}

const uniformArms = (arms: number) => (rng: Rng, data: Float64Array, offset: number) => {
  for (let k = 0; k < arms; k++) data[offset + k] = rng.next();
};

export const bernoulliBandit: EnvDef<SpecOf<'bernoulli-bandit'>> = {
  model: (spec) => bandit(spec.arms, uniformArms(spec.arms)),
};

export const swappingBandit: EnvDef<SpecOf<'swapping-bandit'>> = {
  model: (spec) => bandit(spec.arms, uniformArms(spec.arms), spec.swapAt),
};

export const dependentBandit: EnvDef<SpecOf<'dependent-bandit'>> = {
  model: () =>
    bandit(2, (rng, data, offset) => {
      const p = rng.next();
      data[offset] = p;
      data[offset + 1] = 1 - p;
    }),
};
