// The message that starts a run's worker, wherever it trains: its spec, where its checkpoints go, the checkpoint it
// resumes from with the losses before it, and the stored objective a `learned-objective` run trains by.
import type { RunSpec } from '../../shared/spec.js';
import { TRAINING_METRICS } from '../../shared/metrics.js';
import type { LearnedObjectiveWeights } from '../engine/train.js';
import type { StartMessage } from '../worker/protocol.js';
import { checkpointDir, datasetsDir, resolveCheckpoint } from './paths.js';
import type { Store } from './store/index.js';

/** Throws where the run cannot start (its learned objective is no longer stored). */
export function startMessage(store: Store, home: string, runId: number): StartMessage {
  const run = store.getRun(runId);
  if (!run) throw new Error(`run r${runId} does not exist`);
  const checkpoint = store.checkpointOf(runId);
  return {
    type: 'start',
    runId,
    spec: run.spec,
    checkpointDir: checkpointDir(home, runId),
    dataDir: datasetsDir(home),
    resumeFrom: checkpoint ? resolveCheckpoint(home, checkpoint.path) : null,
    lossHistory: checkpoint
      ? store.series(runId, TRAINING_METRICS.loss.key, checkpoint.step).map(([, loss]) => loss)
      : [],
    objective: objectiveFor(store, run.spec),
  };
}

/**
 * The stored objective a `learned-objective` run trains by (its spec names it by sha256: the lab resolved
 * 'latest' when the experiment was created); null for any other run and for a random objective.
 */
function objectiveFor(store: Store, spec: RunSpec): LearnedObjectiveWeights | null {
  const { task } = spec;
  if (task.family !== 'rl' || task.algorithm.kind !== 'learned-objective') return null;
  const ref = task.algorithm.objective;
  if (ref === 'random') return null;
  const stored = store.objectives.bySha(ref);
  const weights = stored && store.objectives.weights(stored.id);
  if (!weights) {
    throw new Error(
      `the learned objective this run trains by (sha256 ${ref}) is no longer stored in this lab: ` +
        'import its file (`metalab objectives import`) and retry',
    );
  }
  return weights;
}
