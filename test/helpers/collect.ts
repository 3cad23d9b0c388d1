import type { EvalCurve } from '../../shared/api';
import type { MetricRow } from '../../shared/metrics';
import type { RunSummary } from '../../shared/results';
import type { Rollout } from '../../shared/rollout';
import type { LearnedObjectiveWeights, ObjectiveProgress, RunInfo, RunSink, TrainState } from '../../main/engine/train';

/** A RunSink that keeps everything in memory, for driving the engine from a test. */
export function collectingSink(onProgress?: (step: number) => void) {
  const out = {
    info: null as RunInfo | null,
    rows: [] as MetricRow[],
    curves: [] as EvalCurve[],
    checkpoints: [] as TrainState[],
    summary: null as RunSummary | null,
    rollouts: [] as Omit<Rollout, 'runId'>[],
    objectives: [] as (LearnedObjectiveWeights & { progress: ObjectiveProgress })[],
    series(key: string): [number, number][] {
      return out.rows.filter((r) => r[0] === key).map((r) => [r[1], r[2]]);
    },
  };
  const sink: RunSink = {
    started: (info) => (out.info = info),
    metrics: (rows) => out.rows.push(...rows),
    evaluation: (curves) => out.curves.push(...curves),
    progress: (step) => onProgress?.(step),
    checkpoint: async (state) => void out.checkpoints.push(state),
    summary: (summary) => (out.summary = summary),
    rollout: (rollout) => void out.rollouts.push(rollout),
    objective: (objective) => void out.objectives.push(objective),
  };
  return { out, sink };
}
