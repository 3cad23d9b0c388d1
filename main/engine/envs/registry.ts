// The registry of environments by name. Adding one: its model in a file here (./model.ts says what it implements),
// its spec in shared/spec.ts, and one line below.
import type { EnvName, EnvSpec } from '../../../shared/spec.js';
import { acrobot } from './acrobot.js';
import { bernoulliBandit, dependentBandit, swappingBandit } from './bandits.js';
import { cartPole, cartPoleContinuous } from './cartPole.js';
import { gridWorld } from './gridWorld.js';
import type { EnvDef, EnvModel, SpecOf } from './model.js';
import { mountainCar, mountainCarContinuous } from './mountainCar.js';
import { pendulum } from './pendulum.js';
import { pointMass } from './pointMass.js';

export const ENVS: { [N in EnvName]: EnvDef<SpecOf<N>> } = {
  'CartPole-v1': cartPole,
  'Acrobot-v1': acrobot,
  'MountainCar-v0': mountainCar,
  'MountainCarContinuous-v0': mountainCarContinuous,
  'Pendulum-v1': pendulum,
  CartPoleContinuous: cartPoleContinuous,
  'point-mass': pointMass,
  'bernoulli-bandit': bernoulliBandit,
  'dependent-bandit': dependentBandit,
  'swapping-bandit': swappingBandit,
  gridworld: gridWorld,
};

export function envModel(spec: EnvSpec): EnvModel {
  return (ENVS[spec.name] as EnvDef<EnvSpec>).model(spec);
}
