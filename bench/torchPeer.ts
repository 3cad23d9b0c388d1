// The PyTorch peers of the benchmarks (bench/peer/peer.py for bench/main.ts, bench/peer/rl.py for bench/rl.ts):
// the process that answers one JSON request per line, and the export it reads (meta.json with each tensor's
// offset and shape, data.bin with the tensors as little-endian float32).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** A peer script run by `python` on one thread (BLAS and torch), talked to one JSON line per request. */
export class TorchPeer {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly replies: ((line: string) => void)[] = [];
  private stderr = '';

  constructor(python: string, script: string) {
    const threads = { OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', PYTHONUNBUFFERED: '1' };
    this.proc = spawn(python, [script], { env: { ...process.env, ...threads }, stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.replies.shift()?.(line));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  call<T>(request: Record<string, unknown>): Promise<T> {
    return new Promise((resolve, reject) => {
      const onExit = () => reject(new Error(`the PyTorch peer exited: ${this.stderr.slice(-2000)}`));
      this.proc.once('exit', onExit);
      this.replies.push((line) => {
        this.proc.off('exit', onExit);
        const reply = JSON.parse(line) as T & { error?: string; trace?: string };
        if (reply.error) reject(new Error(`PyTorch peer: ${reply.error}\n${reply.trace ?? ''}`));
        else resolve(reply);
      });
      this.proc.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  async close(): Promise<void> {
    await this.call({ cmd: 'quit' }).catch(() => undefined);
    this.proc.kill();
  }
}

/** The tensors of an export, laid end to end: `put` returns where one lies, `write` writes them and the meta. */
export class ExportData {
  private readonly chunks: Float32Array[] = [];
  private offset = 0;

  put(values: Float32Array, shape: number[]): { offset: number; shape: number[] } {
    this.chunks.push(values);
    const entry = { offset: this.offset, shape };
    this.offset += values.length;
    return entry;
  }

  write(dir: string, meta: object): void {
    fs.mkdirSync(dir, { recursive: true });
    const data = new Float32Array(this.offset);
    let at = 0;
    for (const c of this.chunks) {
      data.set(c, at);
      at += c.length;
    }
    fs.writeFileSync(path.join(dir, 'data.bin'), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta));
  }
}

/** What an RL peer says of itself (its `info` request). */
export interface PeerInfo {
  torch: string;
  python: string;
  threads: number;
}

/** The `machine:` line of an RL benchmark's report: this CPU and load, our Node and tfjs backend, the peer's torch. */
export function machineLine(tfjsVersion: string, backend: string, info: PeerInfo): string {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return (
    `machine: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, load ${load}; Node ${process.version}, ` +
    `tfjs ${tfjsVersion} (${backend}); PyTorch ${info.torch} (Python ${info.python}, ${info.threads} thread)`
  );
}
