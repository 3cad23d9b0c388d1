import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

const made = { test: [] as string[], file: [] as string[] };
const remove = (dirs: string[]) => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
};
afterEach(() => remove(made.test));
afterAll(() => remove(made.file));

/**
 * A fresh temporary folder, removed after the test; with lifetime 'file', after the test file's last test (for a
 * folder a beforeAll makes: a lab's data folder must outlive the first test, its metric readers open it later).
 */
export function tempDir(prefix = 'metalab-test-', lifetime: 'test' | 'file' = 'test'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made[lifetime].push(dir);
  return dir;
}
