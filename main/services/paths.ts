// Where things live: the app's own files (found from this module) and the user's data ($METALAB_HOME).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The metalab package folder: the nearest parent folder whose package.json is named metalab. */
export function appRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'metalab') {
      root = dir;
      return root;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the metalab package folder');
    dir = parent;
  }
}

export function appVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The built worker entry; `npm run build` makes it. */
export function workerScript(): string {
  return builtScript('worker.cjs');
}

function builtScript(name: string): string {
  const file = path.join(appRoot(), 'dist', 'main', name);
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return file;
}

/**
 * The built entry of the metric reader threads (./store/readers.ts). In a desktop package it lies outside the asar
 * archive (electron-builder.yml's asarUnpack): a worker thread is started from a file on disk.
 */
export function storeReaderScript(): string {
  return builtScript('store-reader.cjs').replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
}

export function rendererDir(): string {
  return path.join(appRoot(), 'dist', 'renderer');
}

/**
 * The data folder: $METALAB_HOME if set, else the folder Electron uses as `userData` for an app named
 * metalab, so the desktop app and the CLI share one database.
 */
export function defaultHome(): string {
  if (process.env.METALAB_HOME) return path.resolve(process.env.METALAB_HOME);
  const home = os.homedir();
  if (process.platform === 'win32')
    return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'metalab');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'metalab');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'metalab');
}

export function databaseFile(home: string): string {
  return path.join(home, 'metalab.db');
}

export function checkpointDir(home: string, runId: number): string {
  return path.join(home, 'checkpoints', `run-${runId}`);
}

/**
 * Removes a run's checkpoints (its run was deleted, or starts over). The run's worker may still be writing one as it
 * is stopped (ENOTEMPTY while the folder empties): retried, as rmSync does for that, rather than failing the delete.
 */
export function removeCheckpoints(home: string, runId: number): void {
  fs.rmSync(checkpointDir(home, runId), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
}

/**
 * A stored checkpoint path as a file: relative to the data folder; an absolute one (stored before paths were
 * relative) as it is where it exists, else its checkpoints/... part in this folder (the folder was moved).
 */
export function resolveCheckpoint(home: string, stored: string): string {
  if (!path.isAbsolute(stored)) return path.join(home, stored);
  if (fs.existsSync(stored)) return stored;
  const at = stored.lastIndexOf(`${path.sep}checkpoints${path.sep}`);
  return at >= 0 ? path.join(home, stored.slice(at + 1)) : stored;
}

/** Imported datasets, one folder each (see main/engine/data/imported.ts). */
export function datasetsDir(home: string): string {
  return path.join(home, 'datasets');
}
