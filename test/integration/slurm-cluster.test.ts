// A real single-node SLURM cluster (test/helpers/slurm.ts) started and stopped by the test itself: a job array runs
// every task, no more at once than its throttle, and stopping the cluster leaves no daemon or job behind. Skipped,
// saying so, where not root or Debian's slurm-wlm and munge are missing.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlurmCluster, slurmAvailable, startSlurm } from '../helpers/slurm';

const what = 'the SLURM cluster tests';
const available = slurmAvailable(what);

/** Processes whose command line or environment names the cluster's folder. */
function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid)) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (`${cmdline}${fs.readFileSync(`/proc/${pid}/environ`, 'latin1')}`.includes(dir)) {
        found.push(`${pid} ${cmdline.replaceAll('\0', ' ')}`);
      }
    } catch {}
  }
  return found;
}

describe.skipIf(!available)(what, () => {
  let cluster: SlurmCluster;
  const slurm = (cmd: string, ...args: string[]) =>
    execFileSync(cmd, args, { env: { ...process.env, ...cluster.env }, encoding: 'utf8' }).trim();

  beforeAll(async () => {
    // Four CPUs on any machine, so that the array's throttle, not the node, is what limits it.
    cluster = (await startSlurm({ cpus: 4 }))!;
  });
  afterAll(() => cluster?.stop());

  it('runs all four tasks of an array throttled to two, never more than two at once', async () => {
    const out = path.join(cluster.dir, 'array');
    fs.mkdirSync(out);
    const script = path.join(out, 'task.sh');
    const stamp = (s: string) => `date +%s.%N > ${out}/$SLURM_ARRAY_TASK_ID.${s}`;
    fs.writeFileSync(script, ['#!/bin/sh', stamp('start'), 'sleep 2', stamp('end'), ''].join('\n'));
    const job = slurm('sbatch', '--parsable', '--array=0-3%2', '-o', `${out}/%a.out`, script);
    expect(job).toMatch(/^\d+$/);

    const states = () => slurm('squeue', '-h', '-r', '-t', 'all', '-j', job, '-o', '%i|%T').split('\n');
    const deadline = Date.now() + 40_000;
    while (!states().every((s) => s.endsWith('|COMPLETED')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(states().sort()).toEqual([0, 1, 2, 3].map((i) => `${job}_${i}|COMPLETED`));

    const spans = [0, 1, 2, 3].map((i) => {
      const [start, end] = ['start', 'end'].map((s) => Number(fs.readFileSync(`${out}/${i}.${s}`, 'utf8')));
      return { start, end };
    });
    const atOnce = spans.map((a) => spans.filter((b) => b.start <= a.start && a.start < b.end).length);
    expect(Math.max(...atOnce)).toBe(2);
  });

  it('stop() ends every daemon and job of the cluster, and a second stop() is harmless', async () => {
    const script = path.join(cluster.dir, 'long.sh');
    fs.writeFileSync(script, '#!/bin/sh\nsleep 300\n');
    const job = slurm('sbatch', '--parsable', '-o', '/dev/null', script);
    const deadline = Date.now() + 20_000;
    while (slurm('squeue', '-h', '-j', job, '-o', '%T') !== 'RUNNING' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(processesOf(cluster.dir).length).toBeGreaterThanOrEqual(4); // munged, slurmctld, slurmd, the job
    await cluster.stop();
    await cluster.stop();
    expect(processesOf(cluster.dir)).toEqual([]);
  });
});
