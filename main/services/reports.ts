// What a worker reports, stored: the same for a worker process of this machine (scheduler.ts) and for a task on a
// cluster node whose messages the lab reads from a file (slurm/ingest.ts). Each call runs inside the transaction
// that checked the report is from the run's current attempt.
import type { LabEvent, RunStatus } from '../../shared/api.js';
import { TRAINING_METRICS } from '../../shared/metrics.js';
import type { FromWorker } from '../worker/protocol.js';
import { firstSentence, logRunError } from './logs.js';
import { runLineage, runObjectiveName } from './objectives.js';
import type { Store } from './store/index.js';

export interface ReportContext {
  store: Store;
  home: string;
  emit?: (event: LabEvent) => void;
}

/** What a report changes of the lab's view of a running run. */
export interface ReportedRun {
  runId: number;
  experimentId: number;
  totalSteps: number;
  /** When this start of the run began (on this lab's clock), and the step it resumed from. */
  startedAt: number;
  fromStep: number;
  /** Set once the worker said how the run ended (finished / cancelled / diverged / failed). */
  outcome: { status: RunStatus; error: string | null } | null;
  /** The latest progress and the recent time per step, for the ETA and the stall watchdog. */
  lastProgress: { at: number; step: number } | null;
  stepMs: number | null;
}

export function storeReport(context: ReportContext, run: ReportedRun, message: FromWorker): void {
  const { store, emit } = context;
  const { runId } = run;
  switch (message.type) {
    case 'started': {
      run.fromStep = message.fromStep;
      store.updateRun(runId, { backend: message.backend });
      // Where the run resumed from its checkpoint: the charts mark it.
      if (message.fromStep > 0) store.appendMetrics(runId, [[TRAINING_METRICS.resumed.key, message.fromStep, 1]]);
      // The run's row changed (its backend is known now): pages listing it refetch.
      const experimentId = store.getRun(runId)?.experimentId;
      if (experimentId !== undefined) emit?.({ type: 'experiment-changed', experimentId });
      break;
    }
    case 'metrics': {
      store.appendMetrics(runId, message.rows);
      const keys = [...new Set(message.rows.map((r) => r[0]))];
      const lastStep = message.rows.reduce((m, r) => Math.max(m, r[1]), 0);
      emit?.({ type: 'metrics-appended', runId, keys, lastStep });
      break;
    }
    case 'eval':
      store.putEvalCurves(runId, message.curves);
      break;
    case 'rollout':
      store.putRollout(runId, message.rollout);
      break;
    case 'objective': {
      const stored = store.getRun(runId)!; // the attempt check found it
      const { progress, ...weights } = message.objective;
      const changed = store.objectives.putForRun(runId, {
        weights,
        lineage: runLineage(stored, progress),
        name: runObjectiveName(stored),
      });
      // Pages showing the run's experiment refetch (its objective is listed with it).
      if (changed) emit?.({ type: 'experiment-changed', experimentId: run.experimentId });
      break;
    }
    case 'heartbeat':
      break;
    case 'progress': {
      store.updateRun(runId, { step: message.step, examplesPerSec: message.examplesPerSec });
      const now = Date.now();
      if (run.lastProgress && message.step > run.lastProgress.step) {
        const ms = (now - run.lastProgress.at) / (message.step - run.lastProgress.step);
        run.stepMs = run.stepMs === null ? ms : 0.8 * run.stepMs + 0.2 * ms;
      }
      run.lastProgress = { at: now, step: message.step };
      const done = message.step - run.fromStep;
      const elapsed = (Date.now() - run.startedAt) / 1000;
      const etaSeconds = done > 0 ? ((run.totalSteps - message.step) * elapsed) / done : null;
      emit?.({
        type: 'run-progress',
        runId,
        step: message.step,
        totalSteps: run.totalSteps,
        examplesPerSec: message.examplesPerSec,
        etaSeconds,
      });
      break;
    }
    case 'checkpoint':
      store.updateRun(runId, { checkpointPath: message.path, checkpointStep: message.step });
      break;
    case 'summary':
      store.putSummary(runId, message.summary);
      break;
    case 'finished':
      run.outcome = { status: message.status, error: message.error };
      break;
    case 'failed': {
      const log = logRunError(context.home, runId, message.detail);
      run.outcome = { status: 'failed', error: `${firstSentence(message.error)} (details: ${log})` };
      break;
    }
  }
}
