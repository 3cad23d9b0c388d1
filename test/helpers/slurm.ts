// A real single-node SLURM cluster for tests (Debian's slurm-wlm and munge, as root): a private munged, slurmctld
// and slurmd on their own config, ports, spool, state and logs in a fresh temporary folder, so clusters of test
// files running side by side, and a system SLURM or munge, never meet.
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { systemPath } from './system';
import { tempDir } from './tmp';

export interface SlurmCluster {
  /** Environment every SLURM client command (sbatch, squeue, scontrol, scancel, sinfo) needs: SLURM_CONF. */
  env: Record<string, string>;
  /** The folder holding slurm.conf, spool, state, logs (a fresh temp folder, removed after the test file). */
  dir: string;
  /** Node name used in slurm.conf. */
  node: string;
  /** Kills every daemon, job and slurmstepd of this cluster and waits for the daemons to exit; idempotent. */
  stop(): Promise<void>;
}

export interface SlurmOptions {
  /** CPUs (job slots) the node offers; default: what `slurmd -C` reports. More than the machine has is fine. */
  cpus?: number;
  /** slurm.conf settings to add or replace, e.g. `{ KillWait: '2' }`. */
  conf?: Record<string, string>;
  /** Seconds to wait for the node to be idle (default 30). */
  timeoutS?: number;
}

const DAEMONS = { munged: '/usr/sbin/munged', slurmctld: '/usr/sbin/slurmctld', slurmd: '/usr/sbin/slurmd' };
const TOOLS = ['/usr/bin/setpriv', '/usr/bin/sbatch', '/usr/bin/squeue', '/usr/bin/scontrol', '/usr/bin/sinfo'];

/** Why no cluster can start here (not root, a package missing), or null. */
function unavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (slurmd runs jobs as root)';
  const missing = [...Object.values(DAEMONS), ...TOOLS].filter((f) => !fs.existsSync(systemPath(f)));
  if (missing.length) return `${missing.join(', ')} missing (Debian's slurm-wlm and munge)`;
  if (spawnSync('id', ['-u', 'munge'], { stdio: 'ignore' }).status !== 0) return 'no user munge (Debian munge)';
  return null;
}

/** Whether startSlurm can start a cluster here; if not, prints one line saying that `what` is skipped and why. */
export function slurmAvailable(what: string): boolean {
  const why = unavailable();
  if (why) console.log(`skipped: ${what}: ${why}`);
  return !why;
}

// Clusters not yet stopped: killed at once if this process exits, or is signalled, without stopping them.
const live = new Set<() => void>();
const killLive = () => {
  for (const kill of live) kill();
  live.clear();
};
process.on('exit', killLive);
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
function onSignal(signal: NodeJS.Signals) {
  killLive();
  for (const s of SIGNALS) process.off(s, onSignal);
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal); // die of it, as without us
}
function track(kill: () => void, on: boolean) {
  if (on) live.add(kill);
  else live.delete(kill);
  for (const s of SIGNALS) {
    process.off(s, onSignal);
    if (live.size) process.on(s, onSignal);
  }
}

/**
 * Starts munged, slurmctld and slurmd on a private config, ports, spool and state folder, and waits until the node
 * is idle; null (after printing one line saying why) when not root or a package is missing.
 */
export async function startSlurm(options: SlurmOptions = {}): Promise<SlurmCluster | null> {
  const why = unavailable();
  if (why) {
    console.log(`SLURM cluster not started: ${why}`);
    return null;
  }
  const started = Date.now();
  killStrays(); // what clusters of test processes that died left behind
  const dir = tempDir('metalab-slurm-', 'file');
  fs.chmodSync(dir, 0o755); // munged, as user munge, must reach its socket
  for (const sub of ['state', 'spool', 'log', 'munge']) fs.mkdirSync(path.join(dir, sub));
  const conf = path.join(dir, 'slurm.conf');
  const env = { SLURM_CONF: conf };
  const daemonEnv = { ...process.env, ...env };
  const node = os.hostname().split('.')[0];
  const children: ChildProcess[] = []; // munged, slurmctld, slurmd
  const killNow = () => {
    for (const child of children) if (running(child)) child.kill('SIGKILL');
    killStrays(conf);
  };
  track(killNow, true);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      track(killNow, false);
      // slurmctld first, so that it starts or requeues nothing more; then the jobs; slurmd; munged last.
      const [munged, slurmctld, slurmd] = children;
      await ended(slurmctld);
      killStrays(conf);
      await ended(slurmd);
      killStrays(conf);
      await ended(munged);
    })());
  try {
    // munged runs as munge (it refuses root), its key, socket and seed owned by munge; in the foreground it logs
    // to stderr, that is log/munged.out.
    const munge = path.join(dir, 'munge');
    const key = path.join(munge, 'munge.key');
    fs.writeFileSync(key, crypto.randomBytes(128), { mode: 0o400 });
    spawnSync('chown', ['-R', 'munge:munge', munge]);
    const socket = path.join(munge, 'munge.socket');
    children.push(
      daemon(dir, 'munged', ['--reuid=munge', '--regid=munge', '--init-groups'], daemonEnv, [
        '--foreground',
        `--socket=${socket}`,
        `--key-file=${key}`,
        `--pid-file=${path.join(munge, 'munged.pid')}`,
        `--seed-file=${path.join(munge, 'munged.seed')}`,
      ]),
    );
    await waitFor(() => fs.existsSync(socket), 10_000, children, 'munged did not create its socket');

    const [ctldPort, slurmdPort] = await freePorts(2);
    fs.writeFileSync(path.join(dir, 'plugstack.conf'), ''); // not /etc/slurm's
    fs.writeFileSync(conf, slurmConf({ dir, node, socket, ctldPort, slurmdPort, options }));
    children.push(daemon(dir, 'slurmctld', [], daemonEnv, ['-D', '-f', conf]));
    children.push(daemon(dir, 'slurmd', [], daemonEnv, ['-D', '-f', conf, '-N', node]));
    const idle = async () =>
      (await client(systemPath('/usr/bin/sinfo'), ['-h', '-n', node, '-o', '%T'], env).catch(() => '')).trim() ===
      'idle';
    await waitFor(idle, (options.timeoutS ?? 30) * 1000, children, `node ${node} did not become idle`);
  } catch (err) {
    killNow();
    await Promise.all(children.map(ended));
    track(killNow, false);
    throw new Error(`${(err as Error).message} (after ${Date.now() - started} ms)\n${logTails(dir)}`);
  }
  return { env, dir, node, stop };
}

function slurmConf(c: {
  dir: string;
  node: string;
  socket: string;
  ctldPort: number;
  slurmdPort: number;
  options: SlurmOptions;
}): string {
  const { dir, node, options } = c;
  // `slurmd -C` prints the machine as a node line: NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105
  const hardware = spawnSync(systemPath(DAEMONS.slurmd), ['-C'], { encoding: 'utf8' }).stdout.split('\n')[0];
  const memory = /RealMemory=(\d+)/.exec(hardware)?.[1] ?? '1';
  const cpus = options.cpus ?? Number(/CPUs=(\d+)/.exec(hardware)?.[1] ?? os.availableParallelism());
  const settings: Record<string, string> = {
    ClusterName: 'metalab',
    SlurmctldHost: `${node}(127.0.0.1)`,
    SlurmctldPort: String(c.ctldPort),
    SlurmdPort: String(c.slurmdPort),
    SlurmUser: 'root',
    SlurmdUser: 'root',
    AuthType: 'auth/munge',
    CredType: 'cred/munge',
    // cred_expire is also how long a requeued job waits (BeginTime) before it may start again: 120 s by default,
    // at least 5; a job started sooner is killed as "Job credential revoked".
    AuthInfo: `socket=${c.socket},cred_expire=5`,
    StateSaveLocation: path.join(dir, 'state'),
    SlurmdSpoolDir: path.join(dir, 'spool'),
    SlurmctldPidFile: path.join(dir, 'slurmctld.pid'),
    SlurmdPidFile: path.join(dir, 'slurmd.pid'),
    SlurmctldLogFile: path.join(dir, 'log', 'slurmctld.log'),
    SlurmdLogFile: path.join(dir, 'log', 'slurmd.log'),
    PlugStackConfig: path.join(dir, 'plugstack.conf'),
    MailProg: '/bin/true',
    ProctrackType: 'proctrack/linuxproc',
    TaskPlugin: 'task/none',
    SelectType: 'select/cons_tres',
    SelectTypeParameters: 'CR_CPU',
    // The node as configured here, whatever the hardware (so `cpus` may exceed the machine's).
    SlurmdParameters: 'config_overrides',
    SchedulerType: 'sched/backfill',
    // Pending jobs start within a second of a job's end or of their BeginTime (by default up to 3 s after an
    // end, and up to 30 s after a BeginTime, at the next backfill pass).
    SchedulerParameters: 'batch_sched_delay=0,sched_interval=1',
    AccountingStorageType: 'accounting_storage/none',
    JobAcctGatherType: 'jobacct_gather/none',
    JobCompType: 'jobcomp/none',
    MpiDefault: 'none',
    JobRequeue: '1',
    KillWait: '5',
    MinJobAge: '600',
    InactiveLimit: '0',
    ReturnToService: '2',
    ...options.conf,
  };
  return [
    ...Object.entries(settings).map(([k, v]) => `${k}=${v}`),
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memory} State=UNKNOWN`,
    `PartitionName=main Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
}

/** A daemon in the foreground, killed by the kernel if this process dies first; output to log/<name>.out. */
function daemon(dir: string, name: keyof typeof DAEMONS, as: string[], env: NodeJS.ProcessEnv, args: string[]) {
  const out = fs.openSync(path.join(dir, 'log', `${name}.out`), 'a');
  const child = spawn(
    systemPath('/usr/bin/setpriv'),
    [...as, '--pdeathsig=KILL', '--', systemPath(DAEMONS[name]), ...args],
    { env, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  child.on('error', () => undefined); // seen as its exit code
  return child;
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
const daemonName = (child: ChildProcess) => path.basename(child.spawnargs[child.spawnargs.indexOf('--') + 1]);

/** Sends SIGTERM and waits for the exit; SIGKILL after 10 s. */
async function ended(child: ChildProcess | undefined): Promise<void> {
  if (!child || !running(child)) return;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exit;
  clearTimeout(timer);
}

/**
 * SIGKILLs, outside this process's tree, the processes whose environment names `conf`, a cluster's slurm.conf: its
 * slurmstepd (forked by slurmd, detached, outliving it) and their jobs (sbatch passes its environment on). The
 * daemons are left to stop(). Without `conf`, those of every cluster that no daemon serves any more: left behind by
 * a test process that died (the kernel kills its daemons, see daemon()).
 */
function killStrays(conf?: string): void {
  const daemons = Object.values(DAEMONS).map(systemPath);
  for (let round = 0; round < 5; round++) {
    const byConf = new Map<string, { pid: number; daemon: boolean }[]>();
    for (const entry of fs.readdirSync('/proc')) {
      const pid = Number(entry);
      let environ: string;
      let argv0: string;
      try {
        if (!pid || pid === process.pid) continue;
        environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
        argv0 = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];
      } catch {
        continue; // gone, or not readable
      }
      const found = /(?:^|\0)SLURM_CONF=([^\0]*\/metalab-slurm-[^/\0]+\/slurm\.conf)(?:\0|$)/.exec(environ)?.[1];
      if (!found || (conf && found !== conf)) continue;
      byConf.set(found, [...(byConf.get(found) ?? []), { pid, daemon: daemons.includes(argv0) }]);
    }
    let killed = 0;
    for (const procs of byConf.values()) {
      if (!conf && procs.some((p) => p.daemon)) continue; // a live cluster, perhaps another test file's
      for (const { pid, daemon } of procs) {
        if (daemon || ours(pid)) continue;
        try {
          process.kill(pid, 'SIGKILL');
          killed++;
        } catch {}
      }
    }
    if (!killed) return;
  }
}

/** Whether `pid` is this process or a descendant of it. */
function ours(pid: number): boolean {
  for (let p = pid; p > 1; ) {
    if (p === process.pid) return true;
    try {
      p = Number(/^PPid:\s*(\d+)/m.exec(fs.readFileSync(`/proc/${p}/status`, 'latin1'))?.[1] ?? 0);
    } catch {
      return false;
    }
  }
  return false;
}

async function waitFor(
  ready: () => boolean | Promise<boolean>,
  ms: number,
  children: ChildProcess[],
  what: string,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const dead = children.find((c) => !running(c));
    if (dead) throw new Error(`${what}: ${daemonName(dead)} exited (${dead.exitCode ?? dead.signalCode})`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function client(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 5000 }, (err, stdout) =>
      err ? reject(err) : resolve(stdout),
    ),
  );
}

async function freePorts(n: number): Promise<number[]> {
  // All held open at once, so that they differ.
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer().once('error', reject);
          server.listen(0, () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

function logTails(dir: string): string {
  return ['munged.out', 'slurmctld.out', 'slurmctld.log', 'slurmd.out', 'slurmd.log']
    .map((f) => {
      const file = path.join(dir, 'log', f);
      if (!fs.existsSync(file)) return `--- ${f}: none`;
      return `--- ${f}:\n${fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-15).join('\n')}`;
    })
    .join('\n');
}

/**
 * A gate for a test's jobs: `setup`, a line of the cluster profile's setup, makes each node wait for `open()` before
 * it starts metalab. A test looks at a task RUNNING, or at the tasks a throttle holds back, for as long as it needs,
 * however fast this machine trains.
 */
export function nodeGate(folder: string): { setup: string; open(): void } {
  const file = path.join(folder, 'gate-open');
  return { setup: `until [ -e '${file}' ]; do sleep 0.1; done`, open: () => fs.writeFileSync(file, '') };
}
