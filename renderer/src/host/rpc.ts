// The page's side of the LabApi, over any message channel (WebSocket or MessagePort).
import { createBirpc, type ChannelOptions } from 'birpc';
import { LAB_API_METHODS, type LabApi, type LabEvent, type LabEvents } from '../../../shared/api';
import { toError } from '../../../shared/wire';
import type { HostConnection } from './types';

export function rpcConnection(kind: HostConnection['kind'], channel: ChannelOptions): Omit<HostConnection, 'onClose'> {
  const listeners = new Set<(event: LabEvent) => void>();
  const rpc = createBirpc<LabApi, LabEvents>(
    {
      event: (e) => {
        for (const l of listeners) l(e);
      },
    },
    { ...channel, timeout: 120_000 },
  );
  const api = Object.fromEntries(
    LAB_API_METHODS.map((method) => [
      method,
      (...args: unknown[]) =>
        (rpc[method] as (...a: unknown[]) => Promise<unknown>)(...args).catch((reason: unknown) =>
          Promise.reject(toError(reason)),
        ),
    ]),
  ) as unknown as LabApi;
  return {
    kind,
    api,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
