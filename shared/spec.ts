// The experiment spec: everything a run needs, seed included, so it can be shared and rerun.
// One schema validates specs from the page, the CLI and the store; sweeps expand into single-run specs.
import { z } from 'zod';

const count = (min: number, max: number) => z.int().min(min).max(max);
/** Display metadata the designer shows beside a field; it never changes what validates. */
const unit = (u: string) => ({ unit: u });

export const linearRegressionTask = z
  .object({
    family: z.literal('linear-regression'),
    dim: count(1, 256)
      .default(8)
      .describe('Input dimension D')
      .meta({ title: 'Input dimension', ...unit('dims') }),
    seqLen: count(2, 1024)
      .default(16)
      .describe('Examples per sequence K')
      .meta({ title: 'Sequence length', ...unit('examples') }),
    noiseVariance: z.number().min(0).max(100).default(0.25).describe('Variance of the label noise'),
    numTasks: z
      .union([count(1, 2 ** 30), z.literal('fresh')])
      .default(64)
      .describe("Size of the pool of weight vectors M, or 'fresh' for a new task per sequence")
      .meta({ title: 'Number of tasks', ...unit('tasks') }),
  })
  .strict()
  .describe('Linear regression in context (Raventós et al. 2023): y = w·x + noise, w from a pool of M tasks');

/** A dataset: `mnist` (bundled), `random`, or the name of one imported with `metalab import`. */
export const datasetName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a dataset name such as mnist, random or fashion-mnist')
  .meta({ registry: 'datasets' });

export const gpiclClassificationTask = z
  .object({
    family: z.literal('gpicl-classification'),
    dataset: datasetName.default('mnist').describe('Base dataset tasks are made from'),
    classes: count(2, 10).default(10).describe('Classes used: labels 0..classes-1'),
    inputDim: count(1, 1024)
      .default(16)
      .describe('Input dimension d after preprocessing')
      .meta({ title: 'Input dimension', ...unit('dims') }),
    preprocess: z.enum(['pca', 'resize', 'none']).default('pca').describe('How images become d-dimensional inputs'),
    normalization: z
      .enum(['global', 'per-dimension'])
      .default('global')
      .describe('z-normalisation per dataset: one global scale, or each dimension on its own'),
    seqLen: count(2, 1024)
      .default(40)
      .describe('Examples per sequence L')
      .meta({ title: 'Sequence length', ...unit('examples') }),
    numTasks: z
      .union([count(1, 2 ** 30), z.literal('fresh')])
      .default(4096)
      .describe(
        "Size of the pool of tasks (projection A and label permutation), or 'fresh' for a new task per sequence",
      )
      .meta({ title: 'Number of tasks', ...unit('tasks') }),
    biasedFraction: z.number().min(0).max(1).default(0).describe('Fraction of each batch drawn from one fixed task'),
    evalDatasets: z.array(datasetName).max(8).default([]).describe('Other datasets to evaluate unseen tasks on'),
  })
  .strict()
  .describe(
    'GPICL (Kirsch et al. 2022): a base dataset under a random linear projection and label permutation per task',
  );

export const taskSpec = z.discriminatedUnion('family', [linearRegressionTask, gpiclClassificationTask]);

export const mlpModel = z
  .object({
    kind: z.literal('mlp'),
    hidden: z.array(count(1, 4096)).max(8).default([64]).describe('Hidden layer widths').meta(unit('units')),
  })
  .strict()
  .describe('Per-position MLP without context: it can only memorise');

export const transformerModel = z
  .object({
    kind: z.literal('transformer'),
    dModel: count(4, 2048)
      .default(64)
      .describe('Width of the residual stream')
      .meta({ title: 'Width (dModel)', ...unit('units') }),
    layers: count(1, 48).default(2).describe('Transformer blocks'),
    heads: count(1, 64).default(4).describe('Attention heads per block; must divide dModel'),
    mlpRatio: count(1, 16)
      .default(4)
      .describe('MLP width as a multiple of dModel')
      .meta({ title: 'MLP ratio', ...unit('× dModel') }),
  })
  .strict()
  .describe('Decoder-only causal Transformer (pre-LN, learned positions)')
  .refine((m) => m.dModel % m.heads === 0, { message: 'dModel must be a multiple of heads', path: ['heads'] });

export const lstmModel = z
  .object({
    kind: z.literal('lstm'),
    hidden: count(1, 4096).default(128).describe('Hidden (and cell) size: the state size').meta(unit('units')),
    layers: count(1, 8).default(1).describe('Stacked LSTM layers'),
  })
  .strict()
  .describe('LSTM: its hidden and cell state are the memory for in-context learning');

export const vsmlModel = z
  .object({
    kind: z.literal('vsml'),
    stateSize: count(1, 128)
      .default(16)
      .describe('State size of each tiny LSTM (one per connection)')
      .meta(unit('units')),
    messageSize: count(2, 32).default(8).describe('Channels of forward and backward messages').meta(unit('channels')),
    hidden: z
      .array(count(1, 256))
      .max(4)
      .default([])
      .describe('Hidden layer sizes of the VSML network ([] = one layer)')
      .meta(unit('units')),
    ticks: count(1, 8).default(2).describe('LSTM ticks per example').meta(unit('ticks')),
  })
  .strict()
  .describe('VSML (Kirsch & Schmidhuber 2021): every weight a tiny LSTM sharing one set of parameters');

export const modelSpec = z.discriminatedUnion('kind', [mlpModel, transformerModel, lstmModel, vsmlModel]);

export const trainingSpec = z
  .object({
    steps: count(1, 10_000_000).default(1000).describe('Meta-training steps').meta(unit('steps')),
    batchSize: count(1, 65_536).default(64).describe('Sequences per meta-batch').meta(unit('sequences')),
    learningRate: z.number().gt(0).max(10).default(1e-3).describe('Adam learning rate (after warm-up)'),
    adamEpsilon: z.number().gt(0).max(1).default(1e-8).describe("Adam's epsilon; smaller can shorten loss plateaus"),
    warmupSteps: count(0, 10_000_000).default(0).describe('Linear learning-rate warm-up').meta(unit('steps')),
    schedule: z
      .enum(['constant', 'cosine', 'one-cycle'])
      .default('constant')
      .describe('Learning-rate schedule after warm-up'),
    gradClip: z
      .number()
      .gt(0)
      .max(1e6)
      .nullable()
      .default(1)
      .describe('Clip gradients to this global norm (null: no clipping)'),
    checkpointEvery: count(1, 10_000_000).default(500).describe('Steps between checkpoints').meta(unit('steps')),
  })
  .strict();

export const evaluationSpec = z
  .object({
    every: count(1, 10_000_000).default(250).describe('Steps between evaluations').meta(unit('steps')),
    sequences: count(1, 65_536).default(256).describe('Held-out sequences per split').meta(unit('sequences')),
    learnerBaseline: z
      .object({
        optimizer: z.enum(['sgd', 'adam']).default('adam').describe("The learner's optimiser"),
        learningRate: z.number().gt(0).max(10).default(0.01).describe("The learner's learning rate"),
        stepsPerExample: count(1, 1000)
          .default(10)
          .describe('Gradient steps on the examples seen so far, after each example')
          .meta(unit('steps')),
        hidden: count(0, 1024).default(0).describe('Hidden units (0: a linear classifier)').meta(unit('units')),
      })
      .strict()
      .nullable()
      .default(null)
      .describe('A conventional learner trained from scratch on each sequence, for comparison (classification)'),
  })
  .strict();

export const backendName = z.enum(['auto', 'tfjs-node-gpu', 'tfjs-node', 'webgpu', 'wasm', 'cpu']);

export const runSpec = z
  .object({
    name: z.string().trim().min(1).max(200).default('experiment').describe('Shown in the runs table'),
    seed: count(0, 2 ** 31 - 1)
      .default(0)
      .describe('Every random draw of the run follows from it'),
    backend: backendName.default('auto').describe("Compute backend; 'auto' takes the fastest that starts"),
    task: taskSpec,
    model: modelSpec,
    training: trainingSpec.default(trainingSpec.parse({})),
    evaluation: evaluationSpec.default(evaluationSpec.parse({})),
  })
  .strict();

const sweepAxis = z
  .object({
    path: z
      .string()
      .regex(/^[a-zA-Z]+(\.[a-zA-Z]+)*$/, 'must be a field path such as task.numTasks or seed')
      .describe('The numeric field to vary (seed: repeat the experiment over seeds)'),
    values: z
      .array(z.union([z.number(), z.string()]))
      .min(1)
      .max(4096)
      .optional(),
    range: z
      .object({
        from: z.number(),
        to: z.number(),
        scale: z.enum(['log2', 'linear']).default('log2'),
        steps: count(2, 4096).optional().describe('Points for a linear range'),
      })
      .strict()
      .refine((r) => r.scale !== 'log2' || r.from > 0, { message: 'a log2 range must start above 0', path: ['from'] })
      .optional(),
  })
  .strict()
  .refine((a) => (a.values === undefined) !== (a.range === undefined), 'give either values or range');

export const experimentSpec = runSpec
  .extend({
    description: z.string().max(4000).optional().describe('What the experiment asks and what to look for'),
    tags: z
      .array(z.string().trim().min(1).max(64))
      .max(32)
      .optional()
      .describe("Labels for finding it again; they become the experiment's tags"),
    sweep: z
      .object({ axes: z.array(sweepAxis).min(1).max(4) })
      .strict()
      .optional(),
  })
  .strict();

export type RunSpec = z.output<typeof runSpec>;
export type TaskSpec = RunSpec['task'];
export type ExperimentSpec = z.output<typeof experimentSpec>;
export type ExperimentSpecInput = z.input<typeof experimentSpec>;
export type SweepAxis = z.output<typeof sweepAxis>;
export type SweepPoint = Record<string, number | string>;

export const MAX_RUNS_PER_EXPERIMENT = 1024;

/** A validation problem with the path of the offending field, e.g. `training.steps`. */
export interface SpecIssue {
  path: (string | number)[];
  message: string;
}

export function formatPath(path: readonly (string | number | symbol)[]): string {
  return path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
}

/** How many values an axis takes, counted without listing them: a range can be too large to list. */
export function axisCount(axis: SweepAxis): number {
  if (axis.values) return axis.values.length;
  const { from, to, scale, steps } = axis.range!;
  const n =
    scale === 'log2'
      ? Math.floor(Math.log2(to)) - Math.ceil(Math.log2(from)) + 1
      : (steps ?? Math.floor(to - from) + 1);
  return Number.isFinite(n) ? Math.max(0, n) : 0;
}

/** The values an axis takes, in order (a log2 range: the powers of two from `from` to `to`). */
export function axisValues(axis: SweepAxis): (number | string)[] {
  if (axis.values) return axis.values;
  const { from, to, scale, steps } = axis.range!;
  if (scale === 'log2') {
    const out: number[] = [];
    for (let e = Math.ceil(Math.log2(from)); 2 ** e <= to; e++) out.push(2 ** e);
    return out;
  }
  const n = steps ?? Math.floor(to - from) + 1;
  return Array.from({ length: n }, (_, i) => (n === 1 ? from : from + ((to - from) * i) / (n - 1)));
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

export type ExpandResult =
  | { ok: true; spec: ExperimentSpec; runs: { point: SweepPoint; spec: RunSpec }[] }
  | { ok: false; issues: SpecIssue[] };

/**
 * Validates an experiment spec and expands its sweep (grid over all axes) into single-run specs.
 * Every expanded spec is validated again, so a sweep value that is out of range is named by its axis.
 */
export function expandExperiment(input: unknown): ExpandResult {
  const parsed = experimentSpec.safeParse(input);
  if (!parsed.success)
    return {
      ok: false,
      issues: parsed.error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message })),
    };
  const spec = parsed.data;
  const { sweep, description, tags, ...base } = spec; // description and tags describe the experiment, not a run
  const axes = sweep?.axes ?? [];
  const counts = axes.map(axisCount);
  const empty = counts.indexOf(0);
  if (empty >= 0)
    return { ok: false, issues: [{ path: ['sweep', 'axes', empty, 'range'], message: 'the range holds no values' }] };
  const total = counts.reduce((n, c) => n * c, 1);
  if (total > MAX_RUNS_PER_EXPERIMENT)
    return {
      ok: false,
      issues: [
        {
          path: ['sweep'],
          message: `the sweep expands to ${total} runs; at most ${MAX_RUNS_PER_EXPERIMENT} are allowed`,
        },
      ],
    };
  const valueLists = axes.map(axisValues);

  const runs: { point: SweepPoint; spec: RunSpec }[] = [];
  for (let index = 0; index < total; index++) {
    const point: SweepPoint = {};
    const raw = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
    let rest = index;
    for (let a = axes.length - 1; a >= 0; a--) {
      const v = valueLists[a][rest % valueLists[a].length];
      rest = Math.floor(rest / valueLists[a].length);
      point[axes[a].path] = v;
      setPath(raw, axes[a].path, v);
    }
    const one = runSpec.safeParse(raw);
    if (!one.success) {
      return {
        ok: false,
        issues: one.error.issues.map((i) => {
          const field = formatPath(i.path);
          const axis = axes.findIndex((ax) => ax.path === field);
          return axis >= 0
            ? {
                path: ['sweep', 'axes', axis, 'values'],
                message: `value ${JSON.stringify(point[field])} for ${field}: ${i.message}`,
              }
            : { path: i.path as (string | number)[], message: i.message };
        }),
      };
    }
    runs.push({ point, spec: one.data });
  }
  return { ok: true, spec, runs };
}
