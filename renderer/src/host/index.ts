import { connectElectron } from './electron';
import type { HostConnector } from './types';
import { connectWeb } from './web';

/** The page runs from file:// inside Electron and from http:// under the web host. */
export const connectHost: HostConnector = () => (location.protocol === 'file:' ? connectElectron() : connectWeb());
