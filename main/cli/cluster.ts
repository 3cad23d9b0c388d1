// `metalab cluster`: the cluster profile the lab submits SLURM jobs with (shared/cluster.ts), shown and changed.
import { LabError } from '../../shared/api.js';
import { clusterProfile, type ClusterProfile } from '../../shared/cluster.js';
import { formatPath } from '../../shared/spec.js';
import { profileFile } from '../services/slurm/profile.js';
import { defaultHome } from '../services/paths.js';
import { UsageError } from './args.js';
import { openLab } from './lab.js';

export const CLUSTER_USAGE = [
  '  metalab cluster              show the cluster profile `metalab run --on slurm` submits with',
  '  metalab cluster set FIELD=VALUE...',
  '                               change it: partition=gpu throttle=8 gpus=gpu:1 timeLimit=24:00:00 setup=\'["module',
  '                               load nodejs"]\' (numbers, true/false and lists as JSON)',
].join('\n');

export async function commandCluster(args: string[]): Promise<number> {
  const [action = 'show', ...rest] = args;
  if (action !== 'show' && action !== 'set') throw new UsageError(`metalab cluster: unknown action '${action}'`);
  if (action === 'show' && rest.length) throw new UsageError('metalab cluster show takes no arguments');
  if (action === 'set' && !rest.length) throw new UsageError('metalab cluster set takes FIELD=VALUE arguments');
  const lab = openLab();
  try {
    let profile = await lab.getClusterProfile();
    if (action === 'set') profile = await lab.setClusterProfile(changed(profile, rest));
    process.stdout.write(`${JSON.stringify(profile, null, 2)}\n(${profileFile(defaultHome())})\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof LabError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    return 2;
  } finally {
    await lab.close();
  }
}

/** The profile with FIELD=VALUE assignments made, checked: an unknown field or a bad value is named. */
function changed(profile: ClusterProfile, assignments: string[]): ClusterProfile {
  const next: Record<string, unknown> = { ...profile };
  for (const assignment of assignments) {
    const at = assignment.indexOf('=');
    if (at < 1) throw new UsageError(`'${assignment}' is not FIELD=VALUE`);
    const [field, text] = [assignment.slice(0, at), assignment.slice(at + 1)];
    if (!Object.hasOwn(clusterProfile.shape, field))
      throw new UsageError(
        `the profile has no field '${field}' (fields: ${Object.keys(clusterProfile.shape).join(', ')})`,
      );
    // Text fields take the text as it is (timeLimit=30 is 30 minutes); the others are JSON.
    next[field] = typeof next[field] === 'string' ? text : jsonOrText(text);
  }
  const parsed = clusterProfile.safeParse(next);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new UsageError(`${formatPath(issue.path as (string | number)[])}: ${issue.message}`);
}

function jsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
