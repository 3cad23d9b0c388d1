// Metric reads off the host's main thread: worker threads, each with its own read-only connection to the database
// (WAL lets them read while this thread writes), answer getSeries, so that ingesting workers' metrics and small
// requests never wait behind a large read. Writes stay on the main thread's connection. Started on the first read.
import { Worker } from 'node:worker_threads';
import type { Series, SeriesOptions } from '../../../shared/api.js';
import { storeReaderScript } from '../paths.js';
import { StoreError } from './index.js';

export interface ReaderRequest {
  id: number;
  runIds: readonly number[];
  keys: readonly string[];
  options: SeriesOptions;
}
export type ReaderReply = { id: number; series: Series[] } | { id: number; error: string };

interface Reader {
  worker: Worker;
  pending: Map<number, { resolve: (s: Series[]) => void; reject: (e: Error) => void }>;
}

export class SeriesReaders {
  private readers: Reader[] = [];
  private nextId = 0;

  /** `file`: the database the store opened; `count` threads, each request to the one with the fewest pending. */
  constructor(
    private readonly file: string,
    private readonly count = 2,
  ) {}

  /** A request for several runs is split between the threads by runs, so that both cores read. */
  async getSeries(runIds: readonly number[], keys: readonly string[], options: SeriesOptions = {}): Promise<Series[]> {
    const parts = Math.min(this.count, runIds.length);
    const size = Math.ceil(runIds.length / parts);
    const chunks = Array.from({ length: parts }, (_, i) => runIds.slice(i * size, (i + 1) * size));
    return (await Promise.all(chunks.map((ids) => this.ask(ids, keys, options)))).flat();
  }

  private ask(runIds: readonly number[], keys: readonly string[], options: SeriesOptions): Promise<Series[]> {
    while (this.readers.length < this.count) this.readers.push(this.start());
    const reader = this.readers.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      reader.pending.set(id, { resolve, reject });
      reader.worker.postMessage({ id, runIds, keys, options } satisfies ReaderRequest);
    });
  }

  private start(): Reader {
    const worker = new Worker(storeReaderScript(), { workerData: { file: this.file } });
    const reader: Reader = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (reply: ReaderReply) => {
      const call = reader.pending.get(reply.id);
      reader.pending.delete(reply.id);
      if ('error' in reply) call?.reject(new StoreError(reply.error));
      else call?.resolve(reply.series);
    });
    // A thread that fails (its database gone, out of memory) fails what it was asked; the next read starts another.
    const fail = (message: string) => {
      this.readers = this.readers.filter((r) => r !== reader);
      for (const call of reader.pending.values()) call.reject(new StoreError(message));
      reader.pending.clear();
    };
    worker.on('error', (err) => fail(`a metric reader failed: ${err.message}`));
    worker.on('exit', (code) => fail(`a metric reader stopped (exit code ${code})`));
    return reader;
  }

  async close(): Promise<void> {
    const readers = this.readers;
    this.readers = [];
    await Promise.all(readers.map((r) => r.worker.terminate()));
  }
}
