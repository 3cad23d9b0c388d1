// Exports of stored runs: long-format CSV of every metric value, or JSON with specs, curves and summaries.
import { LabError, parseRunRef, type ExportFormat, type Run } from '../../shared/api.js';
import type { Store } from './store/index.js';

export interface ExportTarget {
  runs: Run[];
  experimentId: number | null;
}

/** The runs `ref` names: a run (`r12`, `12`) or an experiment's (`e3`), in sweep order. */
export function resolveTarget(store: Store, ref: string): ExportTarget {
  const { kind, id } = parseRunRef(ref);
  if (kind === 'experiment') {
    if (!store.getExperiment(id)) throw new LabError(`experiment e${id} does not exist`);
    return { runs: store.listRuns({ experimentId: id }).reverse(), experimentId: id };
  }
  const run = store.getRun(id);
  if (!run) throw new LabError(`run r${id} does not exist`);
  return { runs: [run], experimentId: null };
}

function csvCell(v: string | number | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function exportRuns(store: Store, target: ExportTarget, format: ExportFormat): string {
  if (format === 'csv') {
    const lines = ['run_id,experiment_id,key,step,value'];
    for (const run of target.runs) {
      for (const m of store.allMetrics(run.id))
        lines.push([run.id, run.experimentId, m.key, m.step, m.value].map(csvCell).join(','));
    }
    return `${lines.join('\n')}\n`;
  }
  const experiment = target.experimentId !== null ? store.getExperiment(target.experimentId) : undefined;
  const runs = target.runs.map((run) => {
    const metrics: Record<string, [number, number | null][]> = {};
    for (const m of store.allMetrics(run.id)) {
      metrics[m.key] ??= [];
      metrics[m.key].push([m.step, m.value]);
    }
    return { ...run, metrics, evalCurves: store.getEvalCurves(run.id) };
  });
  return `${JSON.stringify({ format: 'metalab-export/2', experiment: experiment ?? null, runs }, null, 2)}\n`;
}
