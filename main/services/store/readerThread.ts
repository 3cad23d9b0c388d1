// A reader thread (./readers.ts): its own read-only connection to the lab's database, answering getSeries.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ReaderReply, ReaderRequest } from './readers.js';
import { MetricTable } from './metrics.js';

const { file } = workerData as { file: string };
let metrics: MetricTable | null = null;

/** The connection, opened on the first request (and again after a failed open). */
function open(): MetricTable {
  if (!metrics) {
    try {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      metrics = new MetricTable(db);
    } catch (err) {
      throw new Error(`a metric reader cannot open ${file}: ${(err as Error).message}`);
    }
  }
  return metrics;
}

parentPort!.on('message', ({ id, runIds, keys, options }: ReaderRequest) => {
  let reply: ReaderReply;
  try {
    reply = { id, series: open().getSeries(runIds, keys, options) };
  } catch (err) {
    reply = { id, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
