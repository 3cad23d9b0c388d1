// The web host's log, $METALAB_HOME/logs/host.log: one line per refused frame or connection error, and the
// stack of anything that reached the last-resort handler of `metalab serve`.
import fs from 'node:fs';
import path from 'node:path';
import { logsDir } from '../services/logs.js';

export function hostLogFile(home: string): string {
  return path.join(logsDir(home), 'host.log');
}

/** Appends `text` after the time; a failure to write is ignored (the log must not stop the host). */
export function appendHostLog(home: string, text: string): void {
  try {
    fs.mkdirSync(logsDir(home), { recursive: true });
    fs.appendFileSync(hostLogFile(home), `${new Date().toISOString()} ${text}\n`);
  } catch {
    // A full disk or a read-only home: nowhere left to report it.
  }
}
