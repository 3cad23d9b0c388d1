// Objective files as the page writes and reads them: `<name>.objective.json` (shared/learnedObjective.ts's format);
// the lab checks what is read.
import { MAX_FRAME_BYTES } from '../../../shared/wire';

/** `<name>.objective.json`, with the characters file systems refuse replaced. */
export function objectiveFileName(name: string): string {
  const base = name.replace(/[\\/:*?"<>|\p{Cc}]+/gu, '-').trim() || 'objective';
  return `${base}.objective.json`;
}

/** The file's JSON; throws an Error that says in one sentence why it cannot be read. */
export async function readObjectiveFile(file: Blob): Promise<unknown> {
  // The file travels to the lab in one message.
  if (file.size > MAX_FRAME_BYTES) {
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
    throw new Error(`it is ${mib(file.size)}, more than the lab takes in one request (${mib(MAX_FRAME_BYTES)})`);
  }
  try {
    return JSON.parse(await file.text());
  } catch {
    throw new Error('it is not a JSON file');
  }
}
