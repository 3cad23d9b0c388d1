// Debian's OpenSSH server on 127.0.0.1, for the tests of `metalab connect`: its own config, host key, client key
// and port in a temporary folder; logged into as root with that key.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { systemPath } from './system';

export interface Sshd {
  port: number;
  /** ssh -o options that log in to it (metalab connect's --ssh-option values). */
  options: string[];
  /** What it has written to stderr so far (its log). */
  log(): string;
  stop(): Promise<void>;
}

/** A free port on 127.0.0.1 (free when asked: the caller binds it soon after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether something answers with an SSH banner at 127.0.0.1:port. */
function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('SSH-'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * A running sshd, or null after one line saying that `what` is skipped and why: it needs Debian's openssh-server
 * and openssh-client, and root (sshd runs as root; the tests log in as root).
 */
export async function startSshd(what: string): Promise<Sshd | null> {
  const sshd = systemPath('/usr/sbin/sshd');
  const missing = [sshd, systemPath('/usr/bin/ssh'), systemPath('/usr/bin/ssh-keygen')].find((f) => !fs.existsSync(f));
  const why = missing ? `${missing} is missing` : process.getuid?.() !== 0 ? 'sshd needs root' : null;
  if (why) {
    console.log(`skipped: ${what}: ${why}`);
    return null;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalab-sshd-'));
  const file = (name: string) => path.join(dir, name);
  for (const key of ['host_key', 'client_key'])
    execFileSync(systemPath('/usr/bin/ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', file(key)]);
  fs.copyFileSync(file('client_key.pub'), file('authorized_keys'));
  // The privilege separation folder sshd insists on (the package's service makes it at boot).
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const port = await freePort();
  fs.writeFileSync(
    file('sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${file('host_key')}`,
      `PidFile ${file('sshd.pid')}`,
      `AuthorizedKeysFile ${file('authorized_keys')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding local',
      'X11Forwarding no',
      'PrintMotd no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', file('sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    child.kill();
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await banner(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`sshd did not start: ${log.trim() || `exit code ${child.exitCode}`}`);
    }
    await delay(100);
  }
  return {
    port,
    options: [
      'StrictHostKeyChecking=no',
      'UserKnownHostsFile=/dev/null',
      `IdentityFile=${file('client_key')}`,
      'IdentitiesOnly=yes',
      `Port=${port}`,
      'BatchMode=yes',
      'LogLevel=ERROR',
    ],
    log: () => log,
    stop,
  };
}
