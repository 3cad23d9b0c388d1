// What trained a run, as tables, legends and the meta-test name it: a stored learned objective by its label
// (objectiveLabel), RL² for a recurrent policy, else the algorithm (RL) or the model (sequence tasks).
import { objectiveLabel, type StoredObjective } from '../learnedObjective.js';
import type { RlAlgorithm, RunSpec } from '../spec.js';

const ALGORITHM_NAMES: Record<RlAlgorithm['kind'], string> = {
  ppo: 'PPO',
  a2c: 'A2C',
  reinforce: 'REINFORCE',
  td3: 'TD3',
  es: 'ES',
  fme: 'FME',
  'hill-climber': 'hill climber',
  'random-search': 'random search',
  metagenrl: 'MetaGenRL',
  'learned-objective': 'learned objective',
};

export type KnownObjectives = readonly Pick<StoredObjective, 'sha256' | 'name'>[];

export function learnerLabel(spec: RunSpec, objectives: KnownObjectives): string {
  const { task, model } = spec;
  if (task.family !== 'rl') return model.kind;
  const algorithm = task.algorithm;
  if (algorithm.kind === 'learned-objective') return objectiveLabel(algorithm.objective, objectives);
  const name = ALGORITHM_NAMES[algorithm.kind];
  // RL² is an on-policy learner whose policy is recurrent and keeps its memory across the lifetime's episodes.
  if (model.kind === 'lstm') return `RL² (${name})`;
  return model.kind === 'symla' ? `SymLA (${name})` : name;
}

/** The stored objective a `learned-objective` run names by sha256; null for any other run, 'random' or 'latest'. */
export function objectiveOfRun(spec: RunSpec): string | null {
  const { task } = spec;
  if (task.family !== 'rl' || task.algorithm.kind !== 'learned-objective') return null;
  const ref = task.algorithm.objective;
  return ref === 'random' || ref === 'latest' ? null : ref;
}
