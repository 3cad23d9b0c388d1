// Estimates for a planned experiment. Each distinct configuration (what decides a run's model size and step
// time) is measured once by the engine in a short-lived worker process, so tfjs never loads in this process,
// and the result is cached: a sweep over the number of tasks or the learning rate is measured once.
import type { ExperimentPlan, PlannedRun } from '../../shared/api.js';
import { wallSeconds } from '../../shared/plan.js';
import type { RunSpec, SweepPoint } from '../../shared/spec.js';
import type { ConfigCost, ConfigSize } from '../engine/plan.js';
import type { WorkerHandle, WorkerLauncher } from './workers.js';

/** Configurations timed per plan; the rest are only sized (building a model is quick, timing it is not). */
export const MAX_TIMED_CONFIGS = 8;
const PLAN_TIMEOUT_MS = 120_000;
const CACHE_LIMIT = 256;

/**
 * Task fields that change neither the model nor the cost of a step (dMMSE's one-off cost grows with the pool; ignored).
 */
const COST_NEUTRAL_TASK_FIELDS = new Set(['numTasks', 'biasedFraction', 'noiseVariance']);

interface Measured {
  size: ConfigSize;
  cost: ConfigCost | null;
}

export class PlanError extends Error {
  override name = 'PlanError';
}

/** The configuration a run's measurements hold for: not its seed, pool size, optimiser settings or number of steps. */
export function configKey(spec: RunSpec): string {
  const task = Object.entries(spec.task).filter(([k]) => !COST_NEUTRAL_TASK_FIELDS.has(k));
  const { sequences, learnerBaseline } = spec.evaluation;
  return JSON.stringify([spec.backend, task, spec.model, spec.training.batchSize, sequences, learnerBaseline]);
}

/** Seconds a whole run should take: setup, every step, every evaluation (the first also computes baselines). */
export function estimateSeconds(spec: RunSpec, cost: ConfigCost): number {
  const { steps } = spec.training;
  const every = spec.evaluation.every;
  const evaluations = Math.floor(steps / every) + (steps % every ? 1 : 0);
  return (
    cost.setupSeconds +
    steps * cost.stepSeconds +
    (evaluations ? cost.firstEvalSeconds + (evaluations - 1) * cost.evalSeconds : 0)
  );
}

export class Planner {
  private readonly cache = new Map<string, Measured>();
  /** One measuring worker at a time: two would slow each other and skew the timings. */
  private queue: Promise<unknown> = Promise.resolve();
  private active: WorkerHandle | null = null;
  private closed = false;

  constructor(
    private readonly launch: WorkerLauncher,
    private readonly dataDir: string,
    private readonly timeoutMs = PLAN_TIMEOUT_MS,
  ) {}

  /** Stops a measurement in progress and refuses new ones (the lab is closing). */
  close(): void {
    this.closed = true;
    this.active?.kill();
  }

  plan(runs: readonly { point: SweepPoint; spec: RunSpec }[], concurrency: number): Promise<ExperimentPlan> {
    const next = this.queue.then(() => this.planNow(runs, concurrency));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async planNow(
    runs: readonly { point: SweepPoint; spec: RunSpec }[],
    concurrency: number,
  ): Promise<ExperimentPlan> {
    const keys = runs.map((r) => configKey(r.spec));
    const distinct = [...new Map(keys.map((k, i) => [k, runs[i].spec])).entries()];
    const timed = new Set(distinct.slice(0, MAX_TIMED_CONFIGS).map(([k]) => k));
    const found = new Map<string, Measured>();
    for (const [k] of distinct) {
      const hit = this.cache.get(k);
      if (hit && (hit.cost || !timed.has(k))) found.set(k, hit);
    }
    const missing = distinct.filter(([k]) => !found.has(k));
    // Those to time first: the worker times the first `timed` configs it is sent and only sizes the rest.
    missing.sort(([a], [b]) => Number(timed.has(b)) - Number(timed.has(a)));
    if (missing.length && this.closed) throw new PlanError('the lab is closing');
    if (missing.length) await this.measure(missing, missing.filter(([k]) => timed.has(k)).length, found);

    const planned: PlannedRun[] = runs.map(({ point, spec }, i) => {
      const { size, cost } = found.get(keys[i])!;
      const use = timed.has(keys[i]) ? cost : null;
      return {
        sweepPoint: point,
        steps: spec.training.steps,
        paramCount: size.paramCount,
        stateSize: size.stateSize,
        secondsPerStep: use?.stepSeconds ?? null,
        estimatedSeconds: use ? estimateSeconds(spec, use) : null,
      };
    });
    const durations = planned.map((r) => r.estimatedSeconds);
    const known = durations.every((d): d is number => d !== null);
    return {
      runs: planned,
      backend: found.get(keys[0])!.size.backend,
      concurrency,
      totalSeconds: known ? durations.reduce((a, b) => a + b, 0) : null,
      wallSeconds: known ? wallSeconds(durations, concurrency) : null,
      configs: distinct.length,
      timedConfigs: timed.size,
    };
  }

  /** Measures configs in one worker; every answer is cached as it arrives, so a timeout keeps what was done. */
  private measure(configs: [string, RunSpec][], timed: number, into: Map<string, Measured>): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = this.launch();
      this.active = worker;
      let answered = 0;
      let failure: string | null = null;
      const timer = setTimeout(() => {
        const done = `${answered} of ${configs.length} configurations done`;
        failure =
          `measuring took longer than ${Math.round(this.timeoutMs / 1000)} s (${done}); ` +
          'one training step of this model is very slow here';
        worker.kill();
      }, this.timeoutMs);
      worker.onMessage((message) => {
        if (message.type === 'plan-config') {
          answered++;
          const measured = { size: message.size, cost: message.cost };
          into.set(configs[message.index][0], measured);
          this.remember(configs[message.index][0], measured);
        } else if (message.type === 'failed') {
          failure = message.error.split('\n')[0].replace(/^Error: /, '');
        }
      });
      worker.onExit((reason) => {
        clearTimeout(timer);
        this.active = null;
        if (answered === configs.length) resolve();
        else reject(new PlanError(failure ?? `the measuring worker ${reason}`));
      });
      worker.send({ type: 'plan', configs: configs.map(([, spec]) => spec), timed, dataDir: this.dataDir });
    });
  }

  private remember(key: string, measured: Measured): void {
    this.cache.delete(key);
    this.cache.set(key, measured);
    while (this.cache.size > CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
  }
}
