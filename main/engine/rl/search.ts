// Black-box search without a meta-optimiser: fitness monotonic execution (FME; Kirsch & Schmidhuber 2022) and the
// two baselines it is compared with at equal evaluations, a (1+1) hill climber and random search. A solution is a
// weight vector of the run's policy (./blackBox.ts: SymLA, an LSTM or an MLP), for FME preceded by the weights of
// its self-modification network. Each training step evaluates `evaluations` new candidates, each on the step's
// common trials. Where the paper is silent, the choices here (documented in the README):
// - Fitness. A candidate is always evaluated beside its reference (FME: the solution that wrote it; the others: the
//   best so far) on the same trials of the step (each solution at most once a step), and its fitness estimate is
//   the reference's estimate plus their difference there: trials of different steps differ in difficulty far more
//   than candidates do (on 32 two-armed bandits, about 5 points of a 100-pull total), so raw fitnesses measured on
//   different steps' trials could not be compared. A reference's estimate is the mean of its evaluations (on
//   the trials of each step it was a reference, paired differences anchoring its children). Every evaluation
//   counts toward the budget (`evaluations` metric), the reference's too.
// - FME. Executing a solution is letting it write its child: every parameter theta_i of the solution, those of the
//   self-modification network included, changes by scale * tanh(m(theta_i, eps_i)), m an MLP [2 -> H, tanh -> 1]
//   whose weights are the solution's own first 4H + 1 parameters and eps_i ~ N(0, 1) (parameter sharing: one small
//   network writes them all, itself too; so the way it modifies is itself modified; the outer tanh bounds a change
//   by `scale`: unbounded, a modifier that enlarges itself runs away, its children ever more random). No gradient
//   and no evolutionary operator besides: the child joins the archive, which keeps the `archive` best by ancestral
//   fitness (the mean of the solution's fitness estimate and those its `ancestors` nearest ancestors had when it
//   was made, so that a line that keeps producing fit children is favoured over one lucky child). Each step
//   executes `evaluations` solutions, each drawn from the archive ranked by ancestral fitness with probability
//   proportional to exp(-rank / temperature).
// - Hill climber: the best solution so far plus N(0, sigma^2) noise on every weight, kept when at least as fit as
//   the best on the same trials. Random search: fresh weights from the model's initialisation, kept when fitter.
// The policy (evaluation, rollouts) is the archive's best by ancestral fitness (FME), or the best one.
import type { EvalCurve } from '../../../shared/api.js';
import { ARCHIVE_PICTURE, ARCHIVE_SPLIT } from '../../../shared/objectives/rl.js';
import type { Rollout } from '../../../shared/rollout.js';
import { Rng, seedFrom } from '../rng.js';
import {
  type BlackBoxNet,
  createBlackBoxNet,
  fitnessStats,
  netShape,
  readWeights,
  StepTrials,
  type Weights,
} from './blackBox.js';
import { TrialSource } from './collect.js';
import type { Algorithm, AlgorithmDef, Policy, RlSpec, SavedVariable, StepReport } from './types.js';

type SearchKind = 'fme' | 'hill-climber' | 'random-search';
type SearchSpec<K extends SearchKind = SearchKind> = RlSpec & { task: { algorithm: { kind: K } } };

export interface Solution {
  id: number;
  /** [FME: the self-modification network's weights, then] the policy's weights, flattened in parameter order. */
  weights: Float32Array;
  /** Its fitness estimate (see the top), and how many evaluations of its own it rests on. */
  fitness: number;
  evaluations: number;
  /** The fitness estimates of its parent, grandparent… when it was made (at most `ancestors` of them). */
  ancestors: number[];
  parent: number | null;
  born: number;
  depth: number;
}

export const fitnessOf = (s: Solution): number => s.fitness;
export const ancestralFitness = (s: Solution): number =>
  (s.fitness + s.ancestors.reduce((a, b) => a + b, 0)) / (1 + s.ancestors.length);

/** The archive's solutions ordered best first by ancestral fitness (older first among equals). */
export const byAncestralFitness = (archive: readonly Solution[]): Solution[] =>
  [...archive].sort((a, b) => ancestralFitness(b) - ancestralFitness(a) || a.id - b.id);

/** The rank (0 = best) FME executes next: probability proportional to exp(-rank / temperature). */
export function pickRank(count: number, temperature: number, rng: Rng): number {
  const weights = Array.from({ length: count }, (_, r) => Math.exp(-r / temperature));
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let r = 0; r < count; r++) {
    u -= weights[r];
    if (u < 0) return r;
  }
  return count - 1;
}

/** Parameters of the self-modification network of `hidden` units: W1 [2, H], b1 [H], W2 [H], b2. */
export const modifierSize = (hidden: number): number => 4 * hidden + 1;

/**
 * The child a solution writes (see the top): theta_i + scale tanh(m(theta_i, eps_i)) for every i, m's weights read from
 * the parent's first modifierSize(hidden) parameters. Also the RMS of the whole change and of the modifier's own.
 */
export function selfModify(
  theta: Float32Array,
  hidden: number,
  scale: number,
  rng: Rng,
): { child: Float32Array; size: number; modifierChange: number } {
  const H = hidden;
  const M = modifierSize(H);
  const child = new Float32Array(theta.length);
  let [all, own] = [0, 0];
  for (let i = 0; i < theta.length; i++) {
    const x = theta[i];
    const e = rng.normal();
    let out = theta[4 * H];
    for (let h = 0; h < H; h++) out += theta[3 * H + h] * Math.tanh(theta[h] * x + theta[H + h] * e + theta[2 * H + h]);
    const delta = Math.fround(scale * Math.tanh(out));
    child[i] = x + delta;
    all += delta * delta;
    if (i < M) own += delta * delta;
  }
  return { child, size: Math.sqrt(all / theta.length), modifierChange: Math.sqrt(own / M) };
}

/** A self-modification network's initial weights: W1 ~ N(0, 1), W2 ~ N(0, 1/H), biases 0. */
function initialModifier(hidden: number, rng: Rng): Float32Array {
  const m = new Float32Array(modifierSize(hidden));
  rng.fillNormal(m, 1, 0, 2 * hidden);
  rng.fillNormal(m, 1 / Math.sqrt(hidden), 3 * hidden, hidden);
  return m;
}

const flatten = (weights: Weights): Float32Array => {
  const out = new Float32Array(weights.reduce((n, w) => n + w.length, 0));
  let o = 0;
  for (const w of weights) {
    out.set(w, o);
    o += w.length;
  }
  return out;
};

interface Saved {
  archive: Omit<Solution, 'weights'>[];
  nextId: number;
  evaluations: number;
  envSteps: number;
  trialsStarted: number;
}

class SearchLearner implements Algorithm {
  private archive: Solution[] = [];
  private nextId = 0;
  private evaluations = 0;
  private envSteps = 0;
  private readonly trials: TrialSource;
  /** Values in the policy's parameter order; FME solutions carry the modifier's first. */
  private readonly policyOffset: number;

  constructor(
    private readonly spec: SearchSpec,
    private readonly net: BlackBoxNet,
    private readonly dataSeed: number,
    private readonly initial: Float32Array,
  ) {
    this.trials = new TrialSource(dataSeed, spec.task.numTasks);
    const { algorithm } = spec.task;
    this.policyOffset = algorithm.kind === 'fme' ? modifierSize(algorithm.modifierHidden) : 0;
  }

  get paramCount(): number {
    return this.initial.length;
  }

  get stateSize(): number {
    return this.net.stateSize;
  }

  /** The best solution so far (see the top). */
  private best(): Solution | null {
    return byAncestralFitness(this.archive)[0] ?? null;
  }

  /** A flattened solution as the policy's weights. */
  private policyWeights(weights: Float32Array): Weights {
    let o = this.policyOffset;
    return this.net.params.map((p) => {
      const w = weights.subarray(o, o + p.variable.size);
      o += p.variable.size;
      return w;
    });
  }

  policy(): Policy {
    this.net.acting.load(this.loader((this.best() ?? { weights: this.initial }).weights));
    return this.net.acting;
  }

  private loader(weights: Float32Array) {
    const values = this.policyWeights(weights);
    const byVariable = new Map(this.net.params.map((p, j) => [p.variable, values[j]]));
    return (v: (typeof this.net.params)[number]['variable']) => byVariable.get(v)!;
  }

  async step(step: number): Promise<StepReport> {
    const { spec } = this;
    const algorithm = spec.task.algorithm;
    const trials = new StepTrials(spec, this.net, this.dataSeed, this.trials, step);
    const rng = new Rng(seedFrom(spec.seed, algorithm.kind, step));
    const evaluate = (weights: Float32Array) => {
      this.evaluations += 1;
      return trials.fitness(this.policyWeights(weights));
    };
    // Each solution's evaluation on this step's trials (its first this step also updates its estimate).
    const here = new Map<number, number>();
    const evaluated = (s: Solution): number => {
      let f = here.get(s.id);
      if (f === undefined) {
        f = evaluate(s.weights);
        here.set(s.id, f);
        if (s.evaluations > 0) s.fitness += (f - s.fitness) / (s.evaluations + 1);
        else s.fitness = f;
        s.evaluations += 1;
      }
      return f;
    };
    const ancestors = algorithm.kind === 'fme' ? algorithm.ancestors : 0;
    /** A candidate made from `reference`, evaluated beside it; its estimate anchored on the reference's. */
    const candidate = (weights: Float32Array, reference: Solution, parent: Solution | null): Solution => {
      const atReference = evaluated(reference);
      const child: Solution = {
        id: this.nextId++,
        weights,
        fitness: 0,
        evaluations: 0,
        ancestors: parent ? [parent.fitness, ...parent.ancestors].slice(0, ancestors) : [],
        parent: parent?.id ?? null,
        born: step,
        depth: parent ? parent.depth + 1 : 0,
      };
      const f = evaluate(weights);
      here.set(child.id, f);
      child.fitness = reference.fitness + (f - atReference);
      child.evaluations = 1;
      return child;
    };
    const modifications: { size: number; modifierChange: number }[] = [];
    if (this.archive.length === 0) {
      const first: Solution = {
        id: this.nextId++,
        weights: this.initial,
        fitness: 0,
        evaluations: 0,
        ancestors: [],
        parent: null,
        born: step,
        depth: 0,
      };
      evaluated(first);
      this.archive.push(first);
    }
    for (let k = 0; k < algorithm.evaluations; k++) {
      if (algorithm.kind === 'fme') {
        const ranked = byAncestralFitness(this.archive);
        const parent = ranked[pickRank(ranked.length, algorithm.temperature, rng)];
        const { child, size, modifierChange } = selfModify(
          parent.weights,
          algorithm.modifierHidden,
          algorithm.modifierScale,
          rng,
        );
        modifications.push({ size, modifierChange });
        this.archive = byAncestralFitness([...this.archive, candidate(child, parent, parent)]).slice(
          0,
          algorithm.archive,
        );
      } else if (algorithm.kind === 'hill-climber') {
        const best = this.archive[0];
        const child = candidate(
          best.weights.map((v) => v + algorithm.sigma * rng.normal()),
          best,
          best,
        );
        if (here.get(child.id)! >= here.get(best.id)!) this.archive = [child];
      } else {
        const fresh = createBlackBoxNet(spec, netShape(spec, this.dataSeed), new Rng(rng.int(2 ** 31)));
        const weights = flatten(await readWeights(fresh.params));
        for (const p of fresh.variables) p.variable.dispose();
        const best = this.archive[0];
        const child = candidate(weights, best, null);
        if (here.get(child.id)! > here.get(best.id)!) this.archive = [child];
      }
    }
    this.envSteps += trials.envSteps;
    const archive = fitnessStats(this.archive.map(fitnessOf));
    const best = this.best()!;
    const rms = (key: 'size' | 'modifierChange') =>
      Math.sqrt(modifications.reduce((a, m) => a + m[key] ** 2, 0) / modifications.length);
    return {
      loss: -fitnessOf(best),
      gradNorm: Number.NaN,
      metrics: {
        train_return: trials.meanEpisodeReturn,
        env_steps: this.envSteps,
        evaluations: this.evaluations,
        fitness_best: fitnessOf(best),
        fitness_mean: archive.mean,
        fitness_spread: archive.spread,
        ...(algorithm.kind === 'fme'
          ? { modification_size: rms('size'), modifier_change: rms('modifierChange'), lineage_depth: best.depth }
          : {}),
      },
      envSteps: trials.envSteps,
    };
  }

  /** FME: the archive at this step, one value per solution in every curve (shared/objectives/rl.ts). */
  async evaluateMore(step: number): Promise<{ curves: EvalCurve[]; rollouts: Omit<Rollout, 'runId'>[] }> {
    if (this.spec.task.algorithm.kind !== 'fme') return { curves: [], rollouts: [] };
    const archive = byAncestralFitness(this.archive);
    const curve = (name: string, value: (s: Solution) => number): EvalCurve => ({
      step,
      split: ARCHIVE_SPLIT,
      metric: name,
      values: archive.map(value),
    });
    const p = ARCHIVE_PICTURE;
    return {
      curves: [
        curve(p.fitness.name, fitnessOf),
        curve(p.ancestral.name, ancestralFitness),
        curve(p.born.name, (s) => s.born),
        curve(p.depth.name, (s) => s.depth),
      ],
      rollouts: [],
    };
  }

  async save(): Promise<{ tensors: SavedVariable[]; extra: Saved }> {
    return {
      tensors: this.archive.map((s) => ({ name: `solution/${s.id}`, shape: [s.weights.length], values: s.weights })),
      extra: {
        archive: this.archive.map(({ weights: _, ...rest }) => rest),
        nextId: this.nextId,
        evaluations: this.evaluations,
        envSteps: this.envSteps,
        trialsStarted: this.trials.started,
      },
    };
  }

  restore(saved: { tensors: readonly SavedVariable[]; extra: unknown }): void {
    const extra = saved.extra as Saved;
    const tensors = new Map(saved.tensors.map((t) => [t.name, t.values]));
    this.archive = extra.archive.map((s) => {
      const weights = tensors.get(`solution/${s.id}`);
      if (!weights || weights.length !== this.initial.length)
        throw new Error(`checkpoint does not match the run: solution ${s.id} is missing or has another size`);
      return { ...s, weights: Float32Array.from(weights) };
    });
    this.nextId = extra.nextId;
    this.evaluations = extra.evaluations;
    this.envSteps = extra.envSteps;
    this.trials.started = extra.trialsStarted;
  }

  dispose(): void {
    for (const p of this.net.variables) p.variable.dispose();
  }
}

function searchDef<K extends SearchKind>(): AlgorithmDef<K> {
  return {
    async create(spec, dataSeed) {
      const rng = new Rng(seedFrom(spec.seed, 'init'));
      const net = createBlackBoxNet(spec, netShape(spec, dataSeed), rng);
      const policy = flatten(await readWeights(net.params));
      const { algorithm } = spec.task as SearchSpec['task'];
      const initial =
        algorithm.kind === 'fme' ? flatten([initialModifier(algorithm.modifierHidden, rng), policy]) : policy;
      return new SearchLearner(spec, net, dataSeed, initial);
    },
  };
}

export const fme = searchDef<'fme'>();
export const hillClimber = searchDef<'hill-climber'>();
export const randomSearch = searchDef<'random-search'>();
