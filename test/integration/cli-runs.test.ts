// `metalab runs --where` and `--columns` on a real lab folder: three tiny runs of two experiments.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { metalab } from '../helpers/cli';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

const home = tempDir('metalab-cli-runs-', 'file');
const tiny = { training: { steps: 10, batchSize: 8, checkpointEvery: 10 }, evaluation: { every: 10, sequences: 16 } };

/** The run ids a `metalab runs` listing shows, in order. */
const listed = (stdout: string) => [...stdout.matchAll(/^r(\d+)\s/gm)].map((m) => Number(m[1]));

beforeAll(() => {
  const specs = {
    'pool.json': tinySpec({
      name: 'mlp pool',
      tags: ['gpicl'],
      ...tiny,
      sweep: { axes: [{ path: 'task.numTasks', values: [4, 256] }] },
    }),
    'lstm.json': tinySpec({
      name: 'lstm fresh',
      ...tiny,
      task: { family: 'linear-regression', dim: 4, seqLen: 8, numTasks: 'fresh' },
      model: { kind: 'lstm', hidden: 8 },
    }),
  };
  for (const [file, spec] of Object.entries(specs)) {
    fs.writeFileSync(path.join(home, file), JSON.stringify(spec));
    expect(metalab(home, 'run', path.join(home, file), '--concurrency', '2').code).toBe(0);
  }
}, 60_000);

describe('metalab runs --where', () => {
  it('keeps the runs a query matches: spec paths, tags, statuses, parentheses, not', () => {
    // r1: mlp, 4 tasks; r2: mlp, 256 tasks (both tagged gpicl); r3: lstm, fresh tasks.
    const where = (q: string) => {
      const r = metalab(home, 'runs', '--where', q);
      expect(r.code).toBe(0);
      return listed(r.stdout).sort();
    };
    expect(where('task.numTasks >= 256')).toEqual([2]);
    expect(where('model.kind = lstm or task.numTasks = 4')).toEqual([1, 3]);
    expect(where('tag = gpicl and not (numTasks < 100)')).toEqual([2]);
    expect(where('not status = finished')).toEqual([]);
    expect(where('experiment ~ LSTM')).toEqual([3]);
    expect(metalab(home, 'runs', '--where', 'status = failed').stdout).toBe('no runs match --where\n');
  });

  it('matches phases by their short names, as the stored summaries have them', () => {
    const db = new Database(path.join(home, 'metalab.db'), { readonly: true });
    const rows = db.prepare('SELECT run_id, summary FROM run_summaries').all() as { run_id: number; summary: string }[];
    db.close();
    const phases = new Map(rows.map((r) => [r.run_id, (JSON.parse(r.summary) as { phase: string | null }).phase]));
    expect(phases.size).toBe(3);
    const having = (phase: string) => [...phases].filter(([, p]) => p === phase).map(([id]) => id);
    for (const [short, label] of [
      ['learn', 'general learning-to-learn'],
      ['none', 'not learning yet'],
      ['memo', 'memorization'],
      ['task', 'task identification'],
    ]) {
      const { stdout } = metalab(home, 'runs', '--where', `phase = ${short}`);
      expect(listed(stdout).sort()).toEqual(having(label).sort());
    }
  });

  it('adds columns by field name, and refuses a bad query or column naming where it is wrong', () => {
    const { stdout, code } = metalab(home, 'runs', '--columns', 'kind, numTasks,tag', '--where', 'id >= r2');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toMatch(/duration\s+model\.kind\s+task\.numTasks\s+tag$/);
    expect(listed(stdout)).toEqual([3, 2]);
    expect(stdout).toMatch(/^r3 .*\slstm\s+fresh\s+-$/m);
    expect(stdout).toMatch(/^r2 .*\smlp\s+256\s+gpicl$/m);

    const bad = metalab(home, 'runs', '--where', 'task.numTasks >= and status = finished');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      "error: --where: column 18: expected a value after '>=' (a number, a word or \"text\"), found 'and'\n" +
        '  task.numTasks >= and status = finished\n' +
        `  ${' '.repeat(17)}^\n`,
    );
    const column = metalab(home, 'runs', '--columns', 'kind,numTask');
    expect(column.code).toBe(2);
    expect(column.stderr).toBe(
      "error: --columns: column 6: unknown field 'numTask' (no run has it)\n  kind,numTask\n       ^\n",
    );
    expect(metalab(home, 'runs', '--where', 'numTask > 3').stderr).toContain("unknown field 'numTask'");
    expect(metalab(home, 'help').stdout).toContain('metalab runs [--where QUERY] [--columns F,F...]');
  });
});
