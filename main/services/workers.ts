// Parent side of a worker process. The scheduler only sees WorkerHandle, so the same scheduler drives
// Node's child_process.fork (CLI, web host, tests) and Electron's utilityProcess (desktop app).
import { fork } from 'node:child_process';
import type { FromWorker, ToWorker } from '../worker/protocol.js';

export interface WorkerHandle {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  onMessage(handler: (message: FromWorker) => void): void;
  /** Called once when the process is gone; `reason` says how it ended. */
  onExit(handler: (reason: string) => void): void;
  kill(): void;
}

export type WorkerLauncher = () => WorkerHandle;

const STDERR_TAIL = 4000;

export function forkLauncher(script: string): WorkerLauncher {
  return () => {
    const child = fork(script, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL)));
    return {
      pid: child.pid,
      send: (message) => {
        if (child.connected) child.send(message);
      },
      onMessage: (handler) => child.on('message', (m) => handler(m as FromWorker)),
      onExit: (handler) =>
        child.once('exit', (code, signal) => {
          const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
          handler(stderr.trim() ? `${how}: ${stderr.trim().split('\n').slice(-5).join(' | ')}` : how);
        }),
      kill: () => child.kill('SIGKILL'),
    };
  };
}
