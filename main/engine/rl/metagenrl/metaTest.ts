// The meta-test of a learned objective (`learned-objective`): one new TD3 agent (./agent.ts) whose actor minimises
// the frozen objective from its first update (blend 1: no warm-up from TD3's actor loss, as the authors' meta-test),
// its critics learning as TD3's; the objective is never updated. It is the stored objective the lab resolved the
// spec's reference to (RunOptions.objective), or for 'random' a new objective of `randomObjective`'s architecture,
// initialised from (seed, 'random-objective'): the baseline that shows what meta-training added. Every random draw
// of environment step k comes from (seed, k). Its initial networks and environment are those of a TD3 run of the same
// seed, so the two compare learners from the same start. The objective travels in checkpoints, so a resumed run keeps
// the one it started with even if 'latest' names another by then.
import { actionSpace, createVecEnv } from '../../envs/index.js';
import { learningRateAt } from '../../optimizer.js';
import { Rng, seedFrom } from '../../rng.js';
import type { Algorithm, AlgorithmDef, Policy, RlSpec, SavedVariable, StepReport } from '../types.js';
import { type AgentState, agentHidden, ObjectiveAgent } from './agent.js';
import { LearnedObjective } from './objective.js';

interface MetaTestState {
  agent: AgentState;
  lastActorLoss: number | null;
}

class MetaTest implements Algorithm {
  private lastActorLoss: number | null = null;
  readonly stateSize = 0;

  constructor(
    private readonly spec: RlSpec,
    private readonly agent: ObjectiveAgent,
    private readonly objective: LearnedObjective,
  ) {}

  get paramCount(): number {
    return this.agent.paramCount;
  }

  async step(step: number): Promise<StepReport> {
    const { agent } = this;
    const rng = new Rng(seedFrom(this.spec.seed, 'learned-objective-step', agent.steps));
    const ended = agent.envStep(rng);
    const metrics: StepReport['metrics'] = { env_steps: agent.steps };
    if (ended !== null) metrics.train_return = ended;
    if (!agent.learning) return { loss: 0, gradNorm: NaN, metrics, envSteps: 1 };
    const lr = learningRateAt(step, this.spec.training);
    const x = agent.sample(rng);
    const critic = await agent.criticUpdate(x, rng, lr);
    if (Number.isFinite(critic.loss) && agent.actorStep) {
      const actor = await agent.actorUpdate(x, this.objective, 1, lr);
      this.lastActorLoss = actor.loss;
      metrics.action_saturation = actor.saturation;
    }
    metrics.value_loss = critic.loss;
    if (this.lastActorLoss !== null) metrics.policy_loss = this.lastActorLoss;
    return { loss: critic.loss, gradNorm: critic.gradNorm, metrics, envSteps: 1 };
  }

  policy(): Policy {
    return this.agent.policy();
  }

  async save(): Promise<{ tensors: SavedVariable[]; extra: unknown }> {
    const agent = await this.agent.save('agent.');
    const extra: MetaTestState = { agent: agent.state, lastActorLoss: this.lastActorLoss };
    return { tensors: [...agent.tensors, ...(await this.objective.save())], extra };
  }

  restore(saved: { tensors: readonly SavedVariable[]; extra: unknown }): void {
    const state = saved.extra as MetaTestState;
    this.agent.restore('agent.', saved.tensors, state.agent);
    this.objective.restore(saved.tensors);
    this.lastActorLoss = state.lastActorLoss;
  }

  dispose(): void {
    this.agent.dispose();
    this.objective.dispose();
  }
}

export const learnedObjective: AlgorithmDef<'learned-objective'> = {
  async create(spec, dataSeed, options = {}) {
    const hidden = agentHidden(spec, 'A learned objective');
    const { task } = spec;
    const algo = task.algorithm;
    const action = actionSpace(task);
    if (action.kind !== 'box') {
      throw new Error(`a learned objective trains continuous actions; ${task.env.name} has ${action.n} discrete ones`);
    }
    let objective: LearnedObjective;
    if (algo.objective === 'random') {
      objective = new LearnedObjective(algo.randomObjective, new Rng(seedFrom(spec.seed, 'random-objective')));
    } else {
      const stored = options.objective;
      if (!stored) {
        throw new Error(
          algo.objective === 'latest'
            ? 'this lab has no stored learned objective: meta-train one with a metagenrl run, or import one'
            : `no stored learned objective has sha256 ${algo.objective} (import it, or pick one \`metalab ` +
                'objectives` lists)',
        );
      }
      objective = new LearnedObjective(stored.architecture, new Rng(0));
      try {
        objective.restore(stored.tensors);
      } catch (e) {
        objective.dispose();
        throw e;
      }
    }
    const env = createVecEnv(task, dataSeed, 1);
    const init = new Rng(seedFrom(spec.seed, 'init'));
    return new MetaTest(spec, new ObjectiveAgent(algo, spec.training, hidden, env, init), objective);
  },
};
