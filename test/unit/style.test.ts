// Source files stay readable side by side: no line over 120 characters (the formatter's width; it cannot
// break long strings or Vue templates' text, so this checks what it leaves).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');
const MAX = 120;

describe('source style', () => {
  it(`has no line over ${MAX} characters`, () => {
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
      cwd: root,
      encoding: 'utf8',
    })
      .split('\n')
      .filter((f) => /\.(ts|vue|mjs|cjs|css|py|sh|jsonc)$/.test(f) && fs.existsSync(path.join(root, f)));
    expect(files.length).toBeGreaterThan(50);
    const long = files.flatMap((f) =>
      fs
        .readFileSync(path.join(root, f), 'utf8')
        .split('\n')
        .flatMap((line, i) => ([...line].length > MAX ? [`${f}:${i + 1} (${[...line].length})`] : [])),
    );
    expect(long).toEqual([]);
  });
});
