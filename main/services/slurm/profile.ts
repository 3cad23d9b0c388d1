// The cluster profile (shared/cluster.ts) is a file in the lab's data folder, cluster.json, so that it can be
// written by hand on a login node too; it is checked whenever it is read, and a broken one is named, never used.
import fs from 'node:fs';
import path from 'node:path';
import { clusterProfile, type ClusterProfile } from '../../../shared/cluster.js';
import { formatPath } from '../../../shared/spec.js';

export class ProfileError extends Error {}

export const profileFile = (home: string): string => path.join(home, 'cluster.json');

/** The lab's profile; the defaults where it has none. */
export function readProfile(home: string): ClusterProfile {
  const file = profileFile(home);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return clusterProfile.parse({});
    throw new ProfileError(`cannot read the cluster profile ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProfileError(`the cluster profile ${file} is not JSON: ${(err as Error).message}`);
  }
  const parsed = clusterProfile.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.length ? `${formatPath(issue.path as (string | number)[])}: ` : '';
  throw new ProfileError(`the cluster profile ${file} is not valid: ${where}${issue.message}`);
}

/** Writes the profile whole (a new file renamed over the old: a reader never sees half of it). */
export function writeProfile(home: string, profile: ClusterProfile): void {
  const file = profileFile(home);
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(profile, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}
