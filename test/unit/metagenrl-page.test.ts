// What the page draws of learned objectives (MetaGenRL), in its pure parts: learners' labels, the meta-test's
// join of evaluations with environment steps and its mean over seeds, the meta-training figures (agents' lines,
// collapse, the picture of what the objective learned), the spec a new meta-test starts from, and the designer's
// fields for lists of environments, objective inputs and a stored objective.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify, defaultsOf, specSchema, type JsonSchema } from '../../renderer/src/design/schema';
import { metaTestSpec } from '../../renderer/src/design/metaTestSpec';
import { objectiveFileName } from '../../renderer/src/objectives/files';
import type { EvalCurve } from '../../shared/api';
import { CHART_COLORS } from '../../shared/figures/colors';
import type { XY } from '../../shared/figures/data';
import { learnerLabel, objectiveOfRun } from '../../shared/figures/learner';
import {
  acrossSeeds,
  atEnvSteps,
  atEqualSteps,
  interpolate,
  learnersOf,
  metaTestOption,
  metaTestTable,
  type LearnerCurve,
  type MetaTestRun,
} from '../../shared/figures/metaTest';
import {
  agentLines,
  collapseLine,
  hasCollapsed,
  pictureSteps,
  picturePoints,
  recentMean,
} from '../../shared/figures/metagenrl';
import type { StoredObjective } from '../../shared/learnedObjective';
import { COLLAPSE_SATURATION, OBJECTIVE_PICTURE, OBJECTIVE_PICTURE_SPLIT } from '../../shared/objectives/rl';
import { expandExperiment, runSpec, type EnvSpec, type RunSpec } from '../../shared/spec';
import { appRoot } from '../../main/services/paths';

const SHA = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);
const objectives = [{ sha256: SHA, name: 'pendulum-4' }];

function rlSpec(algorithm: Record<string, unknown>, model: Record<string, unknown> = { kind: 'mlp' }): RunSpec {
  return runSpec.parse({
    task: { family: 'rl', env: { name: 'Pendulum-v1', physics: 0, maxSteps: null }, algorithm },
    model,
  });
}

describe('learners by name', () => {
  it('names a stored objective by its label, RL² by its recurrent policy, others by the algorithm or model', () => {
    expect(learnerLabel(rlSpec({ kind: 'learned-objective', objective: SHA }), objectives)).toBe(
      'objective "pendulum-4"',
    );
    expect(learnerLabel(rlSpec({ kind: 'learned-objective', objective: OTHER }), objectives)).toBe(
      'objective cdcdcdcd',
    );
    expect(learnerLabel(rlSpec({ kind: 'learned-objective', objective: 'random' }), objectives)).toBe(
      'random objective',
    );
    expect(learnerLabel(rlSpec({ kind: 'td3' }), objectives)).toBe('TD3');
    expect(learnerLabel(rlSpec({ kind: 'ppo' }, { kind: 'lstm', hidden: 16 }), objectives)).toBe('RL² (PPO)');
    const sequence = runSpec.parse({ task: { family: 'gpicl-classification' }, model: { kind: 'transformer' } });
    expect(learnerLabel(sequence, objectives)).toBe('transformer');
    expect(objectiveOfRun(rlSpec({ kind: 'learned-objective', objective: SHA }))).toBe(SHA);
    expect(objectiveOfRun(rlSpec({ kind: 'learned-objective', objective: 'latest' }))).toBeNull();
    expect(objectiveOfRun(rlSpec({ kind: 'td3' }))).toBeNull();
  });
});

describe('the meta-test', () => {
  it('places evaluations at the environment steps taken by then, from 0 at step 0', () => {
    // 4 environment steps per training step, recorded (downsampled) at steps 10, 20, 40.
    const envSteps: XY[] = [
      [10, 40],
      [20, 80],
      [40, 160],
    ];
    const returns: XY[] = [
      [5, -900],
      [20, -500],
      [30, null],
      [35, -300],
      [50, -100],
    ];
    expect(atEnvSteps(returns, envSteps)).toEqual([
      [20, -900],
      [80, -500],
      [140, -300],
    ]);
    expect(interpolate([[0, 1]], 0)).toBe(1);
    expect(interpolate([[1, 1]], 0)).toBeNull();
  });

  it('averages seeds where their curves overlap, with the standard error of the mean', () => {
    const points = acrossSeeds([
      [
        [0, 0],
        [100, 10],
      ],
      [
        [50, 20],
        [150, 40],
      ],
    ]);
    // At 50 the first seed reads 5 between its points: two values a and b have s.e. |a - b| / 2.
    expect(points).toEqual([
      { x: 0, mean: 0, se: null, seeds: 1 },
      { x: 50, mean: 12.5, se: 7.5, seeds: 2 },
      { x: 100, mean: 20, se: 10, seeds: 2 },
      { x: 150, mean: 40, se: null, seeds: 1 },
    ]);
    expect(acrossSeeds([[], [[1, null]]])).toEqual([]);
  });

  it('groups seeds into one learner, and tells learners with one label apart by experiment and sweep point', () => {
    const td3 = rlSpec({ kind: 'td3' });
    const slower = runSpec.parse({ ...td3, training: { ...td3.training, learningRate: 1e-4 } });
    const runs: MetaTestRun[] = [
      { id: 1, experimentId: 1, spec: { ...td3, seed: 1 }, sweepPoint: { seed: 1 } },
      { id: 2, experimentId: 1, spec: { ...td3, seed: 2 }, sweepPoint: { seed: 2 } },
      { id: 3, experimentId: 2, spec: { ...td3, seed: 1, name: 'again' }, sweepPoint: {} },
      { id: 4, experimentId: 3, spec: slower, sweepPoint: { 'training.learningRate': 1e-4, seed: 0 } },
      { id: 5, experimentId: 4, spec: rlSpec({ kind: 'learned-objective', objective: SHA }), sweepPoint: {} },
    ];
    expect(learnersOf(runs, objectives)).toEqual([
      { name: 'TD3 · e1, e2', runIds: [1, 2, 3] },
      { name: 'TD3 · e3 learningRate=0.0001', runIds: [4] },
      { name: 'objective "pendulum-4"', runIds: [5] },
    ]);
  });

  const learners: LearnerCurve[] = [
    {
      name: 'objective "pendulum-4"',
      colorIndex: 0,
      points: [
        { x: 0, mean: -1000, se: 100, seeds: 2 },
        { x: 100, mean: -500, se: 100, seeds: 2 },
      ],
    },
    { name: 'TD3', colorIndex: 1, points: [{ x: 50, mean: -200, se: null, seeds: 1 }] },
  ];

  it('draws a band of ± the standard error under a learner with several seeds', () => {
    const option = metaTestOption({ learners, xName: 'environment steps', yName: 'return' }, CHART_COLORS.light);
    const series = option.series as { id?: string; name: string; stack?: string; data: XY[] }[];
    expect(series.map((s) => s.name)).toEqual(['objective "pendulum-4"', 'TD3', ...Array(2).fill(learners[0].name)]);
    expect(series[2].data).toEqual([
      [0, -1100],
      [100, -600],
    ]);
    expect(series[3].data).toEqual([
      [0, 200],
      [100, 200],
    ]);
    expect(series[2].stack).toBe(series[3].stack);
    // Returns are often negative: the width must stack on the low line, not on the positive values apart.
    expect(series[3]).toMatchObject({ stackStrategy: 'all' });
    const formatter = (option.tooltip as { formatter: (p: unknown) => string }).formatter;
    const text = formatter([
      { seriesIndex: 0, dataIndex: 1, marker: '' },
      { seriesIndex: 3, dataIndex: 1, marker: '' },
    ]);
    expect(text).toBe('environment steps 100<br>objective "pendulum-4": <b>-500</b> ± 100 (s.e., 2 seeds)');
    expect(metaTestTable({ learners, xName: 'environment steps', yName: 'return' }).rows).toHaveLength(3);
  });

  it('compares learners at the budget every one of them reaches', () => {
    const { x, rows } = atEqualSteps(learners);
    expect(x).toBe(50);
    expect(rows[0]).toMatchObject({ mean: -750, se: 100, seeds: 2, lastMean: -500, lastX: 100 });
    expect(rows[1]).toMatchObject({ mean: -200, seeds: 1, lastX: 50 });
    expect(atEqualSteps([...learners, { name: 'empty', colorIndex: 2, points: [] }]).x).toBeNull();
  });
});

describe('meta-training figures', () => {
  const point = (name: string): EnvSpec => ({ name, physics: 0, maxSteps: null }) as EnvSpec;

  it('draws one line per agent, coloured by its environment and dashed apart within it', () => {
    const task = { env: point('Pendulum-v1'), moreEnvs: [point('point-mass')] };
    const returns: XY[][] = [0, 1, 2, 3, 4].map((i) => [[1, i]]);
    returns[3] = [];
    const lines = agentLines(returns, task, 0);
    expect(lines.map((l) => [l.name, l.colorIndex, l.lineType])).toEqual([
      ['agent 0 · Pendulum-v1', 0, 'solid'],
      ['agent 1 · point-mass', 1, 'solid'],
      ['agent 2 · Pendulum-v1', 0, 'dashed'],
      ['agent 4 · Pendulum-v1', 0, 'dotted'],
    ]);
  });

  it('calls the objective collapsed when saturation over the last evaluation interval is above the threshold', () => {
    const points: XY[] = [
      [100, 0.2],
      [900, 0.95],
      [950, null],
      [1000, 0.97],
    ];
    expect(recentMean(points, 200)).toBeCloseTo(0.96);
    expect(recentMean(points, 10)).toBe(0.97);
    expect(recentMean([], 10)).toBeNull();
    expect(hasCollapsed(recentMean(points, 200))).toBe(true);
    expect(hasCollapsed(recentMean(points, 2000))).toBe(false);
    expect(hasCollapsed(null)).toBe(false);
    expect(collapseLine([0, 500]).data).toEqual([
      [0, COLLAPSE_SATURATION],
      [500, COLLAPSE_SATURATION],
    ]);
  });

  it("pictures the objective's output against the advantage at an evaluation, coloured by the action gap", () => {
    const curve = (step: number, metric: string, values: (number | null)[]): EvalCurve => ({
      step,
      split: OBJECTIVE_PICTURE_SPLIT,
      metric,
      values,
    });
    const P = OBJECTIVE_PICTURE;
    const curves = [
      curve(20, P.output.name, [1, 2, null]),
      curve(20, P.advantage.name, [0.5, -0.5, 1]),
      curve(20, P.actionGap.name, [0.1, null, 0]),
      curve(20, P.time.name, [0, 0.5, 1]),
      curve(10, P.output.name, [3]),
      { step: 30, split: 'unseen', metric: P.output.name, values: [1] },
    ];
    expect(pictureSteps(curves)).toEqual([10, 20]);
    expect(picturePoints(curves, 20)).toEqual([
      { name: 'step 1 · t/T 0', x: 0.5, y: 1, color: 0.1 },
      { name: 'step 2 · t/T 0.50', x: -0.5, y: 2, color: null },
    ]);
    expect(picturePoints(curves, 10)).toEqual([]);
  });
});

describe('a new meta-test', () => {
  const td3 = JSON.parse(fs.readFileSync(path.join(appRoot(), 'presets', 'td3-pendulum.json'), 'utf8'));
  const stored = (trainEnvs: string[]): Pick<StoredObjective, 'sha256' | 'name' | 'lineage'> => ({
    sha256: SHA,
    name: 'pendulum-4',
    lineage: {
      runId: 3,
      experimentId: 2,
      experimentName: 'MetaGenRL',
      trainEnvs: trainEnvs.map(point),
      population: 4,
      metaSteps: 100,
      agentSteps: 400,
      finished: true,
      importedFrom: null,
    },
  });
  const point = (name: string) => ({ name, physics: 0, maxSteps: null }) as EnvSpec;

  it("trains TD3's agent by the objective on an environment it never trained on, with TD3's budget", () => {
    const spec = metaTestSpec(stored(['Pendulum-v1', 'point-mass']), td3);
    const result = expandExperiment(spec);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const run = result.runs[0].spec;
    expect(run.task).toMatchObject({
      env: { name: 'CartPoleContinuous' },
      algorithm: { kind: 'learned-objective', objective: SHA, discount: 0.98, randomSteps: 10000 },
    });
    expect(run.training.steps).toBe(td3.training.steps);
    expect(result.runs).toHaveLength(td3.sweep.axes[0].values.length);
    const everywhere = metaTestSpec(stored(['CartPoleContinuous', 'Pendulum-v1', 'MountainCarContinuous-v0']), td3);
    expect((everywhere.task as { env: EnvSpec }).env.name).toBe('point-mass');
  });

  it('names the export file after the objective', () => {
    expect(objectiveFileName('pendulum 4')).toBe('pendulum 4.objective.json');
    expect(objectiveFileName('a/b: c?')).toBe('a-b- c-.objective.json');
    expect(objectiveFileName('  ')).toBe('objective.objective.json');
  });
});

describe('the designer form of MetaGenRL specs', () => {
  const rlTask = (specSchema.properties!.task.oneOf as JsonSchema[]).find((b) => b.properties!.family.const === 'rl')!;
  const algorithm = (kind: string) =>
    (rlTask.properties!.algorithm.oneOf as JsonSchema[]).find((b) => b.properties!.kind.const === kind)!;

  it('edits more environments as a list of environments, each added with the first one defaults', () => {
    const field = classify(rlTask.properties!.moreEnvs);
    expect(field.kind).toBe('items');
    if (field.kind !== 'items') return;
    expect(field.max).toBe(7);
    expect(defaultsOf(field.item)).toEqual({ name: 'CartPole-v1', physics: 0, maxSteps: null });
  });

  it("picks a stored objective with its own widget, and ticks the objective's inputs from their names", () => {
    expect(classify(algorithm('learned-objective').properties!.objective)).toEqual({ kind: 'objective' });
    const inputs = classify(algorithm('metagenrl').properties!.objective.properties!.inputs);
    expect(inputs).toMatchObject({ kind: 'list', options: ['reward', 'time', 'value', 'nextValue'] });
  });
});
