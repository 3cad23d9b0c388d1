// Electron adapter: the preload hands over a MessagePort that carries the LabApi; nothing else crosses.
import { rpcConnection } from './rpc';
import type { HostConnector } from './types';

export const connectElectron = (async () => {
  const port = await new Promise<MessagePort>((resolve) => {
    const onMessage = (e: MessageEvent) => {
      if (e.source === window && e.data === 'metalab:port' && e.ports[0]) {
        window.removeEventListener('message', onMessage);
        resolve(e.ports[0]);
      }
    };
    window.addEventListener('message', onMessage);
  });
  port.start();
  return {
    ...rpcConnection('electron', {
      post: (data) => port.postMessage(data),
      on: (fn) => port.addEventListener('message', (e) => fn(e.data)),
    }),
    onClose: () => undefined,
  };
}) satisfies HostConnector;
