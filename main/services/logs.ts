// The lab's log files, under $METALAB_HOME/logs: what a user is shown is one sentence; the whole story
// (a worker's stack trace) goes here, one file per run.
import fs from 'node:fs';
import path from 'node:path';

export function logsDir(home: string): string {
  return path.join(home, 'logs');
}

/** Appends a dated entry to a run's log; returns the file's path relative to the home folder. */
export function logRunError(home: string, runId: number, text: string): string {
  const file = path.join(logsDir(home), `run-${runId}.log`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${new Date().toISOString()}\n${text}\n\n`);
  return path.relative(home, file);
}

/** The first sentence of an error message, for a user: no stack, no build paths. */
export function firstSentence(message: string): string {
  const line = message.trim().split('\n')[0].trim();
  const end = line.search(/[.!?](\s|$)/);
  return end >= 0 ? line.slice(0, end + 1) : line;
}
