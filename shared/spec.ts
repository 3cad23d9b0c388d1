// The experiment spec: everything a run needs, seed included, so it can be shared and rerun.
// One schema validates specs from the page, the CLI and the store; sweeps expand into single-run specs.
import { z } from 'zod';
import { plainText } from './text.js';
import { EXECUTORS } from './cluster.js';

const count = (min: number, max: number) => z.int().min(min).max(max);
/** Display metadata the designer shows beside a field; it never changes what validates. */
const unit = (u: string) => ({ unit: u });

export const linearRegressionTask = z
  .object({
    family: z.literal('linear-regression'),
    dim: count(1, 256)
      .default(8)
      .describe('Input dimension D')
      .meta({ title: 'Input dimension', ...unit('dims') }),
    seqLen: count(2, 1024)
      .default(16)
      .describe('Examples per sequence K')
      .meta({ title: 'Sequence length', ...unit('examples') }),
    noiseVariance: z.number().min(0).max(100).default(0.25).describe('Variance of the label noise'),
    numTasks: z
      .union([count(1, 2 ** 30), z.literal('fresh')])
      .default(64)
      .describe("Size of the pool of weight vectors M, or 'fresh' for a new task per sequence")
      .meta({ title: 'Number of tasks', ...unit('tasks') }),
  })
  .strict()
  .describe('Linear regression in context (Raventós et al. 2023): y = w·x + noise, w from a pool of M tasks');

/** A dataset: `mnist` (bundled), `random`, or the name of one imported with `metalab import`. */
export const datasetName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a dataset name such as mnist, random or fashion-mnist')
  .meta({ registry: 'datasets' });

export const gpiclClassificationTask = z
  .object({
    family: z.literal('gpicl-classification'),
    dataset: datasetName.default('mnist').describe('Base dataset tasks are made from'),
    classes: count(2, 10).default(10).describe('Classes used: labels 0..classes-1'),
    inputDim: count(1, 1024)
      .default(16)
      .describe('Input dimension d after preprocessing')
      .meta({ title: 'Input dimension', ...unit('dims') }),
    preprocess: z.enum(['pca', 'resize', 'none']).default('pca').describe('How images become d-dimensional inputs'),
    normalization: z
      .enum(['global', 'per-dimension'])
      .default('global')
      .describe('z-normalisation per dataset: one global scale, or each dimension on its own'),
    seqLen: count(2, 1024)
      .default(40)
      .describe('Examples per sequence L')
      .meta({ title: 'Sequence length', ...unit('examples') }),
    numTasks: z
      .union([count(1, 2 ** 30), z.literal('fresh')])
      .default(4096)
      .describe(
        "Size of the pool of tasks (projection A and label permutation), or 'fresh' for a new task per sequence",
      )
      .meta({ title: 'Number of tasks', ...unit('tasks') }),
    biasedFraction: z.number().min(0).max(1).default(0).describe('Fraction of each batch drawn from one fixed task'),
    evalDatasets: z.array(datasetName).max(8).default([]).describe('Other datasets to evaluate unseen tasks on'),
  })
  .strict()
  .describe(
    'GPICL (Kirsch et al. 2022): a base dataset under a random linear projection and label permutation per task',
  );

/** Gymnasium's classic-control environments, with their time limits (episode steps before truncation). */
export const CLASSIC_CONTROL = {
  'CartPole-v1': 500,
  'Acrobot-v1': 500,
  'MountainCar-v0': 200,
  'MountainCarContinuous-v0': 999,
  'Pendulum-v1': 200,
} as const;
export type ClassicControlName = keyof typeof CLASSIC_CONTROL;

const timeLimit = count(1, 100_000)
  .nullable()
  .default(null)
  .describe("Episode steps before truncation (null: Gymnasium's time limit)")
  .meta({ title: 'Time limit', ...unit('steps') });

const classicControlEnv = (name: ClassicControlName) =>
  z
    .object({
      name: z.literal(name),
      physics: z
        .number()
        .min(0)
        .max(0.9)
        .default(0)
        .describe(
          'Randomised physics: each instance scales every physical constant by a factor from U(1-r, 1+r) ' +
            "(0: Gymnasium's)",
        )
        .meta({ title: 'Physics range r' }),
      maxSteps: timeLimit,
    })
    .strict()
    .describe(`Gymnasium's ${name}, exactly as Gymnasium defines it when the physics range is 0`);

export const bernoulliBanditEnv = z
  .object({
    name: z.literal('bernoulli-bandit'),
    arms: count(2, 64).default(5).describe('Arms K; each pays 1 with its own probability p ~ U(0, 1)'),
  })
  .strict()
  .describe('Bernoulli K-armed bandit (Duan et al. 2016); one pull is one episode of one step');

export const dependentBanditEnv = z
  .object({ name: z.literal('dependent-bandit') })
  .strict()
  .describe('Dependent two-armed bandit (Wang et al. 2016): arms pay with p and 1-p, p ~ U(0, 1)');

export const swappingBanditEnv = z
  .object({
    name: z.literal('swapping-bandit'),
    arms: count(2, 64).default(2).describe('Arms K; each pays 1 with its own probability p ~ U(0, 1)'),
    swapAt: count(1, 100_000)
      .default(50)
      .describe("The pull of the lifetime after which the arms' probabilities reverse order (two arms swap)")
      .meta(unit('pulls')),
  })
  .strict()
  .describe('A Bernoulli bandit whose arms swap during the lifetime: a learner must notice and switch');

export const gridWorldEnv = z
  .object({
    name: z.literal('gridworld'),
    size: count(3, 15).default(5).describe('Side of the square maze').meta(unit('cells')),
    walls: z.number().min(0).max(0.4).default(0.2).describe('Fraction of inner cells that are walls'),
    observation: z
      .enum(['full', 'partial'])
      .default('partial')
      .describe('partial: the 3x3 cells around the agent; full: the whole maze, agent and goal'),
    objects: z
      .enum(['goal', 'two', 'two-swapped'])
      .default('goal')
      .describe(
        'goal: the goal alone; two: a second object beside it, -1 on reaching it; two-swapped: the same two objects ' +
          'with their rewards swapped (the goal -1, the other +1). Either object ends the episode',
      ),
    maxSteps: timeLimit,
  })
  .strict()
  .describe('A random maze with a goal (+1 on reaching it, which ends the episode; -0.01 a step)');

export const cartPoleContinuousEnv = z
  .object({
    name: z.literal('CartPoleContinuous'),
    physics: classicControlEnv('CartPole-v1').shape.physics,
    maxSteps: timeLimit,
  })
  .strict()
  .describe(
    "CartPole-v1's physics, rewards and ends with a continuous force: F = 10 a, a in [-1, 1] (a test bed for " +
      'learners of continuous control that never saw a cart)',
  );

export const pointMassEnv = z
  .object({
    name: z.literal('point-mass'),
    physics: z
      .number()
      .min(0)
      .max(0.9)
      .default(0)
      .describe('Randomised physics: mass and damping each scaled by a factor from U(1-r, 1+r)')
      .meta({ title: 'Physics range r' }),
    maxSteps: timeLimit,
  })
  .strict()
  .describe(
    'A point mass in the unit square pushed by a 2-D force in [-1, 1]^2 toward a random goal; reward minus the ' +
      'distance to the goal each step; 100 steps',
  );

export const envSpec = z.discriminatedUnion('name', [
  classicControlEnv('CartPole-v1'),
  classicControlEnv('Acrobot-v1'),
  classicControlEnv('MountainCar-v0'),
  classicControlEnv('MountainCarContinuous-v0'),
  classicControlEnv('Pendulum-v1'),
  cartPoleContinuousEnv,
  pointMassEnv,
  bernoulliBanditEnv,
  dependentBanditEnv,
  swappingBanditEnv,
  gridWorldEnv,
]);
export type EnvSpec = z.output<typeof envSpec>;
export type EnvName = EnvSpec['name'];

const discount = z.number().min(0).max(1).default(0.99).describe('Discount factor gamma');
const gaeLambda = (d: number) =>
  z.number().min(0).max(1).default(d).describe('GAE lambda (1: Monte Carlo returns)').meta({ title: 'GAE λ' });
const entropy = (d: number) => z.number().min(0).max(10).default(d).describe('Entropy bonus coefficient');
const valueCoef = z
  .number()
  .min(0)
  .max(100)
  .default(0.5)
  .describe('Weight of the value loss')
  .meta({ title: 'Value loss weight' });
const rolloutSteps = (d: number) =>
  count(1, 100_000)
    .default(d)
    .describe('Steps each environment runs per update (RL² trials always run whole)')
    .meta(unit('steps'));

export const ppoAlgorithm = z
  .object({
    kind: z.literal('ppo'),
    rolloutSteps: rolloutSteps(128),
    epochs: count(1, 100).default(10).describe('Passes over each rollout'),
    minibatches: count(1, 1024).default(4).describe('Minibatches per pass'),
    clip: z.number().gt(0).max(10).default(0.2).describe('Clip range of the probability ratio'),
    discount,
    gaeLambda: gaeLambda(0.95),
    entropy: entropy(0),
    valueCoef,
  })
  .strict()
  .describe('PPO (Schulman et al. 2017): clipped surrogate objective, GAE, minibatch epochs');

export const a2cAlgorithm = z
  .object({
    kind: z.literal('a2c'),
    rolloutSteps: rolloutSteps(5),
    discount,
    gaeLambda: gaeLambda(1),
    entropy: entropy(0.01),
    valueCoef,
  })
  .strict()
  .describe('A2C (Mnih et al. 2016, synchronous): one policy-gradient step per rollout with a learned value');

export const reinforceAlgorithm = z
  .object({
    kind: z.literal('reinforce'),
    discount,
    entropy: entropy(0),
    valueCoef,
  })
  .strict()
  .describe('REINFORCE (Williams 1992) with a learned value baseline, on whole episodes');

/** TD3's agent: shared by TD3, MetaGenRL's population and agents trained by a learned objective. */
const td3Agent = {
  discount,
  bufferSize: count(1000, 10_000_000).default(200_000).describe('Replay buffer capacity').meta(unit('steps')),
  randomSteps: count(0, 10_000_000)
    .default(10_000)
    .describe('Uniformly random actions first, to fill the buffer')
    .meta(unit('steps')),
  polyak: z.number().min(0).max(1).default(0.995).describe('Target networks keep this fraction each step'),
  explorationNoise: z
    .number()
    .min(0)
    .max(10)
    .default(0.1)
    .describe('Gaussian action noise: its standard deviation in actions scaled to [-1, 1] (as SB3)'),
  targetNoise: z
    .number()
    .min(0)
    .max(10)
    .default(0.2)
    .describe('Target policy smoothing noise, in actions scaled to [-1, 1]'),
  targetNoiseClip: z.number().min(0).max(10).default(0.5).describe('Clip of the target noise'),
  policyDelay: count(1, 100).default(2).describe('Critic updates per actor update'),
};

export const td3Algorithm = z
  .object({ kind: z.literal('td3'), ...td3Agent })
  .strict()
  .describe('TD3 (Fujimoto et al. 2018): twin critics, delayed actor, target smoothing; continuous actions');

/** What a learned objective reads at each step of a replay sub-trajectory (MetaGenRL's inputs; ablations drop some). */
export const OBJECTIVE_INPUTS = ['reward', 'time', 'value', 'nextValue'] as const;
export type ObjectiveInput = (typeof OBJECTIVE_INPUTS)[number];

/** The architecture of a learned objective L_alpha (MetaGenRL): what a stored objective carries with its weights. */
export const learnedObjectiveSpec = z
  .object({
    inputs: z
      .array(z.enum(OBJECTIVE_INPUTS))
      .max(OBJECTIVE_INPUTS.length)
      .default([...OBJECTIVE_INPUTS])
      .describe(
        "Besides the actions (always read: the buffer's and the policy's per dimension), what the objective " +
          "reads per step: normalised reward, time fraction t/T, the critic's value of the next state (0 after a " +
          'terminal one) and of the current state',
      )
      .refine((a) => new Set(a).size === a.length, 'an input is listed twice'),
    units: count(2, 512).default(32).describe('Width of the hidden layers of its three MLPs').meta(unit('units')),
    depth: count(1, 8).default(3).describe('Layers of the action branch, the value branch and the head'),
    valueFeatures: count(1, 256)
      .default(8)
      .describe("Outputs of the value branch (reward, time and values' features)")
      .meta(unit('features')),
    lstm: count(1, 512).default(32).describe('Units of the LSTM run backwards in time').meta(unit('units')),
    errorScale: z
      .number()
      .gt(0)
      .max(1e9)
      .default(1000)
      .describe('Soft clip of the per-step output: s tanh(x / s)')
      .meta({ title: 'Output soft clip' }),
  })
  .strict()
  .describe(
    "MetaGenRL's objective (Kirsch et al. 2020): per action dimension an MLP of (buffer action, policy action), " +
      'averaged; an MLP of rewards, time and values; an LSTM backwards in time; an MLP head to one number a step',
  );
export type LearnedObjectiveSpec = z.output<typeof learnedObjectiveSpec>;

const actionPenalty = z
  .number()
  .min(0)
  .max(100)
  .default(0)
  .describe(
    "Adds this times the mean squared pre-tanh action to each agent's actor loss: keeps policies off the action " +
      'bounds, where a saturated tanh leaves the meta-gradient nothing to act on (0: as the reference)',
  );

const trajectoryLength = count(2, 1000)
  .default(20)
  .describe('Steps of each replay sub-trajectory the objective reads (training.batchSize of them per update)')
  .meta({ title: 'Sub-trajectory length T', ...unit('steps') });

export const metagenrlAlgorithm = z
  .object({
    kind: z.literal('metagenrl'),
    ...td3Agent,
    actionPenalty,
    population: count(1, 256).default(4).describe("TD3 agents, spread over the task's training environments"),
    agentLifetime: count(0, 100_000_000)
      .default(0)
      .describe(
        'Environment steps after which an agent is replaced by a new one on a new instance (0: never); ' +
          'first replacements are staggered so the objective keeps meeting young learners',
      )
      .meta(unit('steps')),
    trajectoryLength,
    objective: learnedObjectiveSpec.default(learnedObjectiveSpec.parse({})),
    metaLearningRate: z.number().gt(0).max(1).default(1e-3).describe("Adam's learning rate for the objective"),
    metaGradClip: z
      .number()
      .gt(0)
      .nullable()
      .default(1)
      .describe("Each agent's meta-gradient is clipped to this global norm before they are averaged"),
    metaDelay: count(1, 100).default(2).describe('Steps per objective update'),
    innerLearningRate: z
      .number()
      .gt(0)
      .max(1)
      .default(1e-3)
      .describe('The one plain gradient step on the objective through which the meta-gradient flows'),
    warmupSteps: count(0, 100_000_000)
      .default(10_000)
      .describe("An agent's first steps blend its actor loss from TD3's -Q to the objective")
      .meta(unit('steps')),
  })
  .strict()
  .describe(
    'MetaGenRL (Kirsch et al. 2020): a population of TD3 agents whose policies minimise a learned objective, ' +
      "meta-trained to maximise the critic's value of the policy after a step on it; the run stores the objective",
  );

/** A stored objective: its sha256 (as `metalab objectives` lists it), or 'latest' (the newest stored), or 'random'. */
export const objectiveRef = z
  .union([z.string().regex(/^[0-9a-f]{64}$/, "must be a stored objective's sha256"), z.enum(['latest', 'random'])])
  .describe("The objective that trains the agent: a stored one, the newest stored ('latest'), or 'random'")
  .meta({ widget: 'objective' });

export const learnedObjectiveAlgorithm = z
  .object({
    kind: z.literal('learned-objective'),
    objective: objectiveRef.default('latest'),
    ...td3Agent,
    trajectoryLength,
    actionPenalty,
    randomObjective: learnedObjectiveSpec
      .default(learnedObjectiveSpec.parse({}))
      .describe("The architecture of the 'random' objective (a stored objective brings its own)"),
  })
  .strict()
  .describe(
    'Meta-test of a learned objective: a new TD3 agent whose actor minimises a frozen stored objective (its critics ' +
      "learn as TD3's); with a random objective, the baseline that shows what meta-training added",
  );

export const esAlgorithm = z
  .object({
    kind: z.literal('es'),
    population: count(2, 65_536).default(64).describe('Perturbations per generation (antithetic pairs)'),
    sigma: z.number().gt(0).max(10).default(0.05).describe('Standard deviation of the parameter noise'),
    threads: count(1, 64)
      .default(1)
      .describe("Threads a generation's members are evaluated on (the same results on any number)")
      .meta(unit('threads')),
  })
  .strict()
  .describe('OpenAI-ES (Salimans et al. 2017): antithetic noise, centred ranks, Adam on the estimated gradient');

const evaluations = count(1, 65_536)
  .default(16)
  .describe('Candidates evaluated per step (each on the step’s common trials)')
  .meta(unit('candidates'));

export const fmeAlgorithm = z
  .object({
    kind: z.literal('fme'),
    archive: count(2, 4096).default(64).describe('Solutions kept: the best by fitness').meta(unit('solutions')),
    evaluations,
    temperature: z
      .number()
      .gt(0)
      .max(1e6)
      .default(8)
      .describe('Execution probability exp(-rank / temperature) by rank of ancestral fitness (rank 0 the best)')
      .meta(unit('ranks')),
    ancestors: count(0, 64)
      .default(2)
      .describe('Ancestors whose fitness counts beside its own in a solution’s ancestral fitness (their mean)'),
    modifierHidden: count(1, 64)
      .default(8)
      .describe('Hidden units of the shared self-modification network (it modifies every parameter, its own too)')
      .meta(unit('units')),
    modifierScale: z
      .number()
      .gt(0)
      .max(10)
      .default(0.05)
      .describe("Scale of the self-modification network's output (its initial modification size)"),
  })
  .strict()
  .describe(
    'Fitness monotonic execution (Kirsch & Schmidhuber 2022): a self-referential network writes its own next ' +
      'parameters (its self-modification network included); no meta-optimiser, only an archive from which better ' +
      'solutions are executed more often',
  );

export const hillClimberAlgorithm = z
  .object({
    kind: z.literal('hill-climber'),
    evaluations,
    sigma: z.number().gt(0).max(10).default(0.05).describe('Standard deviation of the fixed Gaussian mutation'),
  })
  .strict()
  .describe('(1+1) hill climber: a fixed Gaussian mutation of the best solution, kept when at least as fit');

export const randomSearchAlgorithm = z
  .object({ kind: z.literal('random-search'), evaluations })
  .strict()
  .describe("Random search: fresh weights from the model's initialisation each time, the best kept");

export const rlAlgorithm = z.discriminatedUnion('kind', [
  ppoAlgorithm,
  a2cAlgorithm,
  reinforceAlgorithm,
  td3Algorithm,
  esAlgorithm,
  fmeAlgorithm,
  hillClimberAlgorithm,
  randomSearchAlgorithm,
  metagenrlAlgorithm,
  learnedObjectiveAlgorithm,
]);
export type RlAlgorithm = z.output<typeof rlAlgorithm>;

export const rlTask = z
  .object({
    family: z.literal('rl'),
    env: envSpec
      .default({ name: 'CartPole-v1', physics: 0, maxSteps: null })
      .describe('The environment family')
      .meta({ title: 'Environment' }),
    moreEnvs: z
      .array(envSpec)
      .max(7)
      .default([])
      .describe('More training environments (MetaGenRL: agent i trains on environment i mod n of [env, ...these])')
      .meta({ title: 'More environments' }),
    testEnvs: z
      .array(envSpec)
      .max(8)
      .default([])
      .describe(
        'Environments never trained on, evaluated as splits test:<name> (RL²: its lifetime there; observations ' +
          'and actions zero-padded to the largest of all the environments)',
      )
      .meta({ title: 'Test environments' }),
    numTasks: z
      .union([count(1, 2 ** 30), z.literal('fresh')])
      .default(1)
      .describe("Pool of environment instances trained on, or 'fresh' for a new instance per trial")
      .meta({ title: 'Number of instances', ...unit('instances') }),
    episodesPerTrial: count(1, 10_000)
      .default(1)
      .describe("A trial (the agent's lifetime on one instance): its memory is kept across these episodes")
      .meta({ title: 'Lifetime', ...unit('episodes') }),
    permuteObservations: z.boolean().default(false).describe('Each instance permutes the observation dimensions'),
    permuteActions: z.boolean().default(false).describe('Each instance permutes the discrete actions'),
    projectObservations: z
      .boolean()
      .default(false)
      .describe('Each instance multiplies observations by its own random matrix N(0, 1/d)'),
    algorithm: rlAlgorithm
      .default({
        kind: 'ppo',
        rolloutSteps: 128,
        epochs: 10,
        minibatches: 4,
        clip: 0.2,
        discount: 0.99,
        gaeLambda: 0.95,
        entropy: 0,
        valueCoef: 0.5,
      })
      .describe("How the policy's weights learn (for RL²: the outer loop over trials)"),
  })
  .strict()
  .describe(
    'Reinforcement learning: a policy learns from reward; with a lifetime of several episodes and a recurrent ' +
      'model, a black-box meta-learner (RL², Duan et al. 2016)',
  );

export const taskSpec = z.discriminatedUnion('family', [linearRegressionTask, gpiclClassificationTask, rlTask]);

export const mlpModel = z
  .object({
    kind: z.literal('mlp'),
    hidden: z.array(count(1, 4096)).max(8).default([64]).describe('Hidden layer widths').meta(unit('units')),
    activation: z
      .enum(['relu', 'tanh'])
      .default('relu')
      .describe("Nonlinearity between layers (tanh: Stable-Baselines3's default for on-policy RL policies)"),
  })
  .strict()
  .describe('Per-position MLP without context: it can only memorise');

export const transformerModel = z
  .object({
    kind: z.literal('transformer'),
    dModel: count(4, 2048)
      .default(64)
      .describe('Width of the residual stream')
      .meta({ title: 'Width (dModel)', ...unit('units') }),
    layers: count(1, 48).default(2).describe('Transformer blocks'),
    heads: count(1, 64).default(4).describe('Attention heads per block; must divide dModel'),
    mlpRatio: count(1, 16)
      .default(4)
      .describe('MLP width as a multiple of dModel')
      .meta({ title: 'MLP ratio', ...unit('× dModel') }),
  })
  .strict()
  .describe('Decoder-only causal Transformer (pre-LN, learned positions)')
  .refine((m) => m.dModel % m.heads === 0, { message: 'dModel must be a multiple of heads', path: ['heads'] });

export const lstmModel = z
  .object({
    kind: z.literal('lstm'),
    hidden: count(1, 4096).default(128).describe('Hidden (and cell) size: the state size').meta(unit('units')),
    layers: count(1, 8).default(1).describe('Stacked LSTM layers'),
  })
  .strict()
  .describe('LSTM: its hidden and cell state are the memory for in-context learning');

export const vsmlModel = z
  .object({
    kind: z.literal('vsml'),
    stateSize: count(1, 128)
      .default(16)
      .describe('State size of each tiny LSTM (one per connection)')
      .meta(unit('units')),
    messageSize: count(2, 32).default(8).describe('Channels of forward and backward messages').meta(unit('channels')),
    hidden: z
      .array(count(1, 256))
      .max(4)
      .default([])
      .describe('Hidden layer sizes of the VSML network ([] = one layer)')
      .meta(unit('units')),
    ticks: count(1, 8).default(2).describe('LSTM ticks per example').meta(unit('ticks')),
  })
  .strict()
  .describe('VSML (Kirsch & Schmidhuber 2021): every weight a tiny LSTM sharing one set of parameters');

export const symlaModel = z
  .object({
    kind: z.literal('symla'),
    stateSize: count(1, 64)
      .default(8)
      .describe('State size of each tiny LSTM (one per connection of the policy network)')
      .meta(unit('units')),
    messageSize: count(1, 32)
      .default(4)
      .describe('Channels of forward and backward messages; channel 0 carries observations, actions and logits')
      .meta(unit('channels')),
    hidden: z
      .array(count(1, 64))
      .max(3)
      .default([])
      .describe('Hidden layer sizes ([] = one layer, each output connected to each input)')
      .meta(unit('units')),
    ticks: count(1, 4).default(1).describe('Passes through the layers per environment step').meta(unit('ticks')),
    biasInput: z.boolean().default(true).describe('A constant input of 1 beside the observation'),
  })
  .strict()
  .describe(
    'SymLA (Kirsch et al. 2022): every connection of a policy network a tiny LSTM sharing one set of parameters ' +
      '(per layer), fed the observation, the previous action and the reward: any number of inputs and actions',
  );

export const modelSpec = z.discriminatedUnion('kind', [mlpModel, transformerModel, lstmModel, vsmlModel, symlaModel]);

export const trainingSpec = z
  .object({
    steps: count(1, 10_000_000)
      .default(1000)
      .describe('Meta-training steps (RL: updates; TD3: environment steps, one update each)')
      .meta(unit('steps')),
    batchSize: count(1, 65_536)
      .default(64)
      .describe(
        'Sequences per meta-batch (RL: parallel environments, trials per batch for RL², the replay minibatch for TD3)',
      )
      .meta(unit('sequences')),
    learningRate: z.number().gt(0).max(10).default(1e-3).describe('Adam learning rate (after warm-up)'),
    adamEpsilon: z.number().gt(0).max(1).default(1e-8).describe("Adam's epsilon; smaller can shorten loss plateaus"),
    warmupSteps: count(0, 10_000_000).default(0).describe('Linear learning-rate warm-up').meta(unit('steps')),
    schedule: z
      .enum(['constant', 'cosine', 'one-cycle'])
      .default('constant')
      .describe('Learning-rate schedule after warm-up'),
    gradClip: z
      .number()
      .gt(0)
      .max(1e6)
      .nullable()
      .default(1)
      .describe('Clip gradients to this global norm (null: no clipping)'),
    checkpointEvery: count(1, 10_000_000).default(500).describe('Steps between checkpoints').meta(unit('steps')),
  })
  .strict();

export const evaluationSpec = z
  .object({
    every: count(1, 10_000_000).default(250).describe('Steps between evaluations').meta(unit('steps')),
    sequences: count(1, 65_536)
      .default(256)
      .describe('Held-out sequences per split (RL: trials, each a lifetime on one instance)')
      .meta(unit('sequences')),
    learnerBaseline: z
      .object({
        optimizer: z.enum(['sgd', 'adam']).default('adam').describe("The learner's optimiser"),
        learningRate: z.number().gt(0).max(10).default(0.01).describe("The learner's learning rate"),
        stepsPerExample: count(1, 1000)
          .default(10)
          .describe('Gradient steps on the examples seen so far, after each example')
          .meta(unit('steps')),
        hidden: count(0, 1024).default(0).describe('Hidden units (0: a linear classifier)').meta(unit('units')),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('A conventional learner trained from scratch on each sequence, for comparison (classification)'),
  })
  .strict();

export const backendName = z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']);

export const runSpec = z
  .object({
    name: plainText(z.string().trim().min(1).max(200)).default('experiment').describe('Shown in the runs table'),
    seed: count(0, 2 ** 31 - 1)
      .default(0)
      .describe('Every random draw of the run follows from it'),
    backend: backendName.default('auto').describe("Compute backend; 'auto' takes the fastest that starts"),
    task: taskSpec,
    model: modelSpec,
    training: trainingSpec.default(trainingSpec.parse({})),
    evaluation: evaluationSpec.default(evaluationSpec.parse({})),
  })
  .strict();

const sweepAxis = z
  .object({
    path: z
      .string()
      .regex(/^[a-zA-Z]+(\.[a-zA-Z]+)*$/, 'must be a field path such as task.numTasks or seed')
      .describe('The numeric field to vary (seed: repeat the experiment over seeds)'),
    values: z
      .array(z.union([z.number(), z.string()]))
      .min(1)
      .max(4096)
      .optional(),
    range: z
      .object({
        from: z.number(),
        to: z.number(),
        scale: z.enum(['log2', 'linear']).default('log2'),
        steps: count(2, 4096).optional().describe('Points for a linear range'),
      })
      .strict()
      .refine((r) => r.scale !== 'log2' || r.from > 0, { message: 'a log2 range must start above 0', path: ['from'] })
      .optional(),
  })
  .strict()
  .refine((a) => (a.values === undefined) !== (a.range === undefined), 'give either values or range');

export const experimentSpec = runSpec
  .extend({
    description: plainText(z.string().max(4000), true)
      .optional()
      .describe('What the experiment asks and what to look for'),
    tags: z
      .array(plainText(z.string().trim().min(1).max(64)))
      .max(32)
      .optional()
      .describe("Labels for finding it again; they become the experiment's tags"),
    sweep: z
      .object({ axes: z.array(sweepAxis).min(1).max(4) })
      .strict()
      .optional(),
    executor: z
      .enum(EXECUTORS)
      .optional()
      .describe("Where the runs train: this machine, or the SLURM cluster of the lab's cluster profile"),
  })
  .strict();

export type RunSpec = z.output<typeof runSpec>;
export type TaskSpec = RunSpec['task'];
export type RlTaskSpec = Extract<TaskSpec, { family: 'rl' }>;
/** The evaluation split of a test environment (task.testEnvs). */
/** A test environment's split: test:<name>, and a bandit's arm count (a learner may be tested on several). */
export const testEnvSplit = (env: EnvSpec): string => `test:${env.name}${'arms' in env ? `-${env.arms}` : ''}`;
/** Tasks of sequences predicted position by position (the supervised in-context families). */
export type SequenceTaskSpec = Exclude<TaskSpec, { family: 'rl' }>;
export const isRlTask = (task: TaskSpec): task is RlTaskSpec => task.family === 'rl';
export type ExperimentSpec = z.output<typeof experimentSpec>;
export type ExperimentSpecInput = z.input<typeof experimentSpec>;
export type SweepAxis = z.output<typeof sweepAxis>;
export type SweepPoint = Record<string, number | string>;

export const MAX_RUNS_PER_EXPERIMENT = 1024;

/** A validation problem with the path of the offending field, e.g. `training.steps`. */
export interface SpecIssue {
  path: (string | number)[];
  message: string;
}

export function formatPath(path: readonly (string | number | symbol)[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

/** A schema as JSON Schema: what an error message describes as expected. */
interface Expected {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Expected[];
  oneOf?: Expected[];
  properties?: Record<string, Expected>;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

const listed = (items: string[]) =>
  items.length < 3 ? items.join(', or ') : `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`;

function numberText(s: Expected): string {
  const what = s.type === 'integer' ? 'a whole number' : 'a number';
  // z.int()'s own bounds (the safe integers) go without saying
  const bound = (n: number | undefined) => (n !== undefined && Math.abs(n) < Number.MAX_SAFE_INTEGER ? n : undefined);
  const [min, max] = [bound(s.minimum), bound(s.maximum)];
  if (min !== undefined && max !== undefined) return `${what} from ${min} to ${max}`;
  const limits = [
    min !== undefined && `at least ${min}`,
    s.exclusiveMinimum !== undefined && `above ${s.exclusiveMinimum}`,
    max !== undefined && `at most ${max}`,
    s.exclusiveMaximum !== undefined && `below ${s.exclusiveMaximum}`,
  ].filter(Boolean);
  return limits.length ? `${what} ${limits.join(' and ')}` : what;
}

/** What a schema accepts, in words: "a whole number from 1 to 256, or 'fresh'", "one of mlp, lstm". */
function expectedText(s: Expected): string {
  const options = s.anyOf ?? s.oneOf;
  if (options) {
    // Objects told apart by a constant property (task family, model kind).
    const key = Object.keys(options[0].properties ?? {}).find((k) =>
      options.every((o) => typeof o.properties?.[k]?.const === 'string'),
    );
    if (key) return `an object whose ${key} is one of ${options.map((o) => o.properties![key].const).join(', ')}`;
    return listed(options.map(expectedText));
  }
  if (s.enum) return s.enum.length === 1 ? `'${s.enum[0]}'` : `one of ${s.enum.join(', ')}`;
  if (s.const !== undefined) return typeof s.const === 'string' ? `'${s.const}'` : JSON.stringify(s.const);
  if (s.type === 'integer' || s.type === 'number') return numberText(s);
  const types: Record<string, string> = {
    string: 'a string',
    boolean: 'true or false',
    array: 'a list',
    object: 'an object',
    null: 'null',
  };
  return types[s.type ?? ''] ?? 'a valid value';
}

const expectedOf = (schema: z.core.$ZodType) =>
  expectedText(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Expected);

/**
 * zod's issues as what the field expects, e.g. `expected a whole number from 1 to 256`; messages the schema gives
 * itself (a pattern's, a refinement's) take precedence.
 */
const specErrorMap: z.core.$ZodErrorMap = (issue) => {
  const missing = issue.input === undefined ? 'missing; ' : '';
  switch (issue.code) {
    case 'invalid_union':
      if (issue.discriminator && Array.isArray(issue.options))
        return `${missing}expected one of ${issue.options.join(', ')}`;
      return issue.schema && `${missing}expected ${expectedOf(issue.schema)}`;
    case 'invalid_type':
    case 'invalid_value':
      return issue.schema && `${missing}expected ${expectedOf(issue.schema)}`;
    case 'too_small':
    case 'too_big': {
      // zod's own says the bound: "Too small: expected number to be >=1"
      if (issue.origin === 'number') return undefined;
      const n = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const unit = issue.origin === 'string' ? 'character' : 'item';
      if (issue.code === 'too_small' && n === 1 && issue.origin === 'string') return 'must not be empty';
      return `expected ${issue.code === 'too_small' ? 'at least' : 'at most'} ${n} ${unit}${n === 1 ? '' : 's'}`;
    }
    case 'unrecognized_keys': {
      const fields = issue.schema && Object.keys((issue.schema as z.ZodObject).shape ?? {});
      const names = issue.keys.map((k) => `'${k}'`).join(', ');
      const unknown = `unknown field${issue.keys.length === 1 ? '' : 's'} ${names}`;
      return fields ? `${unknown}; expected ${listed(fields)}` : unknown;
    }
  }
  return undefined;
};

/** How many values an axis takes, counted without listing them: a range can be too large to list. */
export function axisCount(axis: SweepAxis): number {
  if (axis.values) return axis.values.length;
  const { from, to, scale, steps } = axis.range!;
  const n =
    scale === 'log2'
      ? Math.floor(Math.log2(to)) - Math.ceil(Math.log2(from)) + 1
      : (steps ?? Math.floor(to - from) + 1);
  return Number.isFinite(n) ? Math.max(0, n) : 0;
}

/** The values an axis takes, in order (a log2 range: the powers of two from `from` to `to`). */
export function axisValues(axis: SweepAxis): (number | string)[] {
  if (axis.values) return axis.values;
  const { from, to, scale, steps } = axis.range!;
  if (scale === 'log2') {
    const out: number[] = [];
    for (let e = Math.ceil(Math.log2(from)); 2 ** e <= to; e++) out.push(2 ** e);
    return out;
  }
  const n = steps ?? Math.floor(to - from) + 1;
  return Array.from({ length: n }, (_, i) => (n === 1 ? from : from + ((to - from) * i) / (n - 1)));
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

/** The schema of the field at `path` (a variant chosen by the spec's own discriminator), or null if there is none. */
function fieldSchema(path: string, spec: unknown): z.core.$ZodType | null {
  const unwrap = (s: z.core.$ZodType): z.core.$ZodType =>
    s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable ? unwrap(s.unwrap()) : s;
  let schema: z.core.$ZodType = runSpec;
  let value = spec;
  for (const key of path.split('.')) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodDiscriminatedUnion) {
      const by = schema._zod.def.discriminator;
      const chosen = (value as Record<string, unknown> | undefined)?.[by];
      schema = (schema.options as z.ZodObject[]).find((o) => o.shape[by].safeParse(chosen).success) ?? schema;
    }
    if (!(schema instanceof z.ZodObject) || !Object.hasOwn(schema.shape, key)) return null;
    schema = schema.shape[key];
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  return unwrap(schema);
}

/** A number, or a number or a few named values (a number of tasks or 'fresh'): what a sweep can vary. */
const isNumeric = (s: z.core.$ZodType) =>
  s instanceof z.ZodNumber ||
  (s instanceof z.ZodUnion &&
    s.options.some((o) => o instanceof z.ZodNumber) &&
    s.options.every((o) => o instanceof z.ZodNumber || o instanceof z.ZodLiteral));

/** An axis must vary a numeric field no other axis varies, over distinct values. */
function axisIssues(axes: SweepAxis[], base: unknown): SpecIssue[] {
  return axes.flatMap((axis, a): SpecIssue[] => {
    const at = (key: string, message: string) => [{ path: ['sweep', 'axes', a, key], message }];
    const field = fieldSchema(axis.path, base);
    if (!field) return at('path', `${axis.path} is not a field of this spec`);
    if (!isNumeric(field)) return at('path', `${axis.path} is not a numeric field; only numeric fields can be swept`);
    const first = axes.findIndex((other) => other.path === axis.path);
    if (first < a) return at('path', `${axis.path} is swept by sweep.axes[${first}] already`);
    return [];
  });
}

function duplicateIssues(axes: SweepAxis[], valueLists: (number | string)[][]): SpecIssue[] {
  return valueLists.flatMap((values, a): SpecIssue[] => {
    const repeated = values.find((v, i) => values.indexOf(v) !== i);
    if (repeated === undefined) return [];
    const times = values.filter((v) => v === repeated).length;
    return [
      {
        path: ['sweep', 'axes', a, axes[a].values ? 'values' : 'range'],
        message: `${JSON.stringify(repeated)} appears ${times === 2 ? 'twice' : `${times} times`}`,
      },
    ];
  });
}

export type ExpandResult =
  | { ok: true; spec: ExperimentSpec; runs: { point: SweepPoint; spec: RunSpec }[] }
  | { ok: false; issues: SpecIssue[] };

const issuesOf = (error: z.ZodError): SpecIssue[] =>
  error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message }));

/**
 * Validates an experiment spec and expands its sweep (grid over all axes) into single-run specs.
 * Every expanded spec is validated again, so a sweep value that is out of range is named by its axis.
 */
export function expandExperiment(input: unknown): ExpandResult {
  const parsed = experimentSpec.safeParse(input, { error: specErrorMap });
  if (!parsed.success) return { ok: false, issues: issuesOf(parsed.error) };
  const spec = parsed.data;
  // description, tags and the executor describe the experiment, not a run
  const { sweep, description, tags, executor, ...base } = spec;
  const axes = sweep?.axes ?? [];
  const misplaced = axisIssues(axes, base);
  if (misplaced.length) return { ok: false, issues: misplaced };
  const counts = axes.map(axisCount);
  const empty = counts.indexOf(0);
  if (empty >= 0)
    return { ok: false, issues: [{ path: ['sweep', 'axes', empty, 'range'], message: 'the range holds no values' }] };
  const total = counts.reduce((n, c) => n * c, 1);
  if (total > MAX_RUNS_PER_EXPERIMENT)
    return {
      ok: false,
      issues: [
        {
          path: ['sweep'],
          message: `the sweep expands to ${total} runs; at most ${MAX_RUNS_PER_EXPERIMENT} are allowed`,
        },
      ],
    };
  const valueLists = axes.map(axisValues);
  const repeated = duplicateIssues(axes, valueLists);
  if (repeated.length) return { ok: false, issues: repeated };

  const runs: { point: SweepPoint; spec: RunSpec }[] = [];
  for (let index = 0; index < total; index++) {
    const point: SweepPoint = {};
    const raw = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    let rest = index;
    for (let a = axes.length - 1; a >= 0; a--) {
      const v = valueLists[a][rest % valueLists[a].length];
      rest = Math.floor(rest / valueLists[a].length);
      point[axes[a].path] = v;
      setPath(raw, axes[a].path, v);
    }
    const one = runSpec.safeParse(raw, { error: specErrorMap });
    if (!one.success) {
      // A field no axis varies that fails only at this point (heads that no longer divide dModel) says where.
      const where = Object.entries(point)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      return {
        ok: false,
        issues: issuesOf(one.error).map((i) => {
          const field = formatPath(i.path);
          const axis = axes.findIndex((ax) => ax.path === field);
          return axis >= 0
            ? {
                path: ['sweep', 'axes', axis, 'values'],
                message: `value ${JSON.stringify(point[field])} for ${field}: ${i.message}`,
              }
            : { path: i.path, message: `${i.message} (in the sweep at ${where})` };
        }),
      };
    }
    runs.push({ point, spec: one.data });
  }
  return { ok: true, spec, runs };
}
