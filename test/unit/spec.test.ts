import { describe, expect, it } from 'vitest';
import { labApiArgs } from '../../shared/api';
import { expandExperiment, formatPath, MAX_RUNS_PER_EXPERIMENT } from '../../shared/spec';
import { tinySpec } from '../helpers/specs';

function issues(input: unknown): string[] {
  const r = expandExperiment(input);
  if (r.ok) throw new Error('expected the spec to be rejected');
  return r.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
}

describe('experiment spec', () => {
  it('fills defaults and expands a spec without sweep to one run', () => {
    const r = expandExperiment({ task: { family: 'linear-regression' }, model: { kind: 'mlp' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.runs).toHaveLength(1);
    expect(r.runs[0].spec.training.steps).toBe(1000);
    expect(r.runs[0].spec.task).toMatchObject({ dim: 8, seqLen: 16, noiseVariance: 0.25, numTasks: 64 });
  });

  it('names the offending field', () => {
    expect(issues(tinySpec({ training: { steps: 0 } })).join('\n')).toMatch(/^training\.steps: .*>=\s*1/m);
    expect(issues(tinySpec({ task: { family: 'linear-regression', dim: 2.5 } })).join('\n')).toMatch(/^task\.dim: /m);
    expect(issues({ ...tinySpec(), model: { kind: 'nope' } }).join('\n')).toMatch(/^model\.kind: /m);
    expect(issues({ ...tinySpec(), lerningRate: 1 }).join('\n')).toMatch(/lerningRate/);
    expect(issues({ ...tinySpec(), task: { family: 'linear-regression', numTasks: 'many' } }).join('\n')).toMatch(
      /^task\.numTasks: /m,
    );
  });

  it('says what each field expects', () => {
    const task = (t: object) => ({ ...tinySpec(), task: { family: 'linear-regression', ...t } }) as never;
    expect(issues(task({ numTasks: 3.5 }))).toEqual([
      "task.numTasks: expected a whole number from 1 to 1073741824, or 'fresh'",
    ]);
    expect(issues(task({ dim: 2.5 }))).toEqual(['task.dim: expected a whole number from 1 to 256']);
    expect(issues({ ...tinySpec(), model: { kind: 'nope' } })).toEqual([
      'model.kind: expected one of mlp, transformer, lstm, vsml, symla',
    ]);
    expect(issues(tinySpec({ training: { schedule: 'linear' as never } }))).toEqual([
      'training.schedule: expected one of constant, cosine, one-cycle',
    ]);
    expect(issues(tinySpec({ training: { learningRate: 'fast' as never } }))).toEqual([
      'training.learningRate: expected a number above 0 and at most 10',
    ]);
    expect(issues({ ...tinySpec(), task: undefined })).toEqual([
      'task: missing; expected an object whose family is one of linear-regression, gpicl-classification, rl',
    ]);
    expect(issues({ ...tinySpec(), lerningRate: 1 })).toEqual([
      ": unknown field 'lerningRate'; expected name, seed, backend, task, model, training, evaluation, description, " +
        'tags, sweep, or executor',
    ]);
    expect(issues(tinySpec({ name: ' ' }))).toEqual(['name: must not be empty']);
  });

  it('refuses bidirectional controls and control characters in names, descriptions and tags', () => {
    expect(issues(tinySpec({ name: 'evil\u202Etxt.exe' }))).toEqual([
      'name: must not contain the bidirectional control U+202E',
    ]);
    expect(issues(tinySpec({ name: 'clear\u001b[2J' }))).toEqual([
      'name: must not contain the control character U+001B',
    ]);
    expect(issues(tinySpec({ tags: ['ok', 'a\u2066b'] }))).toEqual([
      'tags[1]: must not contain the bidirectional control U+2066',
    ]);
    expect(issues(tinySpec({ description: 'two\nlines \u200F' }))).toEqual([
      'description: must not contain the bidirectional control U+200F',
    ]);
    expect(expandExperiment(tinySpec({ name: 'نموذج 2', description: 'two\n\tlines' })).ok).toBe(true);

    const update = (patch: object) => {
      const r = labApiArgs.updateExperiment.safeParse([{ id: 1, ...patch }]);
      return r.success ? [] : r.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    };
    expect(update({ name: 'a\u202Db' })).toEqual(['[0].name: must not contain the bidirectional control U+202D']);
    expect(update({ tags: ['\u061Cx'] })).toEqual(['[0].tags[0]: must not contain the bidirectional control U+061C']);
    expect(update({ notes: 'line\nline\u200E' })).toEqual([
      '[0].notes: must not contain the bidirectional control U+200E',
    ]);
    expect(update({ name: 'fine', tags: ['x'], notes: 'a\nb' })).toEqual([]);
  });

  it('expands a grid sweep over log2 and list axes, in order', () => {
    const r = expandExperiment(
      tinySpec({
        sweep: {
          axes: [
            { path: 'task.numTasks', range: { from: 1, to: 16, scale: 'log2' } },
            { path: 'model.hidden', values: [8, 16] as never },
          ],
        },
      }),
    );
    // model.hidden is a list of widths, not a number: the axis's path is at fault
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatPath(r.issues[0].path)).toBe('sweep.axes[1].path');
    expect(r.issues[0].message).toBe('model.hidden is not a numeric field; only numeric fields can be swept');

    const ok = expandExperiment(
      tinySpec({
        sweep: {
          axes: [
            { path: 'task.numTasks', range: { from: 1, to: 16, scale: 'log2' } },
            { path: 'training.learningRate', values: [0.01, 0.001] },
          ],
        },
      }),
    );
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.runs.map((r) => r.point)).toEqual(
      [1, 2, 4, 8, 16].flatMap((n) => [0.01, 0.001].map((lr) => ({ 'task.numTasks': n, 'training.learningRate': lr }))),
    );
    expect(ok.runs[3].spec.task).toMatchObject({ numTasks: 2 });
    expect(ok.runs[3].spec.training.learningRate).toBe(0.001);
  });

  it('accepts fresh as a number of tasks in a sweep and rejects unknown axis paths', () => {
    const r = expandExperiment(tinySpec({ sweep: { axes: [{ path: 'task.numTasks', values: [4, 'fresh'] }] } }));
    expect(r.ok && r.runs.map((x) => x.spec.task.numTasks)).toEqual([4, 'fresh']);
    expect(issues(tinySpec({ sweep: { axes: [{ path: 'task.nope', values: [1] }] } }))).toEqual([
      'sweep.axes[0].path: task.nope is not a field of this spec',
    ]);
    expect(issues(tinySpec({ sweep: { axes: [{ path: 'bad path', values: [1] }] } })).join()).toMatch(
      /sweep\.axes\[0\]\.path/,
    );
    expect(issues(tinySpec({ sweep: { axes: [{ path: 'task.dim' }] } })).join()).toMatch(/either values or range/);
  });

  it('repeats an experiment over seeds, and refuses a top-level field that is not a number', () => {
    const r = expandExperiment(tinySpec({ sweep: { axes: [{ path: 'seed', values: [1, 2, 3] }] } }));
    expect(r.ok && r.runs.map((x) => [x.point, x.spec.seed])).toEqual([
      [{ seed: 1 }, 1],
      [{ seed: 2 }, 2],
      [{ seed: 3 }, 3],
    ]);
    expect(issues(tinySpec({ sweep: { axes: [{ path: 'name', values: [1] }] } })).join()).toMatch(/name/);
  });

  it('refuses sweeps over fields that are not numbers, naming the axis', () => {
    const gpicl = { family: 'gpicl-classification', classes: 3, inputDim: 8, seqLen: 6, numTasks: 4 } as const;
    const sweep = (path: string, values: (number | string)[], task: object = gpicl) =>
      issues(
        tinySpec({
          task: task as never,
          sweep: {
            axes: [
              { path: 'seed', values: [1, 2] },
              { path, values },
            ],
          },
        }),
      );
    expect(sweep('task.dataset', ['mnist', 'random'])).toEqual([
      'sweep.axes[1].path: task.dataset is not a numeric field; only numeric fields can be swept',
    ]);
    // Switching the model kind left the mlp's fields to be blamed (model.hidden) instead of the axis.
    expect(sweep('model.kind', ['mlp', 'lstm'])).toEqual([
      'sweep.axes[1].path: model.kind is not a numeric field; only numeric fields can be swept',
    ]);
    expect(sweep('task.evalDatasets', [1])).toEqual([
      'sweep.axes[1].path: task.evalDatasets is not a numeric field; only numeric fields can be swept',
    ]);
    expect(sweep('backend', ['wasm', 'cpu'])).toEqual([
      'sweep.axes[1].path: backend is not a numeric field; only numeric fields can be swept',
    ]);
    expect(sweep('seed', [3])).toEqual(['sweep.axes[1].path: seed is swept by sweep.axes[0] already']);
    // numTasks is a number or 'fresh'; a field of the other family is no field of this spec
    const fresh = expandExperiment(
      tinySpec({ task: gpicl, sweep: { axes: [{ path: 'task.numTasks', values: [8, 'fresh'] }] } }),
    );
    expect(fresh.ok && fresh.runs.map((r) => r.spec.task.numTasks)).toEqual([8, 'fresh']);
    expect(sweep('task.noiseVariance', [0.1, 1])).toEqual([
      'sweep.axes[1].path: task.noiseVariance is not a field of this spec',
    ]);
    expect(issues(tinySpec({ sweep: { axes: [{ path: 'task.dim', values: ['fresh'] }] } }))).toEqual([
      'sweep.axes[0].values: value "fresh" for task.dim: expected a whole number from 1 to 256',
    ]);
  });

  it('refuses duplicate values in an axis, which would make identical runs', () => {
    expect(issues(tinySpec({ sweep: { axes: [{ path: 'seed', values: [0, 0] }] } }))).toEqual([
      'sweep.axes[0].values: 0 appears twice',
    ]);
    expect(
      issues(tinySpec({ sweep: { axes: [{ path: 'task.numTasks', values: ['fresh', 4, 'fresh', 'fresh'] }] } })),
    ).toEqual(['sweep.axes[0].values: "fresh" appears 3 times']);
    const flat = { path: 'training.learningRate', range: { from: 0.1, to: 0.1, scale: 'linear', steps: 2 } } as const;
    expect(issues(tinySpec({ sweep: { axes: [flat] } }))).toEqual(['sweep.axes[0].range: 0.1 appears twice']);
  });

  it('names the sweep point where a field no axis varies fails', () => {
    const transformer = { kind: 'transformer', dModel: 16, heads: 8 } as const;
    expect(
      issues(tinySpec({ model: transformer, sweep: { axes: [{ path: 'model.dModel', values: [16, 12] }] } })),
    ).toEqual(['model.heads: dModel must be a multiple of heads (in the sweep at model.dModel=12)']);
  });

  it('refuses sweeps with too many runs', () => {
    const values = Array.from({ length: 64 }, (_, i) => i + 1);
    const msg = issues(
      tinySpec({
        sweep: {
          axes: [
            { path: 'task.dim', values },
            { path: 'task.seqLen', values: values.map((v) => v + 1) },
          ],
        },
      }),
    ).join();
    expect(msg).toMatch(new RegExp(`4096 runs; at most ${MAX_RUNS_PER_EXPERIMENT}`));
  });
});
