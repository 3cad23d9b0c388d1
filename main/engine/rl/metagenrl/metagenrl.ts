// MetaGenRL's meta-training (Kirsch, van Steenkiste & Schmidhuber 2020): a population of TD3 agents (./agent.ts)
// whose actors minimise the learned objective, and the objective's update from their meta-gradients.
// A training step is one environment step of every agent, then for each agent past its random steps, on one
// minibatch of sub-trajectories (in this order, as the authors' workers): the critics' update; every `policyDelay`
// updates the actor's, on blend * L_alpha + (1 - blend) * TD3's -Q with blend = min(1, agent steps / warmupSteps),
// and the targets'; every `metaDelay` run steps the agent's meta-gradient (./metaGradient.ts). Each agent's
// meta-gradient is clipped to `metaGradClip` global norm, they are averaged over the agents that made one, and the
// objective takes one Adam step at `metaLearningRate`.
// Agent i trains on environment i mod n of [task.env, ...task.moreEnvs]; it is replaced by a new one (new networks,
// replay, instance) every `agentLifetime` steps, its first replacement at round((i + 1) / population * lifetime),
// so the objective keeps meeting learners of every age. Generation g of agent i holds instance id
// g * population + i of the training split, its environment's own slot stream, and networks from (seed, i, g).
// Every random draw of agent i at step k comes from (seed, i, k). The policy evaluated is agent 0's (deterministic);
// each evaluation also records the objective's picture on agent 0's replay (./picture.ts) and one episode of every
// agent's deterministic policy on its own instance (rollout split `agent<i>`).
import * as tf from '@tensorflow/tfjs';
import type { EvalCurve } from '../../../../shared/api.js';
import { agentReturnKey } from '../../../../shared/objectives/rl.js';
import type { Rollout } from '../../../../shared/rollout.js';
import type { RlAlgorithm } from '../../../../shared/spec.js';
import { actionSpace, createVecEnv, TRAIN } from '../../envs/index.js';
import { Adam, learningRateAt } from '../../optimizer.js';
import { Rng, seedFrom } from '../../rng.js';
import { runLifetimes } from '../evaluate.js';
import type { Algorithm, AlgorithmDef, Policy, RlSpec, SavedVariable, StepReport } from '../types.js';
import { type AgentState, agentHidden, ObjectiveAgent } from './agent.js';
import { metaGradient } from './metaGradient.js';
import { LearnedObjective } from './objective.js';
import { objectivePicture } from './picture.js';

type MetaGenRlSpec = Extract<RlAlgorithm, { kind: 'metagenrl' }>;

/** Sub-trajectories of agent 0's replay the objective's picture is drawn on. */
const PICTURE_TRAJECTORIES = 8;

/** Whether agent `agent` of `population` is replaced at the start of step `step` (0-based) of the run. */
export function isReplacedAt(agent: number, population: number, lifetime: number, step: number): boolean {
  if (lifetime === 0 || step === 0) return false;
  const first = Math.round(((agent + 1) / population) * lifetime);
  return step >= first && (step - first) % lifetime === 0;
}

/** The warm-up's weight on the learned objective: from 0 (TD3's actor loss) at birth to 1 after `warmupSteps`. */
export const warmupBlend = (agentSteps: number, warmupSteps: number): number =>
  warmupSteps === 0 ? 1 : Math.min(1, agentSteps / warmupSteps);

/** What the population keeps besides tensors to continue exactly. */
interface PopulationState {
  steps: number;
  envSteps: number;
  metaSteps: number;
  objectiveAdamT: number;
  generations: number[];
  agents: AgentState[];
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

class MetaGenRl implements Algorithm {
  private readonly agents: ObjectiveAgent[];
  private readonly generations: number[];
  private readonly objectiveAdam: Adam;
  /** Run steps taken, environment steps of all agents, objective updates. */
  private steps = 0;
  private envSteps = 0;
  private metaSteps = 0;
  readonly stateSize = 0;

  constructor(
    private readonly spec: RlSpec,
    private readonly algo: MetaGenRlSpec,
    private readonly hidden: readonly number[],
    private readonly dataSeed: number,
    private readonly objective: LearnedObjective,
  ) {
    this.generations = new Array(algo.population).fill(0);
    this.agents = this.generations.map((g, i) => this.makeAgent(i, g));
    this.objectiveAdam = new Adam(objective.params, spec.training.adamEpsilon);
  }

  /** Agent i's task: the run's, on its environment. */
  private taskOf(agent: number) {
    const { task } = this.spec;
    const envs = [task.env, ...task.moreEnvs];
    return { ...task, env: envs[agent % envs.length] };
  }

  /** The instance (and slot stream) of generation g of agent i. */
  private instanceOf(agent: number, generation: number): number {
    return generation * this.algo.population + agent;
  }

  private makeAgent(agent: number, generation: number): ObjectiveAgent {
    const k = this.instanceOf(agent, generation);
    const env = createVecEnv(this.taskOf(agent), this.dataSeed, 1, { ids: [k], firstSlot: k });
    const init = new Rng(seedFrom(this.spec.seed, 'metagenrl-agent', agent, generation));
    return new ObjectiveAgent(this.algo, this.spec.training, this.hidden, env, init);
  }

  get paramCount(): number {
    return this.agents.reduce((n, a) => n + a.paramCount, this.objective.paramCount);
  }

  async step(): Promise<StepReport> {
    const { algo, agents, spec } = this;
    const s = this.steps;
    agents.forEach((a, i) => {
      if (!isReplacedAt(i, algo.population, algo.agentLifetime, s)) return;
      a.dispose();
      this.generations[i] += 1;
      agents[i] = this.makeAgent(i, this.generations[i]);
    });
    const rngs = agents.map((_, i) => new Rng(seedFrom(spec.seed, 'metagenrl-step', i, s)));
    const returns = agents.map((a, i) => a.envStep(rngs[i]));
    this.steps += 1;
    this.envSteps += agents.length;

    const metrics: StepReport['metrics'] = { env_steps: this.envSteps };
    const extraMetrics: Record<string, number> = {};
    const ended = returns.filter((r): r is number => r !== null);
    if (ended.length) metrics.train_return = mean(ended);
    returns.forEach((r, i) => {
      if (r !== null) extraMetrics[agentReturnKey(i)] = r;
    });

    const lr = learningRateAt(s, spec.training);
    const metaStep = (s + 1) % algo.metaDelay === 0;
    const critic = { losses: [] as number[], norms: [] as number[] };
    const actor = { losses: [] as number[], saturations: [] as number[] };
    const meta = { losses: [] as number[], alignments: [] as number[], norms: [] as number[] };
    let metaSum: tf.Tensor[] | null = null;
    for (const [i, a] of agents.entries()) {
      if (!a.learning) continue;
      const x = a.sample(rngs[i]);
      const c = await a.criticUpdate(x, rngs[i], lr);
      critic.losses.push(c.loss);
      critic.norms.push(c.gradNorm);
      if (!Number.isFinite(c.loss)) continue;
      if (a.actorStep) {
        const r = await a.actorUpdate(x, this.objective, warmupBlend(a.steps, algo.warmupSteps), lr);
        actor.losses.push(r.loss);
        actor.saturations.push(r.saturation);
      }
      if (!metaStep) continue;
      const m = await metaGradient(a.nets, this.objective, x, algo.innerLearningRate);
      const norm = await globalNorm(m.grads);
      meta.losses.push(m.metaLoss);
      meta.alignments.push(m.alignment);
      meta.norms.push(norm);
      const scale = algo.metaGradClip !== null && norm > algo.metaGradClip ? algo.metaGradClip / norm : 1;
      const sum: tf.Tensor[] | null = metaSum;
      metaSum = tf.tidy(() =>
        m.grads.map((g, k): tf.Tensor => {
          const scaled = tf.mul(g, scale);
          return sum ? tf.add(sum[k], scaled) : scaled;
        }),
      );
      tf.dispose([...m.grads, ...(sum ?? [])]);
    }
    if (metaSum) {
      const count = meta.norms.length;
      const sum = metaSum;
      const average = tf.tidy(() => sum.map((g) => tf.div(g, count)));
      if (meta.norms.every(Number.isFinite)) {
        await this.objectiveAdam.step(average, algo.metaLearningRate, null);
        this.metaSteps += 1;
      }
      tf.dispose([...sum, ...average]);
      metrics.meta_loss = mean(meta.losses);
      metrics.alignment = mean(meta.alignments);
      metrics.meta_grad_norm = mean(meta.norms);
    }
    if (actor.losses.length) {
      metrics.policy_loss = mean(actor.losses);
      metrics.action_saturation = mean(actor.saturations);
    }
    const envSteps = agents.length;
    if (!critic.losses.length) return { loss: 0, gradNorm: NaN, metrics, envSteps, extraMetrics };
    metrics.value_loss = mean(critic.losses);
    return { loss: metrics.value_loss, gradNorm: mean(critic.norms), metrics, envSteps, extraMetrics };
  }

  /** Agent 0's deterministic actor (or with its exploration noise, when sampled). */
  policy(): Policy {
    return this.agents[0].policy();
  }

  async evaluateMore(step: number): Promise<{ curves: EvalCurve[]; rollouts: Omit<Rollout, 'runId'>[] }> {
    const first = this.agents[0];
    const x = first.replay.sample(
      PICTURE_TRAJECTORIES,
      this.algo.trajectoryLength,
      new Rng(seedFrom(this.spec.seed, 'objective-picture')),
    );
    const curves = objectivePicture(first.nets, this.objective, x, this.algo.discount, step);
    const rollouts = this.agents.map((a, i) => {
      const k = this.instanceOf(i, this.generations[i]);
      const env = createVecEnv(this.taskOf(i), this.dataSeed, 1, { split: TRAIN, ids: [k], firstSlot: k });
      env.reset();
      const rng = new Rng(seedFrom(this.spec.seed, 'metagenrl-rollout', i, step));
      const { rollout } = runLifetimes(env, a.policy(), 1, rng, 'greedy', true);
      return { ...rollout!, step, split: `agent${i}` };
    });
    return { curves, rollouts };
  }

  async artifact(finished: boolean) {
    return {
      architecture: this.objective.architecture,
      tensors: await this.objective.save(),
      progress: { metaSteps: this.metaSteps, agentSteps: this.envSteps, finished },
    };
  }

  async save(): Promise<{ tensors: SavedVariable[]; extra: unknown }> {
    const saved = await Promise.all(this.agents.map((a, i) => a.save(`agent${i}.`)));
    const objective = await this.objective.save();
    const moments = await Promise.all(
      this.objective.params.flatMap((p, i) =>
        (['m', 'v'] as const).map(async (k) => {
          const v = this.objectiveAdam[k][i];
          return {
            name: `adam.objective.${k}.${p.name}`,
            shape: [...v.shape],
            values: (await v.data()) as Float32Array,
          };
        }),
      ),
    );
    const extra: PopulationState = {
      steps: this.steps,
      envSteps: this.envSteps,
      metaSteps: this.metaSteps,
      objectiveAdamT: this.objectiveAdam.t,
      generations: [...this.generations],
      agents: saved.map((a) => a.state),
    };
    return { tensors: [...saved.flatMap((a) => a.tensors), ...objective, ...moments], extra };
  }

  restore(saved: { tensors: readonly SavedVariable[]; extra: unknown }): void {
    const state = saved.extra as PopulationState;
    if (state.agents?.length !== this.agents.length) {
      throw new Error(`this checkpoint has ${state.agents?.length} agents, the run ${this.agents.length}`);
    }
    state.agents.forEach((agentState, i) => {
      if (state.generations[i] !== this.generations[i]) {
        this.agents[i].dispose();
        this.generations[i] = state.generations[i];
        this.agents[i] = this.makeAgent(i, this.generations[i]);
      }
      this.agents[i].restore(`agent${i}.`, saved.tensors, agentState);
    });
    this.objective.restore(saved.tensors);
    const byName = new Map(saved.tensors.map((t) => [t.name, t]));
    this.objective.params.forEach((p, i) => {
      for (const k of ['m', 'v'] as const) {
        const t = byName.get(`adam.objective.${k}.${p.name}`);
        if (!t || t.values.length !== p.variable.size) throw new Error(`checkpoint lacks the objective's Adam ${k}`);
        tf.tidy(() => this.objectiveAdam[k][i].assign(tf.tensor(t.values, p.variable.shape)));
      }
    });
    this.objectiveAdam.t = state.objectiveAdamT;
    this.steps = state.steps;
    this.envSteps = state.envSteps;
    this.metaSteps = state.metaSteps;
  }

  dispose(): void {
    for (const a of this.agents) a.dispose();
    this.objectiveAdam.dispose();
    this.objective.dispose();
  }
}

/** The global norm of a list of gradients. */
async function globalNorm(grads: readonly tf.Tensor[]): Promise<number> {
  const sq = tf.tidy(() => grads.map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b)));
  const value = (await sq.data())[0];
  sq.dispose();
  return Math.sqrt(value);
}

export const metagenrl: AlgorithmDef<'metagenrl'> = {
  async create(spec, dataSeed) {
    const hidden = agentHidden(spec, 'MetaGenRL');
    const { task } = spec;
    for (const env of [task.env, ...task.moreEnvs]) {
      const action = actionSpace({ ...task, env });
      if (action.kind !== 'box') {
        throw new Error(`MetaGenRL's agents need continuous actions; ${env.name} has ${action.n} discrete ones`);
      }
    }
    const algo = task.algorithm;
    const objective = new LearnedObjective(algo.objective, new Rng(seedFrom(spec.seed, 'metagenrl-objective')));
    return new MetaGenRl(spec, algo, hidden, dataSeed, objective);
  },
};
