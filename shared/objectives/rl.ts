// Reinforcement learning (RL², hand-designed learners): the return of every episode of a trial, a lifetime of
// episodes on one environment instance. The within-lifetime curve is the RL analogue of the in-context
// learning curve: a learner that learns within its lifetime earns more in later episodes.
import type { MetricInfo } from '../metrics.js';
import type { TaskSpec } from '../spec.js';
import { figure, type ObjectiveInfo } from './types.js';

const stepMetric = (key: string, label: string, direction: MetricInfo['direction'], description: string) => ({
  key,
  label,
  unit: null,
  direction,
  description,
});

/** What an RL algorithm records at each training step (each records those that apply to it). */
export const RL_STEP_METRICS = {
  trainReturn: stepMetric(
    'train_return',
    'training return',
    'higher',
    'Mean return of the episodes that ended during the step (undiscounted, as Gymnasium reports it).',
  ),
  envSteps: stepMetric('env_steps', 'environment steps', null, 'Environment steps taken since the run started.'),
  policyLoss: stepMetric('policy_loss', 'policy loss', null, "The algorithm's policy objective (to minimise)."),
  valueLoss: stepMetric('value_loss', 'value loss', 'lower', 'Squared error of the value (or Q) estimates.'),
  entropy: stepMetric('entropy', 'policy entropy', null, "Mean entropy of the policy's action distribution."),
  approxKl: stepMetric('approx_kl', 'approximate KL', null, 'PPO: mean KL of the updated policy from the old one.'),
  clipFraction: stepMetric('clip_fraction', 'clip fraction', null, 'PPO: fraction of ratios outside the clip range.'),
  metaLoss: stepMetric(
    'meta_loss',
    'meta-loss',
    'lower',
    "MetaGenRL: minus the critic's mean value of each agent's policy after one step on the objective, averaged.",
  ),
  alignment: stepMetric(
    'alignment',
    'objective alignment',
    'higher',
    "MetaGenRL: cosine between the objective's policy gradient and TD3's (-dQ/dphi), averaged over agents: " +
      '1 when the objective pushes the policy as the critic does, 0 unrelated, -1 against it.',
  ),
  actionSaturation: stepMetric(
    'action_saturation',
    'action saturation',
    'lower',
    "Learned objectives: fraction of the policy's actions on the minibatch within 1% of a bound. Near 1, the " +
      'objective has collapsed onto bang-bang actions.',
  ),
  fitnessBest: stepMetric(
    'fitness_best',
    'best fitness',
    'higher',
    "ES: the generation's best member's fitness, its mean trial return (the sum over a lifetime's episodes).",
  ),
  fitnessMean: stepMetric('fitness_mean', 'mean fitness', 'higher', "ES: the mean of the generation's fitnesses."),
  fitnessSpread: stepMetric(
    'fitness_spread',
    'fitness spread',
    null,
    "ES: the standard deviation of the generation's fitnesses (how much the perturbations matter).",
  ),
  evaluations: stepMetric(
    'evaluations',
    'evaluations',
    null,
    'Black-box learners: candidate weight vectors evaluated since the run started (each on the trials of its step).',
  ),
  modificationSize: stepMetric(
    'modification_size',
    'self-modification size',
    null,
    "FME: root mean square of the change each executed solution made to its own parameters, over the step's children.",
  ),
  modifierChange: stepMetric(
    'modifier_change',
    'modification of the modifier',
    null,
    "FME: root mean square of the change to the self-modification network's own parameters (the modification of " +
      'modifications), over the step’s children.',
  ),
  lineageDepth: stepMetric(
    'lineage_depth',
    'lineage depth',
    null,
    'FME: generations of self-modification behind the best solution of the archive.',
  ),
  metaGradNorm: stepMetric(
    'meta_grad_norm',
    'meta-gradient norm',
    null,
    "MetaGenRL: global norm of the objective's meta-gradient (mean over agents, before clipping).",
  ),
} as const;

/** MetaGenRL: the training return of agent i of the population (its environment: i mod n of the task's). */
export const agentReturnKey = (agent: number): string => `agent/${agent}/train_return`;

/** The agent of a key made by agentReturnKey; null for any other key. */
export function parseAgentReturnKey(key: string): number | null {
  const m = /^agent\/(\d+)\/train_return$/.exec(key);
  return m ? Number(m[1]) : null;
}

/**
 * An FME run's archive, recorded at each evaluation as evaluation curves of split ARCHIVE_SPLIT, one value per
 * solution (in the same order in every curve), for the page's picture of the archive.
 */
export const ARCHIVE_SPLIT = 'archive';
export const ARCHIVE_PICTURE = {
  fitness: figure('archive_fitness', 'fitness', 'higher', "The solution's fitness (mean trial return when evaluated)."),
  ancestral: figure(
    'archive_ancestral_fitness',
    'ancestral fitness',
    'higher',
    'The mean fitness of the solution and its nearest ancestors: what its execution probability is monotonic in.',
  ),
  born: figure('archive_born', 'step created', null, 'The training step at which its parent made it.'),
  depth: figure('archive_depth', 'lineage depth', null, 'Self-modifications between the first solution and it.'),
} as const;

/**
 * What a learned objective makes of a trajectory: recorded at each evaluation of a `metagenrl` run as evaluation
 * curves of split OBJECTIVE_PICTURE_SPLIT, one value per valid step of a few replay sub-trajectories of agent 0
 * (flattened in the same order in every curve), for the page's picture of what the objective learned.
 */
export const OBJECTIVE_PICTURE_SPLIT = 'objective';
export const OBJECTIVE_PICTURE = {
  output: figure(
    'objective_output',
    'objective',
    null,
    'The learned objective at each step (the policy minimises it).',
  ),
  advantage: figure(
    'objective_advantage',
    'one-step advantage',
    null,
    "r + gamma (1 - done) V(s') - V(s) of the same step, by the agent's critic (V(s) = Q1(s, pi(s))).",
  ),
  actionGap: figure(
    'objective_action_gap',
    "policy's action - buffer's action",
    null,
    "The current policy's action minus the action taken, first action dimension, in actions scaled to [-1, 1].",
  ),
  time: figure('objective_time', 'time in sub-trajectory', null, 't / T of the step.'),
} as const;

/** Saturation above this (over the last evaluation interval) is reported as a collapsed objective. */
export const COLLAPSE_SATURATION = 0.9;

export const rl = {
  name: 'rl',
  label: 'reinforcement learning',
  description: 'Act in an environment to earn reward; scored by the return of each episode of a lifetime.',
  stepMetrics: Object.values(RL_STEP_METRICS),
  curve: figure('return', 'return', 'higher', 'Mean return of episode k of the lifetime, for k = 1..K.'),
  curveTitle: 'Within-lifetime learning curve',
  // A bandit's episodes are single pulls.
  positionName: (task: TaskSpec) =>
    task.family === 'rl' && task.env.name.endsWith('bandit') ? 'pull' : 'episode of the lifetime',
  extraCurves: [],
  figures: {
    last: figure('last_return', 'return of the last episode', 'higher', 'Mean return of the last episode.'),
    improvement: figure(
      'improvement',
      'within-lifetime improvement',
      'higher',
      "Mean return of the lifetime's last quarter of episodes minus that of its first quarter.",
    ),
    mean: figure('mean_return', 'mean return', 'higher', 'Return averaged over every episode of the lifetime.'),
    others: [],
  },
  baselines: [
    { name: 'random', label: 'random', description: 'Actions drawn uniformly at random.' },
    {
      name: 'thompson',
      label: 'Thompson',
      description: 'Bandits: Thompson sampling with Beta(1, 1) priors (Bernoulli arms).',
    },
    { name: 'ucb1', label: 'UCB1', description: 'Bandits: UCB1 (Auer et al. 2002), each arm pulled once first.' },
    { name: 'greedy', label: 'greedy', description: 'Bandits: the arm with the highest Beta posterior mean.' },
    {
      name: 'eps_greedy',
      label: 'ε-greedy',
      description: 'Bandits: greedy on the posterior mean, a random arm with probability 0.1.',
    },
    {
      name: 'gittins',
      label: 'Gittins',
      description: 'Bernoulli bandits: the Gittins index of each Beta posterior (Bayes-optimal, discounted).',
    },
  ],
  baselineCurve: (b: string) => `${b}_return`,
  baselineFigures: (b: string) => ({
    last: figure(`${b}_last_return`, `${b}: return of the last episode`, 'higher', `The ${b} baseline's return.`),
    improvement: figure(`${b}_improvement`, `${b}: within-lifetime improvement`, 'higher', `The ${b}'s improvement.`),
  }),
} as const satisfies ObjectiveInfo;
