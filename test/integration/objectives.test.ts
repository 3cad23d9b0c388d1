// Learned objectives as artifacts of the lab: stored by the run that meta-trains them (through the scheduler, as
// its worker reports them), listed, exported to a file and imported into another lab with the same identity,
// named by sha256 in the specs of new experiments, guarded against deletion while used, and the CLI over all that.
// Real SQLite files; the worker is a stand-in the test speaks for (the planner tests' way) where a test needs to
// say what it reports and when, a real worker process (dist/main/worker.cjs) end to end, and the CLI a real
// process of the built `metalab`.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LabError, SpecError } from '../../shared/api';
import type { ObjectiveFile } from '../../shared/learnedObjective';
import { learnedObjectiveSpec, type ExperimentSpecInput } from '../../shared/spec';
import { Rng } from '../../main/engine/rng';
import type { LearnedObjectiveWeights } from '../../main/engine/train';
import { Lab } from '../../main/services/lab';
import { objectiveSha256 } from '../../main/services/objectives';
import { databaseFile } from '../../main/services/paths';
import { MIGRATIONS } from '../../main/services/store/migrations';
import { SCHEMA_VERSION, Store } from '../../main/services/store/index';
import type { WorkerHandle } from '../../main/services/workers';
import type { FromWorker, ToWorker } from '../../main/worker/protocol';
import { objectiveLayout } from '../../main/engine/rl/metagenrl/layout';
import { metalab } from '../helpers/cli';
import { testLab } from '../helpers/lab';
import { tempDir } from '../helpers/tmp';

/** A small architecture with random weights for it (in reverse order: the identity sorts them by name). */
function randomObjective(seed: number): LearnedObjectiveWeights {
  const architecture = learnedObjectiveSpec.parse({ units: 4, depth: 1, valueFeatures: 2, lstm: 3 });
  const rng = new Rng(seed);
  const tensor = (name: string, shape: number[]) => ({
    name,
    shape,
    values: rng.fillNormal(new Float32Array(shape.reduce((a, b) => a * b, 1)), 0.1),
  });
  return {
    architecture,
    tensors: objectiveLayout(architecture)
      .map((t) => tensor(t.name, t.shape))
      .reverse(),
  };
}

interface StandIn {
  /** What the lab sent this worker. */
  sent: ToWorker[];
  /** Reports as the worker would. */
  say(message: FromWorker): void;
  /** Reports the run finished and exits. */
  finish(): void;
  killed: boolean;
}

/** A lab on `home` whose workers are stand-ins the test speaks for, one per started run (in `workers`). */
function standInLab(home: string): { lab: Lab; workers: StandIn[] } {
  const workers: StandIn[] = [];
  const launch = (): WorkerHandle => {
    let onMessage: (m: FromWorker) => void = () => undefined;
    let onExit: (reason: string) => void = () => undefined;
    let exited = false;
    const exit = (reason: string) => {
      if (!exited) setImmediate(() => onExit(reason));
      exited = true;
    };
    const worker: StandIn = {
      sent: [],
      say: (m) => onMessage(m),
      finish() {
        onMessage({ type: 'finished', status: 'finished', error: null });
        exit('exited with code 0');
      },
      killed: false,
    };
    workers.push(worker);
    return {
      pid: undefined,
      send: (m) => void worker.sent.push(m),
      onMessage: (h) => (onMessage = h),
      onExit: (h) => (onExit = h),
      kill() {
        worker.killed = true;
        exit('killed by SIGKILL');
      },
    };
  };
  return { lab: new Lab({ home, concurrency: 4, host: 'cli', launch }), workers };
}

const model = { kind: 'mlp' as const, hidden: [16, 16] };
const training = { steps: 100, batchSize: 16 };

const metaSpec: ExperimentSpecInput = {
  name: 'meta-train',
  seed: 1,
  backend: 'wasm',
  task: {
    family: 'rl',
    env: { name: 'Pendulum-v1', physics: 0.2 },
    moreEnvs: [{ name: 'MountainCarContinuous-v0' }],
    algorithm: { kind: 'metagenrl', population: 3 },
  },
  model,
  training,
};

const testSpec = (objective: string): ExperimentSpecInput => ({
  name: 'meta-test',
  seed: 1,
  backend: 'wasm',
  task: { family: 'rl', env: { name: 'Pendulum-v1' }, algorithm: { kind: 'learned-objective', objective } },
  model,
  training,
});

const objectiveMessage = (weights: LearnedObjectiveWeights, metaSteps: number, finished = false): FromWorker => ({
  type: 'objective',
  objective: { ...weights, progress: { metaSteps, agentSteps: metaSteps * 6, finished } },
});

/** Runs a metagenrl experiment whose worker reports `objectives` then finishes; returns its run id. */
async function metaTrain(lab: Lab, workers: StandIn[], ...objectives: LearnedObjectiveWeights[]): Promise<number> {
  const [runId] = (await lab.createExperiment(metaSpec)).runIds;
  const worker = workers[workers.length - 1];
  for (const [i, o] of objectives.entries()) worker.say(objectiveMessage(o, 10 * (i + 1), i === objectives.length - 1));
  worker.finish();
  await lab.idle();
  return runId;
}

const valuesOf = (w: LearnedObjectiveWeights) => Object.fromEntries(w.tensors.map((t) => [t.name, [...t.values]]));

async function refusal(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: Error) => e,
  );
  if (!(err instanceof LabError)) throw new Error(`expected a LabError, got ${err}`);
  return err.message;
}

describe('learned objectives in the store', () => {
  it('migrates a database of the previous schema, keeping its runs; lineage survives deleting the run', async () => {
    const home = tempDir();
    const old = new Database(databaseFile(home));
    for (const m of MIGRATIONS.slice(0, SCHEMA_VERSION - 1)) {
      if (typeof m === 'string') old.exec(m);
      else m(old);
    }
    old.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
    old.prepare(`INSERT INTO experiments (id, name, spec, created_at) VALUES (1, 'old', '{}', 1)`).run();
    old
      .prepare(
        `INSERT INTO runs (id, experiment_id, sweep_index, sweep_point, spec, status, seed, total_steps, created_at)
         VALUES (1, 1, 0, '{}', '{}', 'finished', 0, 10, 1)`,
      )
      .run();
    old.close();

    const { lab, workers } = standInLab(home);
    expect(await lab.listRuns()).toHaveLength(1);
    expect(await lab.listObjectives()).toEqual([]);
    const runId = await metaTrain(lab, workers, randomObjective(1));
    const [stored] = await lab.listObjectives();
    expect(stored.lineage).toMatchObject({ runId, experimentName: 'meta-train' });
    await lab.deleteRun(runId);
    expect(await lab.listObjectives()).toEqual([stored]);
    await lab.close();
    const store = new Store(databaseFile(home));
    expect(store.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(store.db.prepare('SELECT source_run_id FROM objectives').pluck().get()).toBeNull();
    store.close();
  });

  it("keeps a run's latest objective as one entry, named after its run, with the run's lineage", async () => {
    const { lab, workers } = standInLab(tempDir());
    const [first, latest] = [randomObjective(1), randomObjective(2)];
    const [runId] = (await lab.createExperiment(metaSpec)).runIds;
    const worker = workers[0];
    worker.say(objectiveMessage(first, 10));
    const [before] = await lab.listObjectives();
    expect(before.sha256).toBe(objectiveSha256(first.architecture, first.tensors));
    worker.say(objectiveMessage(latest, 20, true));
    worker.finish();
    await lab.idle();

    const listed = await lab.listObjectives();
    expect(listed).toHaveLength(1);
    const [stored] = listed;
    expect(stored.id).toBe(before.id);
    expect(stored.sha256).toBe(objectiveSha256(latest.architecture, latest.tensors));
    expect(stored.name).toBe(`meta-train · r${runId}`);
    // action 2x4 + 4 + LayerNorm 8, value 4x2 + 2, LSTM 9x12 + 12, head 3x1 + 1
    expect(stored.paramCount).toBe(20 + 10 + 120 + 4);
    expect(stored.architecture).toEqual(latest.architecture);
    const experimentId = (await lab.getRun(runId)).experimentId;
    expect(stored.lineage).toEqual({
      runId,
      experimentId,
      experimentName: 'meta-train',
      trainEnvs: [
        { name: 'Pendulum-v1', physics: 0.2, maxSteps: null },
        { name: 'MountainCarContinuous-v0', physics: 0, maxSteps: null },
      ],
      population: 3,
      metaSteps: 20,
      agentSteps: 120,
      finished: true,
      importedFrom: null,
    });
    await lab.close();
  });

  it('writes nothing for the worker of a deleted run, and stops it', async () => {
    const home = tempDir();
    const { lab, workers } = standInLab(home);
    const [runId] = (await lab.createExperiment(metaSpec)).runIds;
    const other = new Store(databaseFile(home));
    other.deleteRun(runId);
    workers[0].say(objectiveMessage(randomObjective(1), 10));
    await lab.idle();
    expect(workers[0].killed).toBe(true);
    expect(await lab.listObjectives()).toEqual([]);
    other.close();
    await lab.close();
  });
});

describe('an objective file', () => {
  async function exported(): Promise<{ file: ObjectiveFile; lab: Lab; id: number }> {
    const { lab, workers } = standInLab(tempDir());
    await metaTrain(lab, workers, randomObjective(1), randomObjective(2));
    const [{ id }] = await lab.listObjectives();
    return { file: await lab.exportObjective(id), lab, id };
  }

  it('imports into another lab with the same sha256, weights and lineage, once', async () => {
    const { file, lab, id } = await exported();
    const original = (await lab.listObjectives())[0];
    const sent = randomObjective(2);
    expect(file.sha256).toBe(objectiveSha256(sent.architecture, sent.tensors));
    const names = file.tensors.map((t) => t.name);
    expect(names).toEqual([...names].sort());
    expect(names).toContain('objective.lstm.w');

    const other = standInLab(tempDir());
    // Through JSON, as a file carries it.
    const imported = await other.lab.importObjective(JSON.parse(JSON.stringify(file)), 'pendulum.objective.json');
    expect(imported.sha256).toBe(original.sha256);
    expect(imported.name).toBe(original.name);
    expect(imported.paramCount).toBe(original.paramCount);
    expect(imported.lineage).toEqual({
      ...original.lineage,
      runId: null,
      experimentId: null,
      importedFrom: 'pendulum.objective.json',
    });
    const again = await other.lab.exportObjective(imported.id);
    expect(again.tensors).toEqual(file.tensors);
    const lstm = again.tensors.find((t) => t.name === 'objective.lstm.w')!;
    const decoded = Buffer.from(lstm.values, 'base64');
    expect(new Float32Array(decoded.buffer, decoded.byteOffset, decoded.length / 4)).toEqual(
      sent.tensors.find((t) => t.name === 'objective.lstm.w')!.values,
    );
    expect(await other.lab.importObjective(file, 'copy.json')).toEqual(imported);
    expect(await other.lab.listObjectives()).toHaveLength(1);
    expect(id).toBe(original.id);
    await other.lab.close();
    await lab.close();
  });

  it('is refused, naming what is wrong, when changed, damaged or of the wrong shape', async () => {
    const { file, lab } = await exported();
    const other = standInLab(tempDir());
    const tryImport = (changed: unknown) => refusal(other.lab.importObjective(changed, 'f.json'));

    const bytes = Buffer.from(file.tensors[0].values, 'base64');
    bytes[1] ^= 1;
    const tamperedWeights = {
      ...file,
      tensors: [{ ...file.tensors[0], values: bytes.toString('base64') }, ...file.tensors.slice(1)],
    };
    expect(await tryImport(tamperedWeights)).toMatch(
      new RegExp(
        `^f\\.json says its objective has sha256 ${file.sha256}, but its contents hash to [0-9a-f]{64}: ` +
          'the file was changed or damaged, and nothing was imported$',
      ),
    );
    const otherSha = file.sha256.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(await tryImport({ ...file, sha256: otherSha })).toContain(`says its objective has sha256 ${otherSha}`);
    expect(await tryImport({ ...file, architecture: { ...file.architecture, lstm: 4 } })).toBe(
      'f.json: tensor objective.lstm.w has shape [9, 12]; its architecture needs [10, 16]',
    );

    const [t0] = file.tensors;
    const lstmAt = file.tensors.findIndex((t) => t.name === 'objective.lstm.w');
    const replaced = (at: number, t: object) => file.tensors.map((x, i) => (i === at ? t : x));
    expect(await tryImport({ ...file, tensors: replaced(lstmAt, { ...file.tensors[lstmAt], shape: [9, 11] }) })).toBe(
      'f.json: tensor objective.lstm.w has shape [9, 11] (99 values) but its values hold 108',
    );
    expect(await tryImport({ ...file, tensors: file.tensors.filter((_, i) => i !== lstmAt) })).toBe(
      'f.json: its architecture needs tensor objective.lstm.w, which the file lacks',
    );
    expect(await tryImport({ ...file, tensors: [...file.tensors, { ...t0, name: 'objective.extra' }] })).toBe(
      'f.json: tensor objective.extra is not part of its architecture',
    );
    expect(await tryImport({ ...file, tensors: [...file.tensors, t0] })).toBe(
      `f.json: the objective's tensor ${t0.name} appears twice`,
    );
    expect(await tryImport({ ...file, format: 'something-else' })).toMatch(
      /^f\.json is not a metalab objective file: format: /,
    );
    expect(await tryImport({ ...file, tensors: replaced(0, { ...t0, values: 'not base64!' }) })).toBe(
      `f.json: the values of tensor ${t0.name} are not base64`,
    );
    const nan = Buffer.from(t0.values, 'base64');
    nan.writeFloatLE(Number.NaN, 0);
    expect(await tryImport({ ...file, tensors: replaced(0, { ...t0, values: nan.toString('base64') }) })).toBe(
      `f.json: tensor ${t0.name} holds a NaN or infinity`,
    );
    expect(await other.lab.listObjectives()).toEqual([]);
    await other.lab.close();
    await lab.close();
  });
});

describe('an experiment trained by a stored objective', () => {
  it("resolves 'latest' to the newest sha256, refuses unknown ones, sends the weights to the worker", async () => {
    const { lab, workers } = standInLab(tempDir());
    const none = await lab.validateSpec(testSpec('latest'));
    expect(none).toMatchObject({ ok: false, issues: [{ path: ['task', 'algorithm', 'objective'] }] });
    expect(none.ok || none.issues[0].message).toMatch(/has none yet: run a metagenrl experiment .* or import/);
    const missing = 'ab'.repeat(32);
    const refused = await lab.createExperiment(testSpec(missing)).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(SpecError);
    expect((refused as SpecError).message).toContain(`no learned objective with sha256 ${missing} is stored`);
    expect(await lab.validateSpec(testSpec('random'))).toEqual({ ok: true, runCount: 1 });

    await metaTrain(lab, workers, randomObjective(1));
    await metaTrain(lab, workers, randomObjective(2));
    const [newest, older] = await lab.listObjectives();
    expect(newest.sha256).toBe(objectiveSha256(randomObjective(2).architecture, randomObjective(2).tensors));
    const { experimentId, runIds } = await lab.createExperiment(testSpec('latest'));
    const experiment = await lab.getExperiment(experimentId);
    const run = await lab.getRun(runIds[0]);
    for (const spec of [experiment.spec, run.spec])
      expect(spec.task.family === 'rl' && spec.task.algorithm).toMatchObject({ objective: newest.sha256 });
    const start = workers[workers.length - 1].sent[0];
    expect(start.type === 'start' && start.objective && valuesOf(start.objective)).toEqual(
      valuesOf(randomObjective(2)),
    );
    await lab.createExperiment(testSpec(older.sha256));
    const byHash = workers[workers.length - 1].sent[0];
    expect(byHash.type === 'start' && byHash.objective && valuesOf(byHash.objective)).toEqual(
      valuesOf(randomObjective(1)),
    );
    await lab.createExperiment(testSpec('random'));
    const random = workers[workers.length - 1].sent[0];
    expect(random.type === 'start' && random.objective).toBeNull();
    await lab.close();
  });

  it('keeps the objective it refers to while the run that makes it goes on, and refuses to delete it', async () => {
    const { lab, workers } = standInLab(tempDir());
    const [runId] = (await lab.createExperiment(metaSpec)).runIds;
    const meta = workers[0];
    meta.say(objectiveMessage(randomObjective(1), 10));
    const { experimentId: usedBy } = await lab.createExperiment(testSpec('latest'));
    const [used] = await lab.listObjectives();

    meta.say(objectiveMessage(randomObjective(2), 20, true));
    for (const w of workers) w.finish();
    await lab.idle();
    const [latest, kept] = await lab.listObjectives();
    expect(kept).toMatchObject({ id: used.id, sha256: used.sha256, name: `meta-train · r${runId} (meta-step 10)` });
    expect(latest).toMatchObject({ name: `meta-train · r${runId}`, lineage: { runId, metaSteps: 20 } });

    expect(await refusal(lab.deleteObjective(used.id))).toBe(
      `objective ${used.id} (${kept.name}) is not deleted: the spec of e${usedBy} (meta-test) trains by it; ` +
        'delete that experiment first',
    );
    expect(await lab.listObjectives()).toHaveLength(2);
    await lab.deleteExperiment(usedBy);
    await lab.deleteObjective(used.id);
    expect((await lab.listObjectives()).map((o) => o.id)).toEqual([latest.id]);
    expect(await refusal(lab.deleteObjective(used.id))).toMatch(/^learned objective \d+ does not exist/);
    await lab.close();
  });
});

describe('with real worker processes', () => {
  const tiny = { randomSteps: 20, bufferSize: 1000, trajectoryLength: 4 };
  const small = { kind: 'mlp' as const, hidden: [8, 8] };
  const short = { steps: 60, batchSize: 8 };

  it('a metagenrl run stores its objective; a learned-objective run by the latest is planned and trains', async () => {
    const { lab, store } = testLab(tempDir(), 1);
    const { runIds } = await lab.createExperiment({
      ...metaSpec,
      task: {
        family: 'rl',
        env: { name: 'Pendulum-v1', maxSteps: 20 },
        moreEnvs: [{ name: 'point-mass', maxSteps: 20 }],
        algorithm: {
          kind: 'metagenrl',
          population: 2,
          warmupSteps: 10,
          objective: { units: 4, depth: 2, valueFeatures: 2, lstm: 4 },
          ...tiny,
        },
      },
      model: small,
      training: short,
      evaluation: { every: 30 },
    });
    await lab.idle();
    expect((await lab.getRun(runIds[0])).status).toBe('finished');
    const [stored] = await lab.listObjectives();
    expect(stored.lineage).toMatchObject({ runId: runIds[0], population: 2, finished: true });
    expect(stored.lineage.trainEnvs.map((e) => e.name)).toEqual(['Pendulum-v1', 'point-mass']);
    expect(stored.paramCount).toBeGreaterThan(0);
    const weights = store.objectives.weights(stored.id)!;
    expect(objectiveSha256(weights.architecture, weights.tensors)).toBe(stored.sha256);

    const metaTest: ExperimentSpecInput = {
      ...testSpec('latest'),
      task: {
        family: 'rl',
        env: { name: 'CartPoleContinuous', maxSteps: 20 },
        algorithm: { kind: 'learned-objective', objective: 'latest', ...tiny },
      },
      model: small,
      training: short,
      evaluation: { every: 30 },
    };
    const plan = await lab.planExperiment(metaTest);
    expect(plan.runs[0].secondsPerStep).toBeGreaterThan(0);
    const [testRun] = (await lab.createExperiment(metaTest)).runIds;
    await lab.idle();
    const run = await lab.getRun(testRun);
    expect(run.status, run.error ?? '').toBe('finished');
    expect(run.spec.task.family === 'rl' && run.spec.task.algorithm).toMatchObject({ objective: stored.sha256 });
    await lab.close();
    store.close();
  });
});

describe('metalab objectives', () => {
  it('lists, exports, imports, renames and deletes; a bad id or file is one sentence and exit 1', async () => {
    const source = tempDir();
    const { lab, workers } = standInLab(source);
    const runId = await metaTrain(lab, workers, randomObjective(3));
    await lab.close();
    const home = tempDir();
    const file = path.join(home, 'objective.json');

    const exported = metalab(source, 'objectives', 'export', '1', file);
    expect(exported.stdout).toMatch(
      new RegExp(`^wrote objective 1 "meta-train · r${runId}" \\(sha256 [0-9a-f]{12}\\)`),
    );
    expect(exported.code).toBe(0);
    expect(metalab(home, 'objectives').stdout).toMatch(/^no learned objectives yet/);
    const imported = metalab(home, 'objectives', 'import', file);
    expect(imported.stdout).toMatch(/^imported objective 1 "meta-train · r\d+"/);
    expect(metalab(home, 'objectives', 'import', file).stdout).toMatch(/^already stored as objective 1 /);
    const sha = JSON.parse(fs.readFileSync(file, 'utf8')).sha256 as string;
    const listed = metalab(home, 'objectives').stdout.split('\n');
    expect(listed[0]).toMatch(/^id\s+name\s+sha256\s+trained on\s+meta-steps\s+from run$/);
    expect(listed[1]).toMatch(
      new RegExp(
        `^1\\s+meta-train · r${runId}\\s+${sha.slice(0, 12)}\\s+Pendulum-v1, MountainCarContinuous-v0\\s+10\\s+` +
          'imported \\(objective\\.json\\)$',
      ),
    );
    expect(metalab(home, 'objectives', 'rename', '1', 'pendulum learner').stdout).toMatch(
      /^renamed objective 1 "pendulum learner"/,
    );
    expect(metalab(home, 'objectives').stdout).toMatch(/\n1\s+pendulum learner\s/);

    const bad = [
      [
        ['objectives', 'export', 'x', file],
        "error: 'x' is not an objective id: give the number `metalab objectives` lists",
      ],
      [['objectives', 'delete', '7'], 'error: learned objective 7 does not exist (`metalab objectives` lists them)'],
      [
        ['objectives', 'import', path.join(home, 'none.json')],
        `error: cannot read ${path.join(home, 'none.json')}: ENOENT`,
      ],
      [
        ['objectives', 'import', databaseFile(home)],
        `error: ${databaseFile(home)} is not a metalab objective file: it is not JSON`,
      ],
    ] as const;
    for (const [args, message] of bad) {
      const r = metalab(home, ...args);
      expect(r.stderr.startsWith(message), r.stderr).toBe(true);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.code).toBe(1);
    }
    const tampered = JSON.parse(fs.readFileSync(file, 'utf8')) as ObjectiveFile;
    tampered.sha256 = 'f'.repeat(64);
    fs.writeFileSync(file, JSON.stringify(tampered));
    const refused = metalab(home, 'objectives', 'import', file);
    expect(refused.stderr).toMatch(
      /^error: objective\.json says its objective has sha256 f{64}, but its contents hash/,
    );
    expect(refused.code).toBe(1);
    expect(metalab(home, 'objectives', 'frob').code).toBe(2);

    expect(metalab(home, 'objectives', 'delete', '1').stdout).toBe('deleted objective 1\n');
    expect(metalab(home, 'objectives').stdout).toMatch(/^no learned objectives yet/);
  });
});
