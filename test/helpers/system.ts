// What the tests take from Debian's packages where they are installed (.ci/run installs them all: chromium,
// dataset-fashion-mnist, python3-torch, python3-numpy); without them the suite falls back or skips, saying so.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A system file, under METALAB_TEST_SYSTEM_ROOT where that is set: pointed at an empty folder, the tests set
 * themselves up as on a machine without the packages.
 */
export function systemPath(file: string): string {
  return path.join(process.env.METALAB_TEST_SYSTEM_ROOT || '/', file);
}

/**
 * Debian's python3 where it can import `module`; otherwise null, after one line saying that `what` is skipped
 * and why.
 */
export function pythonWith(module: 'torch' | 'numpy', what: string): string | null {
  const python = systemPath('/usr/bin/python3');
  if (spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return python;
  console.log(`skipped: ${what}: ${python} ${fs.existsSync(python) ? `has no ${module}` : 'is missing'}`);
  return null;
}
