// One scene per environment of shared/spec.ts (the Record's type keeps the list complete).
import type { EnvName } from '../../../../shared/spec';
import type { Scene } from '../scene';
import { acrobot } from './acrobot';
import { bandit } from './bandit';
import { cartPole, cartPoleContinuous } from './cartPole';
import { gridWorld } from './gridWorld';
import { mountainCarContinuous, mountainCarDiscrete } from './mountainCar';
import { pendulum } from './pendulum';
import { pointMass } from './pointMass';

export const SCENES: Record<EnvName, Scene> = {
  'CartPole-v1': cartPole,
  'Acrobot-v1': acrobot,
  'MountainCar-v0': mountainCarDiscrete,
  'MountainCarContinuous-v0': mountainCarContinuous,
  'Pendulum-v1': pendulum,
  CartPoleContinuous: cartPoleContinuous,
  'point-mass': pointMass,
  'bernoulli-bandit': bandit,
  'dependent-bandit': bandit,
  'swapping-bandit': bandit,
  gridworld: gridWorld,
};
