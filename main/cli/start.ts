// `npm start`: open the Electron window; where Electron's binary is missing or cannot start (no download,
// no display), say so in one line and serve the same lab for a browser instead.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { appRoot } from '../services/paths.js';

/** Electron's executable, fetched by the electron package on first use; null (with why) where that fails. */
function electronBinary(): { path: string } | { error: string } {
  const probe = spawnSync(process.execPath, ['-e', 'process.stdout.write(require("electron"))'], {
    cwd: appRoot(),
    encoding: 'utf8',
    timeout: 300_000,
  });
  // The electron package prints download progress before the path: the path is the last line.
  const binary = `${probe.stdout ?? ''}`.trim().split('\n').pop() ?? '';
  if (probe.status === 0 && binary && fs.existsSync(binary)) return { path: binary };
  const stderr = `${probe.stdout ?? ''}\n${probe.stderr ?? ''}`;
  const cause =
    stderr
      .split('\n')
      .find((l) => /^\w*Error:/.test(l))
      ?.replace(/^\w*Error:\s*/, '') ??
    probe.error?.message ??
    'unknown reason';
  return {
    error: stderr.includes('Downloading Electron')
      ? `its binary is not installed and the download failed: ${cause}`
      : cause,
  };
}

/** How long Electron must stay up to count as started; an earlier non-zero exit means it cannot run here. */
const STARTUP_MS = 8000;

export async function startApp(
  serve: (port: number | undefined, announce: (url: string) => void) => Promise<number>,
): Promise<number> {
  const announce = (url: string) =>
    process.stdout.write(`metalab is serving the lab at ${url}\n(press Ctrl+C to stop)\n`);
  const electron = electronBinary();
  if ('error' in electron) {
    process.stdout.write(
      `metalab: the desktop window cannot open here (Electron is not available: ${electron.error}); ` +
        'serving the lab for your browser instead.\n',
    );
    return serve(undefined, announce);
  }
  const child = spawn(electron.path, [appRoot()], { stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  const early = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), STARTUP_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
    child.once('error', () => resolve(1));
  });
  if (early === null) return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 0)));
  if (early === 0) return 0;
  const reason = stderr.trim().split('\n').pop() ?? `exit code ${early}`;
  process.stdout.write(
    `metalab: the desktop window cannot open here (Electron exited: ${reason}); ` +
      'serving the lab for your browser instead.\n',
  );
  return serve(undefined, announce);
}
