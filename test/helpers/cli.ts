import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { appRoot } from '../../main/services/paths';

/** The built `metalab` command as a user runs it: a real process with METALAB_HOME set to `home`. */
export function metalab(home: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(appRoot(), 'bin', 'metalab.cjs'), ...args], {
    cwd: appRoot(),
    env: { ...process.env, METALAB_HOME: home },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
