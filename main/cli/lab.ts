// The lab the CLI's commands go through: the same Lab (LabApi) the page talks to, on $METALAB_HOME.
import type { LabInfo } from '../../shared/api.js';
import { Lab } from '../services/lab.js';
import { stallLimitsFromEnv } from '../services/scheduler.js';
import { defaultHome, workerScript } from '../services/paths.js';
import { forkLauncher } from '../services/workers.js';

/**
 * `host`: what LabInfo reports; `web` where the CLI serves the page (`metalab serve`, `start` without Electron).
 * `adoptSlurmRuns`: take over the SLURM runs of labs that are gone (the serving and running commands do; a command
 * that only reads or changes the store, and exits, leaves them to those).
 */
export function openLab(concurrency?: number, host: LabInfo['host'] = 'cli', adoptSlurmRuns = host === 'web'): Lab {
  return new Lab({
    home: defaultHome(),
    launch: forkLauncher(workerScript()),
    concurrency,
    host,
    adoptSlurmRuns,
    ...stallLimitsFromEnv(),
  });
}
