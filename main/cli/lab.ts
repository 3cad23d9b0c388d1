// The lab the CLI's commands go through: the same Lab (LabApi) the page talks to, on $METALAB_HOME.
import { Lab } from '../services/lab.js';
import { defaultHome, workerScript } from '../services/paths.js';
import { forkLauncher } from '../services/workers.js';

export function openLab(concurrency?: number): Lab {
  return new Lab({ home: defaultHome(), launch: forkLauncher(workerScript()), concurrency, host: 'cli' });
}
