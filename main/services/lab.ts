// The LabApi implementation: the store and the scheduler behind the one contract both hosts serve.
import type { DatasetInfo, EvalCurve, Experiment, ExperimentPlan, LabApi, LabEvent, LabInfo, Run, Series, SeriesOptions, ValidateResult } from '../../shared/api.js';
import { LAB_API_METHODS, LabError, labApiArgs } from '../../shared/api.js';
import { expandExperiment, formatPath, type ExpandResult, type SpecIssue } from '../../shared/spec.js';
import { listDatasets } from '../engine/data/index.js';
import { appVersion, databaseFile, datasetsDir } from './paths.js';
import { Planner, PlanError } from './planner.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { Store } from './store/index.js';

export interface LabOptions extends Omit<SchedulerOptions, 'emit'> {
  host: LabInfo['host'];
}

export class Lab implements LabApi {
  readonly store: Store;
  readonly scheduler: Scheduler;
  private readonly planner: Planner;
  private readonly listeners = new Set<(event: LabEvent) => void>();

  constructor(private readonly options: LabOptions) {
    this.store = new Store(databaseFile(options.home));
    this.store.markOrphansInterrupted(isAlive);
    this.scheduler = new Scheduler(this.store, { ...options, emit: (e) => this.emit(e) });
    this.planner = new Planner(options.launch, datasetsDir(options.home));
  }

  /** Subscribes to pushed events; returns the unsubscribe function. */
  subscribe(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: LabEvent): void {
    for (const l of this.listeners) l(event);
  }

  async close(): Promise<void> {
    this.planner.close();
    await this.scheduler.shutdown();
    this.store.close();
  }

  async getInfo(): Promise<LabInfo> {
    return { version: appVersion(), home: this.options.home, host: this.options.host, concurrency: this.scheduler.concurrency };
  }

  /** The spec checked against the schema, then its datasets against those this lab has. */
  private check(spec: unknown): ExpandResult {
    const result = expandExperiment(spec);
    if (!result.ok) return result;
    const issues = unknownDatasets(result, this.datasetNames());
    return issues.length ? { ok: false, issues } : result;
  }

  private checked(spec: unknown): Extract<ExpandResult, { ok: true }> {
    const result = this.check(spec);
    if (!result.ok) throw new LabError(`invalid spec: ${result.issues.map((i) => `${formatPath(i.path) || '(spec)'}: ${i.message}`).join('; ')}`);
    return result;
  }

  private datasetNames(): string[] {
    return listDatasets(datasetsDir(this.options.home)).map((d) => d.name);
  }

  async validateSpec(spec: unknown): Promise<ValidateResult> {
    const result = this.check(spec);
    return result.ok ? { ok: true, runCount: result.runs.length } : result;
  }

  async planExperiment(spec: unknown): Promise<ExperimentPlan> {
    const { runs } = this.checked(spec);
    try {
      return await this.planner.plan(runs, this.scheduler.concurrency);
    } catch (err) {
      throw err instanceof PlanError ? new LabError(`cannot estimate this experiment: ${err.message}`) : err;
    }
  }

  async listDatasets(): Promise<DatasetInfo[]> {
    return listDatasets(datasetsDir(this.options.home));
  }

  async createExperiment(spec: unknown): Promise<{ experimentId: number; runIds: number[] }> {
    const result = this.checked(spec);
    const created = this.store.createExperiment(result.spec, result.runs);
    if (result.spec.tags?.length) this.store.updateExperiment(created.experimentId, { tags: result.spec.tags });
    this.emit({ type: 'experiment-changed', experimentId: created.experimentId });
    this.scheduler.enqueue(created.runIds);
    return created;
  }

  async listExperiments(): Promise<Experiment[]> {
    return this.store.listExperiments();
  }

  async updateExperiment(patch: { id: number; name?: string; tags?: string[]; notes?: string }): Promise<Experiment> {
    this.requireExperiment(patch.id);
    this.store.updateExperiment(patch.id, patch);
    this.emit({ type: 'experiment-changed', experimentId: patch.id });
    return this.requireExperiment(patch.id);
  }

  async deleteExperiment(id: number): Promise<void> {
    this.requireExperiment(id);
    await Promise.all(this.store.listRuns({ experimentId: id }).map((r) => this.scheduler.stop(r.id)));
    this.store.deleteExperiment(id);
    this.emit({ type: 'experiment-changed', experimentId: id });
  }

  async listRuns(filter?: { experimentId?: number }): Promise<Run[]> {
    return this.store.listRuns(filter);
  }

  async getRun(id: number): Promise<Run> {
    return this.requireRun(id);
  }

  async cancelRun(id: number): Promise<void> {
    this.requireRun(id);
    this.scheduler.cancel(id);
  }

  async retryRun(id: number): Promise<void> {
    this.requireRun(id);
    if (this.scheduler.isActive(id)) throw new LabError(`run ${id} is already queued or running`);
    try {
      this.scheduler.retry(id);
    } catch (err) {
      throw new LabError((err as Error).message);
    }
  }

  async deleteRun(id: number): Promise<void> {
    const run = this.requireRun(id);
    await this.scheduler.stop(id);
    this.store.deleteRun(id);
    this.emit({ type: 'experiment-changed', experimentId: run.experimentId });
  }

  async getSeries(runIds: number[], keys: string[], options?: SeriesOptions): Promise<Series[]> {
    return this.store.getSeries(runIds, keys, options);
  }

  async getEvalCurves(runId: number): Promise<EvalCurve[]> {
    this.requireRun(runId);
    return this.store.getEvalCurves(runId);
  }

  private requireRun(id: number): Run {
    const run = this.store.getRun(id);
    if (!run) throw new LabError(`run ${id} does not exist`);
    return run;
  }

  private requireExperiment(id: number): Experiment {
    const experiment = this.store.getExperiment(id);
    if (!experiment) throw new LabError(`experiment ${id} does not exist`);
    return experiment;
  }
}

/** Issues for datasets the spec names (in any run of its sweep) that this lab does not have. */
function unknownDatasets(result: Extract<ExpandResult, { ok: true }>, known: string[]): SpecIssue[] {
  const issues = new Map<string, SpecIssue>();
  const refuse = (path: (string | number)[], name: string) =>
    issues.set(formatPath(path), { path, message: `unknown dataset '${name}'; this lab has ${known.join(', ')} (import others with \`metalab import\`)` });
  for (const { spec } of result.runs) {
    if (spec.task.family !== 'gpicl-classification') continue;
    if (!known.includes(spec.task.dataset)) refuse(['task', 'dataset'], spec.task.dataset);
    for (const [i, name] of spec.task.evalDatasets.entries()) if (!known.includes(name)) refuse(['task', 'evalDatasets', i], name);
  }
  return [...issues.values()];
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return false; // a previous life of this process id cannot still own runs
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The LabApi as served to an untrusted page: every request's arguments are parsed with the contract's
 * schemas first, and a refusal names the argument and field at fault.
 */
export function guardedApi(lab: LabApi): LabApi {
  const api = {} as Record<keyof LabApi, (...args: unknown[]) => Promise<unknown>>;
  for (const method of LAB_API_METHODS) {
    api[method] = async (...args: unknown[]) => {
      const parsed = labApiArgs[method].safeParse(args);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const [index, ...rest] = issue.path;
        throw new LabError(`${method}: argument ${Number(index) + 1}${rest.length ? ` field ${formatPath(rest as (string | number)[])}` : ''}: ${issue.message}`);
      }
      return (lab[method] as (...a: unknown[]) => Promise<unknown>).apply(lab, parsed.data as unknown[]);
    };
  }
  return api as unknown as LabApi;
}
