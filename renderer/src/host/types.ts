import type { LabApi, LabEvent } from '../../../shared/api';

/** What the page gets from its host, whichever it is: the LabApi and the pushed events. */
export interface HostConnection {
  kind: 'electron' | 'web';
  api: LabApi;
  onEvent(listener: (event: LabEvent) => void): () => void;
  /** Called if the connection to the lab is lost. */
  onClose(listener: (reason: string) => void): void;
}

export type HostConnector = () => Promise<HostConnection>;
