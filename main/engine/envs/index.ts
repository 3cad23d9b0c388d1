// Environments for reinforcement learning: each one's dynamics on a slot of a batch (./model.ts), the registry
// (./registry.ts), N slots stepped together (./vecEnv.ts, the contract in ./types.ts; several environments padded to
// one interface in ./multiEnv.ts), and task distributions over them: instances, splits, permutations and
// projections (./family.ts).
export {
  actionSpace,
  createVecEnv,
  drawInstance,
  evalSplits,
  instanceEnv,
  isComposite,
  observationSize,
  type RlTask,
  SHIFTED,
  TRAIN,
  taskEnvs,
} from './family.js';
export { padsWith } from './multiEnv.js';
export { ENVS, envModel } from './registry.js';
export type { ActionSpace, InstanceSource, VecEnv, VecStep } from './types.js';
