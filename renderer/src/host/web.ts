// Web host adapter: the LabApi over a WebSocket to `metalab serve`, authorised by the token in the URL.
import { decode, encode, MAX_FRAME_BYTES } from '../../../shared/wire';
import { rpcConnection } from './rpc';
import type { HostConnector } from './types';

const TOKEN_KEY = 'metalab-token';

export const connectWeb = (async () => {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    // Keep the token out of the address bar, history and screenshots.
    history.replaceState(null, '', location.pathname + location.hash);
  }
  const token = fromUrl ?? sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new Error('This page needs the address that `metalab serve` printed (it carries an access token).');
  const ws = new WebSocket(
    `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/rpc?token=${encodeURIComponent(token)}`,
  );
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve(), { once: true });
    ws.addEventListener(
      'close',
      () => reject(new Error('The lab refused the connection: the access token is wrong or the lab has stopped.')),
      { once: true },
    );
  });
  const closeListeners: ((reason: string) => void)[] = [];
  ws.addEventListener('close', () => {
    for (const l of closeListeners) l('the connection to the lab was closed');
  });
  return {
    ...rpcConnection('web', {
      post: (data: string) => {
        // A frame over the host's limit would close the connection: refuse the one call instead.
        if (data.length > MAX_FRAME_BYTES / 3 && new TextEncoder().encode(data).length > MAX_FRAME_BYTES)
          throw new Error(`the request is too large to send (over ${MAX_FRAME_BYTES / 2 ** 20} MiB)`);
        ws.send(data);
      },
      on: (fn) => ws.addEventListener('message', (e) => fn(e.data)),
      serialize: encode,
      deserialize: (d) => decode(d as string),
    }),
    onClose: (listener) => closeListeners.push(listener),
  };
}) satisfies HostConnector;
