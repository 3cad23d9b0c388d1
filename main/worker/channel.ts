// The worker's one channel to its parent: Electron's utilityProcess parentPort or Node's fork IPC.
import type { FromWorker, ToWorker } from './protocol.js';

export interface ParentChannel {
  send(message: FromWorker): Promise<void>;
  onMessage(handler: (message: ToWorker) => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

export function connectToParent(): ParentChannel {
  const parentPort = (process as { parentPort?: ElectronParentPort }).parentPort;
  if (parentPort) {
    return {
      send: async (message) => parentPort.postMessage(message),
      onMessage: (handler) => parentPort.on('message', (e) => handler(e.data as ToWorker)),
    };
  }
  const send = process.send?.bind(process);
  if (send) {
    return {
      send: (message) =>
        new Promise((resolve, reject) => send(message, undefined, undefined, (err) => (err ? reject(err) : resolve()))),
      onMessage: (handler) => process.on('message', (m) => handler(m as ToWorker)),
    };
  }
  throw new Error('the metalab worker must be started by the lab (utilityProcess or child_process.fork)');
}
