// `metalab run` against random and mutated spec files: every refusal names a field or a position in the file,
// never shows a stack trace, and stores nothing. Many cases through the CLI's own code path in process
// (readSpecFile, then the lab's check), a handful through the real command.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readSpecFile } from '../../main/cli/specFile';
import { appRoot, databaseFile } from '../../main/services/paths';
import { metalab } from '../helpers/cli';
import { testLab } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

const STACK = /^\s+at /m;
const BASES: object[] = [
  tinySpec(),
  JSON.parse(fs.readFileSync(path.join(appRoot(), 'examples', 'regression-task-sweep.json'), 'utf8')) as object,
  JSON.parse(fs.readFileSync(path.join(appRoot(), 'presets', 'gpicl-phase-transition.json'), 'utf8')) as object,
];

/** Every path into a JSON value (objects' keys and arrays' indices), the root included. */
function pathsOf(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [at];
  return [at, ...Object.entries(value).flatMap(([k, v]) => pathsOf(v, [...at, Array.isArray(value) ? Number(k) : k]))];
}

/** `value` with the thing at `at` replaced (or, for `undefined`, removed). */
function replaced(value: unknown, at: (string | number)[], by: unknown): unknown {
  if (!at.length) return by;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = at;
  if (by === undefined && !rest.length) delete copy[head];
  else copy[head] = replaced(copy[head], rest, by);
  return copy;
}

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(undefined, null, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, '', 'fresh', [], {}, '__proto__'),
);

/**
 * A spec file's text: random JSON or bytes, deeply nested JSON, or a real spec with one value changed or removed, or
 * its text cut.
 */
const specText = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  // Nested n deep (built in the property, so a counterexample prints as n).
  fc.record({ nested: fc.integer({ min: 1, max: 100_000 }) }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .constantFrom(...BASES)
    .chain((base) => fc.tuple(fc.constant(base), fc.constantFrom(...pathsOf(base)), oddValue))
    .map(([base, at, by]) => JSON.stringify(replaced(base, at, by), null, 2) ?? ''),
  fc
    .constantFrom(...BASES.map((b) => JSON.stringify(b, null, 2)))
    .chain((text) => fc.tuple(fc.constant(text), fc.nat({ max: text.length - 1 }), fc.string({ maxLength: 4 })))
    .map(([text, n, s]) => text.slice(0, n) + s + text.slice(n + s.length)),
);

describe('metalab run with random and mutated spec files', () => {
  it('reads each file and refuses it naming a field or a position, never with a stack trace', async () => {
    const home = tempDir();
    const { lab, store } = testLab(home, 1);
    const file = path.join(home, 'spec.json');
    const where = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d+:\\d+)?: \\S`);
    try {
      await fc.assert(
        fc.asyncProperty(specText, async (value) => {
          const text =
            typeof value === 'string' ? value : `${'{"task":'.repeat(value.nested)}1${'}'.repeat(value.nested)}`;
          fs.writeFileSync(file, text);
          const read = readSpecFile(file);
          if (!read.ok) {
            expect(read.errors.length).toBeGreaterThan(0);
            for (const e of read.errors) {
              expect(e).toMatch(where);
              expect(e).not.toMatch(STACK);
            }
            return;
          }
          const checked = await lab.validateSpec(read.spec);
          if (!checked.ok) for (const issue of checked.issues) expect(read.locate(issue)).toMatch(where);
        }),
        { seed: 4242, numRuns: 2000, interruptAfterTimeLimit: 15_000 },
      );
      expect(await lab.listExperiments()).toEqual([]);
    } finally {
      await lab.close();
      store.close();
    }
  }, 60_000);

  it('exits 2 from the real command, with error lines and nothing stored', () => {
    const home = tempDir();
    const cases: [string, string][] = [
      ['truncated', JSON.stringify(tinySpec()).slice(0, 70)],
      ['bytes', '\u0000\uffff{"'],
      ['a string for a number', JSON.stringify({ ...tinySpec(), training: { ...tinySpec().training, steps: 'many' } })],
      ['no model', JSON.stringify({ ...tinySpec(), model: null })],
      ['an unknown dataset', JSON.stringify(BASES[2]).replace('"mnist"', '"no-such-dataset"')],
      ['nested 100000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ];
    for (const [what, text] of cases) {
      const file = path.join(home, `${what.replaceAll(' ', '-')}.json`);
      fs.writeFileSync(file, text);
      const { code, stdout, stderr } = metalab(home, 'run', file);
      expect({ what, code, stdout }).toEqual({ what, code: 2, stdout: '' });
      const lines = stderr.trim().split('\n');
      expect(lines.pop(), what).toBe('nothing was run or stored.');
      for (const line of lines) expect(line, what).toMatch(new RegExp(`^error: ${file}(:\\d+:\\d+)?: \\S`));
      expect(stderr, what).not.toMatch(STACK);
    }
    if (fs.existsSync(databaseFile(home))) {
      const db = new Database(databaseFile(home), { readonly: true });
      expect(db.prepare('SELECT count(*) AS n FROM experiments').get()).toEqual({ n: 0 });
      db.close();
    }
  }, 120_000);
});
