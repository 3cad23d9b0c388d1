// A stopped run queued again (LabApi.retryRun), whichever executor trains it: from the checkpoint `from` names
// (checked first: a damaged one is refused with the choices left), or from the start. What it recorded after that
// point goes, and so do its later checkpoints, so that a task restarted on a cluster node, which resumes from the
// newest checkpoint it finds, cannot pick up one of the abandoned line.
import fs from 'node:fs';
import path from 'node:path';
import type { LabEvent } from '../../shared/api.js';
import { RETRYABLE, type RetryFrom } from '../../shared/api.js';
import { CheckpointError, checkpointSteps, verifyCheckpoint } from '../worker/checkpoint.js';
import { checkpointDir, removeCheckpoints, resolveCheckpoint } from './paths.js';
import type { Store } from './store/index.js';

/** Sets the run queued from its resume point; returns the event that says so. */
export function requeueForRetry(store: Store, home: string, runId: number, from: RetryFrom): LabEvent {
  const run = store.getRun(runId);
  if (!run) throw new Error(`run r${runId} does not exist`);
  if (!RETRYABLE.includes(run.status)) {
    throw new Error(`run r${runId} is ${run.status}; only ${RETRYABLE.join(', ')} runs can be retried`);
  }
  const checkpoint = from === 'start' ? null : resumePoint(store, home, runId, from);
  if (checkpoint) {
    const dir = checkpointDir(home, runId);
    for (const step of checkpointSteps(dir).filter((s) => s > checkpoint.step))
      for (const ext of ['json', 'bin']) fs.rmSync(path.join(dir, `step-${step}.${ext}`), { force: true });
  } else removeCheckpoints(home, runId);
  store.truncateAfter(runId, checkpoint?.step ?? 0);
  store.setRunStatus(runId, 'queued', {
    step: checkpoint?.step ?? 0,
    checkpointPath: checkpoint?.path ?? null,
    checkpointStep: checkpoint?.step ?? null,
    cancelRequested: 0,
    error: null,
    finishedAt: null,
  });
  return { type: 'run-state', runId, experimentId: run.experimentId, status: 'queued', error: null };
}

/** The run's latest checkpoint, or the one before it, verified; null where it has none. */
function resumePoint(
  store: Store,
  home: string,
  runId: number,
  from: Exclude<RetryFrom, 'start'>,
): { path: string; step: number } | null {
  const latest = store.checkpointOf(runId);
  if (!latest) return null;
  const dir = checkpointDir(home, runId);
  const earlier = checkpointSteps(dir).filter((s) => s < latest.step);
  const step = from === 'latest' ? latest.step : earlier[0];
  if (step === undefined) throw new Error(`run r${runId} has no checkpoint before step ${latest.step}`);
  const file = from === 'latest' ? resolveCheckpoint(home, latest.path) : path.join(dir, `step-${step}.json`);
  try {
    verifyCheckpoint(file, path.relative(home, file));
  } catch (err) {
    if (!(err instanceof CheckpointError)) throw err;
    const previous = from === 'latest' && earlier.length ? `from the previous checkpoint (step ${earlier[0]}) or ` : '';
    throw new Error(`${err.message}: retry ${previous}from the start`);
  }
  return { path: path.relative(home, file), step };
}
