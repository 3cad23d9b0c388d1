// An RL run, as runExperiment (../train.ts) runs a supervised one: `training.steps` training steps of the spec's
// algorithm (for on-policy learners one rollout and its update each; `training.batchSize` is the number of
// parallel environments, or of trials per batch for a recurrent policy), metrics at every step, evaluation every
// `evaluation.every` steps and at the end (`evaluation.sequences` trials per split, ./evaluate.ts), checkpoints
// every `training.checkpointEvery` steps and on cancel (weights, Adam moments, and in `extra` the environments'
// and counters' states: every other random draw of step k is seeded by (seed, k)), so a resumed run continues
// exactly; a non-finite loss ends the run as diverged; the summary by summarize(). An algorithm may record more at
// an evaluation (evaluateMore: MetaGenRL's objective picture and every agent's rollout) and hand over the learned
// objective it meta-trains (artifact: at every evaluation, the last one marked finished).
import { TRAINING_METRICS, type MetricRow } from '../../../shared/metrics.js';
import { RL_STEP_METRICS } from '../../../shared/objectives/rl.js';
import { phaseCode } from '../../../shared/results.js';
import { initBackend } from '../backends.js';
import { learningRateAt } from '../optimizer.js';
import { summarize, type RunRecord } from '../summarize.js';
import { CancelCheck } from '../yielding.js';
import type { RunOptions, RunOutcome, RunSink, TrainState } from '../train.js';
import { es } from './es.js';
import { fme, hillClimber, randomSearch } from './search.js';
import { evaluateRl, rlEvalSets } from './evaluate.js';
import { rlModelIssues } from './networks.js';
import { metagenrl } from './metagenrl/metagenrl.js';
import { learnedObjective } from './metagenrl/metaTest.js';
import { a2c, ppo, reinforce } from './onPolicy.js';
import { td3 } from './td3.js';
import type { Algorithm, AlgorithmDef, AlgorithmOptions, RlSpec } from './types.js';

type AlgorithmKind = RlSpec['task']['algorithm']['kind'];

export const ALGORITHMS: { [K in AlgorithmKind]: AlgorithmDef<K> } = {
  ppo,
  a2c,
  reinforce,
  td3,
  es,
  fme,
  'hill-climber': hillClimber,
  'random-search': randomSearch,
  metagenrl,
  'learned-objective': learnedObjective,
};

/** A run's backend started and its algorithm created (policy initialised from the seed): what the planner times. */
export async function setUpRl(
  spec: RlSpec,
  options: AlgorithmOptions = {},
): Promise<{ backend: string; algorithm: Algorithm }> {
  const issues = rlModelIssues(spec);
  if (issues.length) throw new Error(`model.kind: ${issues.join('; ')}`);
  const backend = await initBackend(spec.backend);
  const def = ALGORITHMS[spec.task.algorithm.kind] as AlgorithmDef<AlgorithmKind>;
  return { backend, algorithm: await def.create(spec, spec.seed, options) };
}

export async function runRl(spec: RlSpec, sink: RunSink, options: RunOptions = {}): Promise<RunOutcome> {
  const { backend, algorithm } = await setUpRl(spec, { objective: options.objective, candidates: options.candidates });
  const { training } = spec;
  const losses: number[] = options.resume ? options.resume.losses.slice(0, options.resume.step) : [];
  const sets = rlEvalSets(spec);

  const snapshot = async (step: number): Promise<TrainState> => {
    const { tensors, extra } = await algorithm.save();
    // adamT is the supervised loop's; RL learners keep their optimisers' step counts in `extra`.
    return { step, adamT: 0, tensors, losses: losses.slice(), extra };
  };

  let step = 0;
  try {
    if (options.resume) {
      algorithm.restore({ tensors: options.resume.tensors, extra: options.resume.extra });
      step = options.resume.step;
    }
    sink.started({ backend, paramCount: algorithm.paramCount, stateSize: algorithm.stateSize });

    const evaluateAt = async (atStep: number) => {
      const { curves, figures, phase, confidence, rollouts } = evaluateRl(
        algorithm.policy(),
        spec,
        spec.seed,
        sets,
        atStep,
      );
      const more = (await algorithm.evaluateMore?.(atStep)) ?? { curves: [], rollouts: [] };
      sink.evaluation([...curves, ...more.curves]);
      sink.metrics(
        [
          ...Object.entries(figures),
          [TRAINING_METRICS.phase.key, phaseCode(phase)],
          [TRAINING_METRICS.phaseConfidence.key, confidence],
        ].map(([k, v]) => [k, atStep, v] as MetricRow),
      );
      for (const r of [...rollouts, ...more.rollouts]) sink.rollout(r);
      if (algorithm.artifact) sink.objective(await algorithm.artifact(atStep === training.steps));
      return { figures, phase, confidence };
    };

    let lastEvaluation: RunRecord['lastEvaluation'] = null;
    const cancel = new CancelCheck(options.signal, async (at) => sink.checkpoint(await snapshot(at)));
    while (step < training.steps) {
      if (await cancel.cancelled(step)) return { status: 'cancelled' };
      const started = performance.now();
      const lr = learningRateAt(step, training);
      const report = await algorithm.step(step);
      step += 1;
      const ms = performance.now() - started;
      const envStepsPerSec = (report.envSteps * 1000) / ms;
      const m = TRAINING_METRICS;
      const rows: MetricRow[] = [
        [m.loss.key, step, report.loss],
        ...Object.values(RL_STEP_METRICS).flatMap(({ key }): MetricRow[] => {
          const v = report.metrics[key as keyof typeof report.metrics];
          return v === undefined || !Number.isFinite(v) ? [] : [[key, step, v]];
        }),
        [m.learningRate.key, step, lr],
        [m.stepTimeMs.key, step, ms],
        [m.examplesPerSec.key, step, envStepsPerSec],
        ...Object.entries(report.extraMetrics ?? {}).flatMap(([key, v]): MetricRow[] =>
          Number.isFinite(v) ? [[key, step, v]] : [],
        ),
      ];
      // NaN: the step made no gradient update (e.g. TD3 filling its buffer).
      if (!Number.isNaN(report.gradNorm)) rows.push([m.gradNorm.key, step, report.gradNorm]);
      sink.metrics(rows);
      if (!Number.isFinite(report.loss) || report.gradNorm === Infinity) {
        return {
          status: 'diverged',
          error: `loss or gradient became ${report.loss} / ${report.gradNorm} at step ${step}`,
        };
      }
      losses.push(report.loss);
      sink.progress(step, envStepsPerSec);
      if (step % spec.evaluation.every === 0 || step === training.steps) lastEvaluation = await evaluateAt(step);
      if (step % training.checkpointEvery === 0 && step < training.steps) await sink.checkpoint(await snapshot(step));
    }
    sink.summary(
      summarize({
        steps: step,
        backend,
        paramCount: algorithm.paramCount,
        stateSize: algorithm.stateSize,
        losses,
        lastEvaluation,
      }),
    );
    return { status: 'finished' };
  } finally {
    algorithm.dispose();
  }
}
