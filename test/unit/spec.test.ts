import { describe, expect, it } from 'vitest';
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
    // model.hidden must be an array: a number there is a sweep value error named by its axis
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(formatPath(r.issues[0].path)).toBe('sweep.axes[1].values');
    expect(r.issues[0].message).toMatch(/model\.hidden/);

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
    expect(issues(tinySpec({ sweep: { axes: [{ path: 'task.nope', values: [1] }] } })).join()).toMatch(/task/);
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
