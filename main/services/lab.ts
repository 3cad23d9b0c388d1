// The LabApi implementation: the store and the scheduler behind the one contract every host serves (the
// Electron window, the web host, the CLI). The store and the scheduler are private to it.
import type { ObjectiveFile, StoredObjective } from '../../shared/learnedObjective.js';
import type { Rollout, RolloutRef } from '../../shared/rollout.js';
import type {
  DatasetInfo,
  EvalCurve,
  Experiment,
  ExperimentPlan,
  ExportFormat,
  LabApi,
  LabEvent,
  LabInfo,
  Run,
  Series,
  SeriesOptions,
  ValidateResult,
} from '../../shared/api.js';
import { ACTIVE, LabError, SpecError, type RetryFrom } from '../../shared/api.js';
import { clusterProfile, type ClusterProfile } from '../../shared/cluster.js';
import { expandExperiment, type ExpandResult, type RunSpec } from '../../shared/spec.js';
import path from 'node:path';
import { IdxError, importIdx, listDatasets, type ImportRequest, type Manifest } from '../engine/data/index.js';
import { engineIssues } from '../engine/validate.js';
import { exportRuns, resolveTarget } from './export.js';
import { readObjectiveFile, toObjectiveFile } from './objectives.js';
import { appVersion, databaseFile, datasetsDir, removeCheckpoints, workerScript } from './paths.js';
import { Planner, PlanError } from './planner.js';
import { SeriesReaders } from './store/readers.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';
import { SlurmCommandError } from './slurm/commands.js';
import { SlurmExecutor } from './slurm/executor.js';
import { removeDeletedTaskFiles } from './slurm/files.js';
import { ProfileError, readProfile, writeProfile } from './slurm/profile.js';
import { Store } from './store/index.js';

export interface LabOptions extends Omit<SchedulerOptions, 'emit'> {
  host: LabInfo['host'];
  /** How often the lab follows its SLURM runs (reads their messages, asks for their states); default 2 s. */
  slurmPollMs?: number;
  /** Take over the SLURM runs of labs that are gone (default true). */
  adoptSlurmRuns?: boolean;
}

/** How often the lab looks for changes other processes made to its data folder. */
const WATCH_MS = 1000;

export class Lab implements LabApi {
  private readonly store: Store;
  private readonly scheduler: Scheduler;
  /** Runs on a SLURM cluster (null in a read-only lab: it follows nothing). */
  private readonly slurm: SlurmExecutor | null;
  private readonly planner: Planner;
  /** Threads that answer getSeries off this one (./store/readers.ts). */
  private readonly readers: SeriesReaders;
  private readonly listeners = new Set<(event: LabEvent) => void>();
  /** Polls the store for commits by other processes on the same data folder (they become `store-changed`). */
  private readonly watcher: NodeJS.Timeout;

  constructor(private readonly options: LabOptions) {
    this.store = new Store(databaseFile(options.home));
    this.readers = new SeriesReaders(this.store.db.name);
    if (this.store.mode === 'read-write') this.store.markOrphansInterrupted(isAlive);
    this.scheduler = new Scheduler(this.store, { ...options, emit: (e) => this.emit(e) });
    this.slurm =
      this.store.mode === 'read-write'
        ? new SlurmExecutor(
            this.store,
            {
              home: options.home,
              workerScript: workerScript(),
              nodeProgram: process.execPath,
              emit: (e) => this.emit(e),
              pollMs: options.slurmPollMs,
              adopt: options.adoptSlurmRuns ?? true,
            },
            isAlive,
          )
        : null;
    this.planner = new Planner(options.launch, datasetsDir(options.home));
    let seen = this.store.dataVersion();
    this.watcher = setInterval(() => {
      const now = this.store.dataVersion();
      if (now !== seen) this.emit({ type: 'store-changed' });
      seen = now;
    }, WATCH_MS);
    this.watcher.unref();
  }

  /** Subscribes to pushed events; returns the unsubscribe function. */
  subscribe(listener: (event: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: LabEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** Resolves when no run of this lab is queued or running (the CLI's `metalab run` waits on it). */
  async idle(): Promise<void> {
    await Promise.all([this.scheduler.idle(), this.slurm?.idle()]);
  }

  async close(): Promise<void> {
    clearInterval(this.watcher);
    await this.slurm?.close();
    this.planner.close();
    await this.scheduler.shutdown();
    await this.readers.close();
    this.store.close();
  }

  async setConcurrency(concurrency: number): Promise<LabInfo> {
    this.scheduler.setConcurrency(concurrency);
    return this.getInfo();
  }

  async getInfo(): Promise<LabInfo> {
    return {
      version: appVersion(),
      home: this.options.home,
      host: this.options.host,
      concurrency: this.scheduler.concurrency,
      readOnly: this.store.mode === 'read-only',
    };
  }

  /**
   * The spec checked against the schema, then against what the engine knows (its datasets exist and fit the task),
   * with the learned objective it names resolved to a stored one's sha256 (in the spec and every run).
   */
  private check(spec: unknown): ExpandResult {
    const result = expandExperiment(spec);
    if (!result.ok) return result;
    const issues = engineIssues(result.runs, listDatasets(datasetsDir(this.options.home)));
    return issues.length ? { ok: false, issues } : this.resolveObjective(result);
  }

  /**
   * A `learned-objective` spec's objective as stored: 'latest' becomes the newest stored objective's sha256, and a
   * sha256 must be stored here. (No sweep can vary it: only numeric fields are swept.)
   */
  private resolveObjective(result: Extract<ExpandResult, { ok: true }>): ExpandResult {
    const { task } = result.spec;
    if (task.family !== 'rl' || task.algorithm.kind !== 'learned-objective') return result;
    const ref = task.algorithm.objective;
    if (ref === 'random') return result;
    const stored = ref === 'latest' ? this.store.objectives.newest() : this.store.objectives.bySha(ref);
    if (!stored) {
      const message =
        ref === 'latest'
          ? "'latest' is the newest learned objective stored in this lab, and it has none yet: run a metagenrl " +
            'experiment (it stores the objective it meta-trains) or import an objective file'
          : `no learned objective with sha256 ${ref} is stored in this lab (\`metalab objectives\` lists them; ` +
            'import its file to use it)';
      return { ok: false, issues: [{ path: ['task', 'algorithm', 'objective'], message }] };
    }
    return {
      ok: true,
      spec: withObjective(result.spec, stored.sha256),
      runs: result.runs.map((r) => ({ point: r.point, spec: withObjective(r.spec, stored.sha256) })),
    };
  }

  private checked(spec: unknown): Extract<ExpandResult, { ok: true }> {
    const result = this.check(spec);
    if (!result.ok) throw new SpecError(result.issues);
    return result;
  }

  async validateSpec(spec: unknown): Promise<ValidateResult> {
    const result = this.check(spec);
    return result.ok ? { ok: true, runCount: result.runs.length } : result;
  }

  async planExperiment(spec: unknown): Promise<ExperimentPlan> {
    // A stored objective costs what a random one of its architecture does: the measuring worker uses that.
    const runs = this.checked(spec).runs.map((r) => ({ point: r.point, spec: this.asRandomObjective(r.spec) }));
    try {
      return await this.planner.plan(runs, this.scheduler.concurrency);
    } catch (err) {
      throw err instanceof PlanError ? new LabError(`cannot estimate this experiment: ${err.message}`) : err;
    }
  }

  async listDatasets(): Promise<DatasetInfo[]> {
    return listDatasets(datasetsDir(this.options.home));
  }

  /**
   * Imports IDX files as a dataset of this lab (`metalab import`). A host-side method, not part of LabApi:
   * the page never names files on this machine.
   */
  importDataset(request: ImportRequest): { manifest: Manifest; folder: string } {
    this.requireWritable('importDataset');
    const dir = datasetsDir(this.options.home);
    try {
      const manifest = importIdx(request, dir);
      return { manifest, folder: path.join(dir, manifest.name) };
    } catch (err) {
      throw err instanceof IdxError ? new LabError(err.message) : err;
    }
  }

  async createExperiment(spec: unknown): Promise<{ experimentId: number; runIds: number[] }> {
    this.requireWritable('createExperiment');
    const result = this.checked(spec);
    const created = this.store.createExperiment(result.spec, result.runs);
    this.emit({ type: 'experiment-changed', experimentId: created.experimentId });
    if (result.spec.executor === 'slurm') await this.slurmExecutor().submit(created.runIds);
    else this.scheduler.enqueue(created.runIds);
    return created;
  }

  async listExperiments(): Promise<Experiment[]> {
    return this.store.listExperiments();
  }

  async getExperiment(id: number): Promise<Experiment> {
    return this.requireExperiment(id);
  }

  async updateExperiment(patch: { id: number; name?: string; tags?: string[]; notes?: string }): Promise<Experiment> {
    this.requireWritable('updateExperiment');
    this.requireExperiment(patch.id);
    this.store.updateExperiment(patch.id, patch);
    this.emit({ type: 'experiment-changed', experimentId: patch.id });
    return this.requireExperiment(patch.id);
  }

  async deleteExperiment(id: number): Promise<void> {
    this.requireWritable('deleteExperiment');
    this.requireExperiment(id);
    const runs = this.store.listRuns({ experimentId: id });
    const runIds = runs.map((r) => r.id);
    await Promise.all(runs.map((run) => this.stopRun(run)));
    this.store.deleteExperiment(id);
    for (const runId of runIds) removeCheckpoints(this.options.home, runId);
    if (runs.some((r) => r.executor === 'slurm')) this.removeDeletedTaskFiles();
    this.emit({ type: 'experiment-changed', experimentId: id });
  }

  async listRuns(filter?: { experimentId?: number }): Promise<Run[]> {
    return this.store.listRuns(filter);
  }

  async getRun(id: number): Promise<Run> {
    return this.requireRun(id);
  }

  /**
   * Cancels a run whichever process owns its worker: this one's scheduler directly; another live one through
   * the store (it polls for requests every second); a run whose owner is gone is marked cancelled here.
   */
  async cancelRun(id: number): Promise<void> {
    this.requireWritable('cancelRun');
    const run = this.requireRun(id);
    if (this.scheduler.isActive(id)) return this.scheduler.cancel(id);
    if (!ACTIVE.includes(run.status)) return;
    // Any lab may scancel; the lab following the run records its end from SLURM's state.
    if (run.slurm || this.slurm?.isActive(id)) return this.slurmCall(() => this.slurmExecutor().cancel(id));
    const owner = this.store.ownerOf(id);
    if (owner !== null && isAlive(owner)) return this.store.requestCancel(id);
    this.store.setRunStatus(id, 'cancelled', { finishedAt: Date.now() });
    this.emit({ type: 'run-state', runId: id, experimentId: run.experimentId, status: 'cancelled', error: null });
  }

  async retryRun(id: number, options?: { from: RetryFrom }): Promise<void> {
    this.requireWritable('retryRun');
    const run = this.requireRun(id);
    if (this.scheduler.isActive(id) || this.slurm?.isActive(id))
      throw new LabError(`run r${id} is already queued or running`);
    const from = options?.from ?? 'latest';
    if (run.executor === 'slurm') return this.slurmCall(() => this.slurmExecutor().retry(id, from));
    try {
      this.scheduler.retry(id, from);
    } catch (err) {
      throw new LabError((err as Error).message);
    }
  }

  async getClusterProfile(): Promise<ClusterProfile> {
    return this.slurmCall(async () => readProfile(this.options.home));
  }

  async setClusterProfile(profile: ClusterProfile): Promise<ClusterProfile> {
    this.requireWritable('setClusterProfile');
    writeProfile(this.options.home, clusterProfile.parse(profile));
    return readProfile(this.options.home);
  }

  private slurmExecutor(): SlurmExecutor {
    if (!this.slurm) throw new LabError('this lab is read-only: it cannot submit to SLURM');
    return this.slurm;
  }

  /** A SLURM command's or the profile's failure as a LabError naming it. */
  private async slurmCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof LabError || err instanceof ProfileError || err instanceof SlurmCommandError)
        throw new LabError(err.message);
      throw err;
    }
  }

  /** SLURM's task files of deleted runs (these, or any other process deleted). */
  private removeDeletedTaskFiles(): void {
    removeDeletedTaskFiles(this.options.home, (runId) => this.store.getRun(runId) !== undefined);
  }

  /** Stops whatever trains the run: its worker here, or its SLURM task. */
  private async stopRun(run: Run): Promise<void> {
    await this.scheduler.stop(run.id);
    if (run.executor === 'slurm' && ACTIVE.includes(run.status)) await this.slurm?.stop(run.id);
  }

  async deleteRun(id: number): Promise<void> {
    this.requireWritable('deleteRun');
    const run = this.requireRun(id);
    await this.stopRun(run);
    this.store.deleteRun(id);
    removeCheckpoints(this.options.home, id);
    if (run.executor === 'slurm') this.removeDeletedTaskFiles();
    this.emit({ type: 'experiment-changed', experimentId: run.experimentId });
  }

  async getSeries(runIds: number[], keys: string[], options?: SeriesOptions): Promise<Series[]> {
    return this.readers.getSeries(runIds, keys, options);
  }

  async getEvalCurves(runId: number): Promise<EvalCurve[]> {
    this.requireRun(runId);
    return this.store.getEvalCurves(runId);
  }

  async listMetricKeys(runId: number): Promise<string[]> {
    this.requireRun(runId);
    return this.store.metricKeys(runId);
  }

  async listRollouts(runId: number): Promise<RolloutRef[]> {
    this.requireRun(runId);
    return this.store.listRollouts(runId);
  }

  async getRollout(runId: number, step: number, split: string): Promise<Rollout> {
    this.requireRun(runId);
    const rollout = this.store.getRollout(runId, step, split);
    if (!rollout) throw new LabError(`run ${runId} has no rollout of split '${split}' at step ${step}`);
    return rollout;
  }

  async exportRuns(ref: string, format: ExportFormat): Promise<string> {
    return exportRuns(this.store, resolveTarget(this.store, ref), format);
  }

  async listObjectives(): Promise<StoredObjective[]> {
    return this.store.objectives.list();
  }

  async exportObjective(id: number): Promise<ObjectiveFile> {
    const stored = this.requireObjective(id);
    return toObjectiveFile(stored, this.store.objectives.weights(id)!.tensors);
  }

  async importObjective(file: unknown, fileName: string): Promise<StoredObjective> {
    this.requireWritable('importObjective');
    const { file: read, weights } = readObjectiveFile(file, fileName);
    return this.store.objectives.importObjective({
      weights,
      name: read.name,
      lineage: { ...read.lineage, runId: null, experimentId: null, importedFrom: fileName },
    });
  }

  async renameObjective(id: number, name: string): Promise<StoredObjective> {
    this.requireWritable('renameObjective');
    this.requireObjective(id);
    this.store.objectives.rename(id, name);
    return this.requireObjective(id);
  }

  async deleteObjective(id: number): Promise<void> {
    this.requireWritable('deleteObjective');
    const stored = this.requireObjective(id);
    const users = this.store.objectives.deleteUnreferenced(id);
    if (!users.length) return;
    const named = users.map((e) => `e${e.id} (${e.name})`).join(', ');
    const those = users.length === 1 ? 'that experiment' : 'those experiments';
    throw new LabError(
      `objective ${id} (${stored.name}) is not deleted: the spec of ${named} trains by it; delete ${those} first`,
    );
  }

  /** A `learned-objective` run by a stored objective as one by a random objective of the same architecture. */
  private asRandomObjective(spec: RunSpec): RunSpec {
    const { task } = spec;
    if (task.family !== 'rl' || task.algorithm.kind !== 'learned-objective' || task.algorithm.objective === 'random')
      return spec;
    const architecture = this.store.objectives.bySha(task.algorithm.objective)!.architecture;
    return {
      ...spec,
      task: { ...task, algorithm: { ...task.algorithm, objective: 'random', randomObjective: architecture } },
    };
  }

  /** Refuses a change where the data folder is read-only (it was opened read-only: see Store). */
  private requireWritable(method: string): void {
    if (this.store.mode === 'read-write') return;
    throw new LabError(
      `${method}: the data folder ${this.options.home} is read-only, so runs can be looked at and exported but not ` +
        'changed (make it writable, or set METALAB_HOME to a writable copy)',
    );
  }

  private requireRun(id: number): Run {
    const run = this.store.getRun(id);
    if (!run) throw new LabError(`run r${id} does not exist`);
    return run;
  }

  private requireObjective(id: number): StoredObjective {
    const stored = this.store.objectives.get(id);
    if (!stored) throw new LabError(`learned objective ${id} does not exist (\`metalab objectives\` lists them)`);
    return stored;
  }

  private requireExperiment(id: number): Experiment {
    const experiment = this.store.getExperiment(id);
    if (!experiment) throw new LabError(`experiment e${id} does not exist`);
    return experiment;
  }
}

/** The spec (an experiment's or a run's) with its `learned-objective` algorithm's objective set to `sha256`. */
function withObjective<S extends RunSpec>(spec: S, sha256: string): S {
  const { task } = spec;
  if (task.family !== 'rl' || task.algorithm.kind !== 'learned-objective') return spec;
  return { ...spec, task: { ...task, algorithm: { ...task.algorithm, objective: sha256 } } };
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
