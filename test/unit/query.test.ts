// The runs query language (shared/query.ts): parsing, precedence, each operator, numbers and text, missing
// fields, errors with positions, and the fields of real run records.
import { describe, expect, it } from 'vitest';
import type { Run } from '../../shared/api';
import {
  compileRunQuery,
  evaluate,
  fieldsOf,
  looksLikeQuery,
  matchesRecord,
  parseQuery,
  resolveFields,
  runRecord,
  type FieldValue,
  type Query,
} from '../../shared/query';
import type { RunSummary } from '../../shared/results';
import { expandExperiment } from '../../shared/spec';
import { tinySpec } from '../helpers/specs';

function parse(text: string): Query {
  const r = parseQuery(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.query;
}

/** The query as nested lists, for comparing shapes: ['or', ['=', 'a', '1'], ...]. */
function shape(q: Query): unknown {
  if (q.kind === 'compare') return [q.op, q.field, q.value.number ?? q.value.text];
  if (q.kind === 'not') return ['not', shape(q.operand)];
  return [q.kind, shape(q.left), shape(q.right)];
}

/** Whether `text` matches a record given as a plain object. */
function matches(text: string, record: Record<string, FieldValue>): boolean {
  return evaluate(parse(text), (f) => record[f]);
}

function errorOf(text: string) {
  const r = parseQuery(text);
  if (r.ok) throw new Error(`'${text}' parsed`);
  return r.error;
}

describe('parsing', () => {
  it('binds not tighter than and, and tighter than or; parentheses group', () => {
    expect(shape(parse('a = 1 or b = 2 and c = 3'))).toEqual([
      'or',
      ['=', 'a', 1],
      ['and', ['=', 'b', 2], ['=', 'c', 3]],
    ]);
    expect(shape(parse('a = 1 and b = 2 or c = 3'))).toEqual([
      'or',
      ['and', ['=', 'a', 1], ['=', 'b', 2]],
      ['=', 'c', 3],
    ]);
    expect(shape(parse('NOT a = 1 AND b = 2'))).toEqual(['and', ['not', ['=', 'a', 1]], ['=', 'b', 2]]);
    expect(shape(parse('(a = 1 or b = 2) and not (c ~ x)'))).toEqual([
      'and',
      ['or', ['=', 'a', 1], ['=', 'b', 2]],
      ['not', ['~', 'c', 'x']],
    ]);
    expect(shape(parse('a=1 and b=2 and c=3'))).toEqual(['and', ['and', ['=', 'a', 1], ['=', 'b', 2]], ['=', 'c', 3]]);
  });

  it('reads every operator, with or without spaces', () => {
    for (const op of ['=', '!=', '<', '<=', '>', '>=', '~']) {
      expect(shape(parse(`x${op}5`))).toEqual([op, 'x', 5]);
      expect(shape(parse(`x ${op} 5`))).toEqual([op, 'x', 5]);
    }
  });

  it('reads numbers as numbers, words and quoted text as text', () => {
    const value = (text: string) => (parse(text) as Extract<Query, { kind: 'compare' }>).value;
    expect(value('x = 256')).toEqual({ text: '256', number: 256 });
    expect(value('x = -1.5e-3')).toEqual({ text: '-1.5e-3', number: -0.0015 });
    expect(value('x = "256"')).toEqual({ text: '256', number: null });
    expect(value("x = 'task ID'")).toEqual({ text: 'task ID', number: null });
    expect(value('x = gpicl-classification')).toEqual({ text: 'gpicl-classification', number: null });
    expect(value('x = 2026-12-03')).toEqual({ text: '2026-12-03', number: null });
    expect((parse('eval/test:bandit-3/last_return > 0.5') as { field: string }).field).toBe(
      'eval/test:bandit-3/last_return',
    );
  });

  it('says where a malformed query goes wrong and what it expected there', () => {
    expect(errorOf('task.numTasks >=')).toEqual({
      position: 16,
      message: `column 17: expected a value after '>=' (a number, a word or "text"), found the end of the query`,
    });
    expect(errorOf('a = 1 b = 2')).toEqual({
      position: 6,
      message: "column 7: expected 'and', 'or' or the end of the query, found 'b'",
    });
    expect(errorOf('(a = 1 or b = 2')).toEqual({
      position: 15,
      message: "column 16: expected ')' to close the '(' at column 1, found the end of the query",
    });
    expect(errorOf('x >= and y = 1')).toMatchObject({ position: 5, message: expect.stringContaining("found 'and'") });
    expect(shape(parse('x = "and"'))).toEqual(['=', 'x', 'and']);
    expect(errorOf('a = 1 and')).toMatchObject({
      position: 9,
      message: expect.stringContaining("a field name, 'not'"),
    });
    expect(errorOf('= 3')).toMatchObject({ position: 0, message: expect.stringContaining("found '='") });
    expect(errorOf('model.kind lstm')).toMatchObject({
      position: 11,
      message: "column 12: expected an operator (= != < <= > >= ~) after 'model.kind', found 'lstm'",
    });
    expect(errorOf('a ! 3')).toMatchObject({ position: 2, message: expect.stringContaining("found '!'") });
    expect(errorOf('name = "tiny')).toMatchObject({ position: 7, message: expect.stringContaining('closing "') });
    expect(errorOf('a = 1)')).toMatchObject({ position: 5, message: expect.stringContaining("found ')'") });
    expect(errorOf('')).toMatchObject({ position: 0 });
  });

  it('never throws, whatever the text', () => {
    const pieces = ['a', '=', '!', '(', ')', 'and', 'or', 'not', '"', "'", '1', '<', '~', ' '];
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: 1 + (i % 9) }, (_, k) => pieces[(i * 7 + k * 13 + (i >> 3)) % pieces.length]);
      expect(() => parseQuery(text.join(''))).not.toThrow();
    }
  });

  it('treats text with an operator as a query, other text as a plain search', () => {
    expect(looksLikeQuery('status = failed')).toBe(true);
    expect(looksLikeQuery('numTasks>=4')).toBe(true);
    expect(looksLikeQuery('name ~ tiny')).toBe(true);
    expect(looksLikeQuery('r12 lstm')).toBe(false);
    expect(looksLikeQuery('not learning')).toBe(false);
  });
});

describe('evaluation', () => {
  const run = { n: 256, lr: 0.01, kind: 'LSTM', tasks: 'fresh', tags: ['gpicl', 'paper'], none: null };

  it('compares numbers as numbers and text ignoring case', () => {
    expect(
      ['n = 256', 'n != 255', 'n < 257', 'n <= 256', 'n > 255', 'n >= 256', 'n ~ 25'].map((q) => matches(q, run)),
    ).toEqual([true, true, true, true, true, true, true]);
    expect(
      ['n = 255', 'n != 256', 'n < 256', 'n <= 255', 'n > 256', 'n >= 257', 'n ~ 7'].map((q) => matches(q, run)),
    ).toEqual([false, false, false, false, false, false, false]);
    // 256 > 1000 as text; as numbers it is not.
    expect(matches('n > 1000', run)).toBe(false);
    expect(matches('lr = 1e-2', run)).toBe(true);
    expect(matches('kind = lstm', run)).toBe(true);
    expect(matches('kind ~ "st"', run)).toBe(true);
    expect(matches('kind > lsta', run)).toBe(true);
    expect(matches('kind < lsta', run)).toBe(false);
  });

  it('never orders a number against text, but equal text is equal', () => {
    expect(matches('tasks >= 256', run)).toBe(false);
    expect(matches('tasks < 256', run)).toBe(false);
    expect(matches('n < abc', run)).toBe(false);
    expect(matches('n = "256"', run)).toBe(true);
    expect(matches('tasks = fresh', run)).toBe(true);
  });

  it('matches a field with several values if any value does; != if none equals', () => {
    expect(matches('tags = paper', run)).toBe(true);
    expect(matches('tags = PAPER and tags = gpicl', run)).toBe(true);
    expect(matches('tags != paper', run)).toBe(false);
    expect(matches('tags != draft', run)).toBe(true);
    expect(matches('tags ~ pap', run)).toBe(true);
  });

  it('lets a missing field match only != (the negation of =)', () => {
    for (const field of ['none', 'absent']) {
      expect(['=', '<', '<=', '>', '>=', '~'].map((op) => matches(`${field} ${op} 1`, run))).toEqual(
        Array(6).fill(false),
      );
      expect(matches(`${field} != 1`, run)).toBe(true);
      expect(matches(`not ${field} = 1`, run)).toBe(true);
    }
  });

  it('combines with and, or, not as parsed', () => {
    expect(matches('kind = gru or n >= 256 and tags = paper', run)).toBe(true);
    expect(matches('(kind = gru or n >= 256) and tags = draft', run)).toBe(false);
    expect(matches('not (kind = gru or n < 10)', run)).toBe(true);
    expect(matches('not not kind = lstm', run)).toBe(true);
  });
});

describe('fields', () => {
  const known = ['model.kind', 'task.algorithm.kind', 'task.numTasks', 'eval/unseen/last_acc', 'status'];

  it('names a field ignoring case, or by the one field it ends', () => {
    const resolved = (text: string) => {
      const r = resolveFields(parse(text), known);
      return r.ok ? (r.query as { field: string }).field : r.error.message;
    };
    expect(resolved('TASK.NUMTASKS = 1')).toBe('task.numTasks');
    expect(resolved('numtasks = 1')).toBe('task.numTasks');
    expect(resolved('unseen/last_acc > 0.5')).toBe('eval/unseen/last_acc');
    expect(resolved('a = 1 or kind = lstm')).toBe("column 1: unknown field 'a' (no run has it)");
    expect(resolved('status = x or kind = lstm')).toBe(
      "column 15: ambiguous field 'kind': model.kind, task.algorithm.kind",
    );
    // Only whole parts: 'Tasks' is not a field of its own.
    expect(resolved('tasks = 1')).toBe("column 1: unknown field 'tasks' (no run has it)");
  });
});

const SLURM_STATES = ['RUNNING on node1', 'PENDING (JobArrayTaskLimit)'];

/** Real run specs (numTasks 4, 256, fresh, each with an MLP and an LSTM), with summaries and times as given. */
function makeRuns(): Run[] {
  const sweep = (model: { kind: 'mlp' } | { kind: 'lstm'; hidden: number }) => {
    const axes = [{ path: 'task.numTasks', values: [4, 256, 'fresh'] }];
    const expanded = expandExperiment(tinySpec({ model, sweep: { axes } }));
    if (!expanded.ok) throw new Error(JSON.stringify(expanded.issues));
    return expanded.runs;
  };
  const lstm = sweep({ kind: 'lstm', hidden: 8 });
  const specs = sweep({ kind: 'mlp' }).flatMap((mlp, i) => [mlp, lstm[i]]);
  const t0 = new Date(2026, 11, 3, 8, 0).getTime();
  const summary = (phase: RunSummary['phase'], loss: number): RunSummary => ({
    steps: 60,
    backend: 'wasm',
    phase,
    plateau: null,
    figures: { final_loss: loss, param_count: 100 },
  });
  return specs.map(({ point, spec }, i) => ({
    id: i + 1,
    experimentId: 1,
    experimentName: 'tiny',
    sweepIndex: i,
    sweepPoint: point,
    spec,
    status: i === 5 ? 'failed' : 'finished',
    backend: 'wasm',
    seed: spec.seed,
    step: 60,
    totalSteps: 60,
    examplesPerSec: null,
    createdAt: t0,
    startedAt: t0 + i * 3_600_000,
    finishedAt: t0 + i * 3_600_000 + (i + 1) * 60_000,
    error: null,
    checkpointStep: null,
    // Runs 3 and 4 train on a SLURM cluster: one running, one waiting for its turn.
    executor: i === 2 || i === 3 ? 'slurm' : 'local',
    slurm: i === 2 || i === 3 ? { job: `41_${i - 2}`, state: SLURM_STATES[i - 2], history: [] } : null,
    summary: i === 5 ? null : summary(i % 2 ? 'general learning-to-learn' : 'memorization', i / 10),
  }));
}

describe('queries over runs', () => {
  const runs = makeRuns();
  const context = (run: Run) => ({ tags: run.id <= 2 ? ['gpicl'] : [], now: Date.now() });
  const known = fieldsOf(runs.map((r) => runRecord(r, context(r))));
  const ids = (text: string) => {
    const q = compileRunQuery(text, known);
    if (!q.ok) throw new Error(q.error.message);
    return runs.filter((r) => matchesRecord(q.query, runRecord(r, context(r)))).map((r) => r.id);
  };

  it('knows the run fields, spec paths and summary figures', () => {
    expect(known).toEqual(
      expect.arrayContaining([
        'id',
        'phase',
        'tag',
        'task.numTasks',
        'model.kind',
        'seed',
        'final_loss',
        'param_count',
      ]),
    );
  });

  it('filters by spec paths, figures and run fields', () => {
    // Runs: 1 (4, mlp), 2 (4, lstm), 3 (256, mlp), 4 (256, lstm), 5 (fresh, mlp), 6 (fresh, lstm; failed).
    expect(ids('task.numTasks >= 256')).toEqual([3, 4]);
    expect(ids('task.numTasks = fresh')).toEqual([5, 6]);
    expect(ids('model.kind = lstm or status = failed')).toEqual([2, 4, 6]);
    expect(ids('not status = finished')).toEqual([6]);
    expect(ids('final_loss < 0.25')).toEqual([1, 2, 3]);
    expect(ids('tag = gpicl')).toEqual([1, 2]);
    expect(ids('tag != gpicl and numTasks < 100')).toEqual([]);
    expect(ids('id = r4 or id > 5')).toEqual([4, 6]);
    expect(ids('experiment = e1 and experiment ~ TIN')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(ids('backend = wasm and seed = 3')).toHaveLength(6);
  });

  it('filters by where runs train and what SLURM says of them', () => {
    expect(known).toEqual(expect.arrayContaining(['executor', 'slurm']));
    expect(ids('executor = slurm')).toEqual([3, 4]);
    expect(ids('executor = LOCAL')).toEqual([1, 2, 5, 6]);
    expect(ids('executor != slurm')).toEqual([1, 2, 5, 6]);
    expect(ids('slurm ~ pending')).toEqual([4]);
    expect(ids('slurm ~ jobarraytasklimit or slurm = "running on node1"')).toEqual([3, 4]);
    expect(ids('executor = slurm and not slurm ~ running')).toEqual([4]);
    // Runs without a SLURM state match only !=.
    expect(ids('slurm != "running on node1"')).toEqual([1, 2, 4, 5, 6]);
  });

  it('matches a phase by its label, short name or their start', () => {
    expect(ids('phase = learn')).toEqual([2, 4]);
    expect(ids('phase = "general learning-to-learn"')).toEqual([2, 4]);
    expect(ids('phase = memo')).toEqual([1, 3, 5]);
    expect(ids('phase = memorize and task.numTasks >= 256')).toEqual([3]);
    expect(ids('phase != learn')).toEqual([1, 3, 5, 6]);
    expect(ids('phase ~ learning')).toEqual([2, 4]);
    expect(ids('phase = "task ID"')).toEqual([]);
  });

  it('orders phases as they progress, not as text: none < memorize < task ID < learn', () => {
    // Runs 1, 3, 5 memorise; 2, 4 learn; 6 failed without a phase.
    expect(ids('phase < learn')).toEqual([1, 3, 5]);
    expect(ids('phase < "task ID"')).toEqual([1, 3, 5]);
    expect(ids('phase >= memo')).toEqual([1, 2, 3, 4, 5]);
    expect(ids('phase > task')).toEqual([2, 4]);
    expect(ids('phase <= none')).toEqual([]);
    expect(ids('not phase < learn')).toEqual([2, 4, 6]);
    const bad = compileRunQuery('status = finished and phase > great', known);
    expect(bad).toEqual({
      ok: false,
      error: {
        message:
          "column 23: 'great' is not a phase to order by (phases: not learning yet, memorization, " +
          'task identification, general learning-to-learn)',
        position: 22,
      },
    });
  });

  it('reads durations with units and times as written', () => {
    // Run i ran i minutes, starting at 08:00 + (i - 1) hours.
    expect(ids('duration > 3m')).toEqual([4, 5, 6]);
    expect(ids('duration <= 120')).toEqual([1, 2]);
    expect(ids('started >= "2026-12-03 11:00"')).toEqual([4, 5, 6]);
    expect(ids('started ~ "2026-12-03 09"')).toEqual([2]);
    expect(ids('finished < 2026-12-04')).toHaveLength(6);
  });

  it('takes the live phase and figures of a run still training', () => {
    const live = { ...runs[5], status: 'running' as const };
    const record = runRecord(live, { tags: [], phase: 'task identification', figures: { final_loss: 2 }, now: 0 });
    const q = compileRunQuery('phase = task and final_loss > 1', known);
    expect(q.ok && matchesRecord(q.query, record)).toBe(true);
  });

  it('refuses unknown fields with their position', () => {
    const r = compileRunQuery('status = finished and numTask > 2', known);
    expect(r).toEqual({
      ok: false,
      error: { position: 22, message: "column 23: unknown field 'numTask' (no run has it)" },
    });
  });
});
