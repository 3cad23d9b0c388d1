// The spec a "New meta-test" opens in the designer: a fresh TD3-like agent trained by a stored objective (the
// `learned-objective` algorithm) on an environment the objective never trained on, with the budget and settings of
// a hand-designed TD3 spec (the TD3 preset), so the two compare at equal environment steps.
import type { StoredObjective } from '../../../shared/learnedObjective';

/** Continuous-control environments a meta-test can use, in order of preference. */
const TEST_ENVS = ['CartPoleContinuous', 'Pendulum-v1', 'MountainCarContinuous-v0', 'point-mass'] as const;

/** `td3` is a spec whose task.algorithm is TD3's; its agent settings, model, training and evaluation carry over. */
export function metaTestSpec(
  objective: Pick<StoredObjective, 'sha256' | 'name' | 'lineage'>,
  td3: Record<string, unknown>,
): Record<string, unknown> {
  const task = (td3.task ?? {}) as Record<string, unknown>;
  const { kind: _td3, ...agent } = (task.algorithm ?? {}) as Record<string, unknown>;
  const trained = new Set(objective.lineage.trainEnvs.map((e) => e.name));
  const env = TEST_ENVS.find((name) => !trained.has(name)) ?? 'Pendulum-v1';
  return {
    ...td3,
    name: `Meta-test of objective "${objective.name}" on ${env}`,
    description:
      `Fresh agents trained from scratch by the stored objective "${objective.name}" ` +
      `(${objective.sha256.slice(0, 8)}, meta-trained on ${[...trained].join(', ') || 'no recorded environment'}) ` +
      `on ${env}. Compare them in the Objectives view with TD3, a random objective and the other learners on ` +
      `${env} at equal environment steps.`,
    tags: ['metagenrl', 'meta-test'],
    task: {
      ...task,
      env: { name: env, physics: 0, maxSteps: null },
      moreEnvs: [],
      algorithm: { kind: 'learned-objective', objective: objective.sha256, ...agent },
    },
  };
}
