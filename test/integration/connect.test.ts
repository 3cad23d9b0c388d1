// `metalab connect` as a user runs it, against a real OpenSSH server on 127.0.0.1 standing in for the remote host:
// it finds the lab `metalab serve` serves there, tunnels to it, and the page and its API answer through the tunnel.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { appRoot } from '../../main/services/paths';
import { addressFile } from '../../main/web/address';
import { metalab } from '../helpers/cli';
import { connectTo, serve } from '../helpers/serve';
import { freePort, type Sshd, startSshd } from '../helpers/sshd';
import { tempDir } from '../helpers/tmp';

let sshd: Sshd | null = null;
beforeAll(async () => {
  sshd = await startSshd('metalab connect through a real SSH server');
});
afterAll(() => sshd?.stop());

const sshOptions = (options: string[]) => options.flatMap((o) => ['--ssh-option', o]);

interface Connecting {
  child: ChildProcess;
  /** The address it prints once the lab answers through the tunnel. */
  address: Promise<URL>;
  exited: Promise<number | null>;
  stderr(): string;
}

/** `metalab connect` running, as it runs until Ctrl+C. */
function startConnect(args: string[], env: Record<string, string> = {}): Connecting {
  const child = spawn(process.execPath, [path.join(appRoot(), 'bin', 'metalab.cjs'), 'connect', ...args], {
    cwd: appRoot(),
    env: { ...process.env, METALAB_HOME: tempDir(), ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = new Promise<URL>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const match = /http:\/\/\S+/.exec(stdout);
      if (match) resolve(new URL(match[0]));
    });
    void exited.then((code) => reject(new Error(`metalab connect exited (${code}): ${stderr}`)));
  });
  return { child, address, exited, stderr: () => stderr };
}

/** The addresses listening on a TCP port of this machine (Linux's /proc), IPv4 and IPv6. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((table) =>
    fs
      .readFileSync(table, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length > 3 && f[1].endsWith(`:${hexPort}`) && f[3] === '0A')
      .map(([, local]) => {
        const hex = local.split(':')[0];
        if (hex.length !== 8) return `[${hex}]`;
        return (hex.match(/../g) ?? [])
          .map((b) => Number.parseInt(b, 16))
          .reverse()
          .join('.');
      }),
  );
}

function openSocket(url: URL, origin: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${url.host}/rpc?token=${url.searchParams.get('token')}`, { origin });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** The pid of a child process of `parent` running `command` (Linux's /proc). */
function childPid(parent: number, command: string): number | undefined {
  for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      // pid (comm) state ppid ...
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/.exec(fs.readFileSync(`/proc/${entry}/stat`, 'utf8').trim()) ?? [];
      if (comm === command && Number(rest?.split(' ')[1]) === parent) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('metalab connect', () => {
  it('serves the page and the API of a remote lab through a tunnel on 127.0.0.1, until Ctrl+C', async (ctx) => {
    if (!sshd) return ctx.skip();
    const home = tempDir();
    const served = await serve(home);
    const token = served.url.searchParams.get('token')!;
    const remotePort = Number(served.url.port);
    try {
      // The serve file: this process's address and token, for its owner only.
      expect(fs.statSync(addressFile(home)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(fs.readFileSync(addressFile(home), 'utf8'))).toEqual({
        port: remotePort,
        token,
        pid: served.child.pid,
      });
      // A browser that xdg-open starts, as --open asks: here it notes the address it was given.
      const bin = tempDir();
      const opened = path.join(bin, 'opened');
      fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
      const connecting = startConnect(
        ['root@127.0.0.1', '--remote-home', home, '--open', ...sshOptions(sshd.options)],
        { PATH: `${bin}:${process.env.PATH}` },
      );
      const url = await connecting.address;
      expect(url.hostname).toBe('127.0.0.1');
      expect(url.searchParams.get('token')).toBe(token);
      // The lab's own port is taken on this machine (by the lab itself): the tunnel took another.
      expect(Number(url.port)).not.toBe(remotePort);
      await expect.poll(() => fs.existsSync(opened) && fs.readFileSync(opened, 'utf8')).toBe(url.href);

      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
      const { api, close } = await connectTo(url);
      expect(await api.getInfo()).toMatchObject({ home, host: 'web' });
      close();
      // As the page opens its WebSocket: from the tunnel's address; a page of another address is refused.
      (await openSocket(url, `http://127.0.0.1:${url.port}`)).close();
      await expect(openSocket(url, `http://127.0.0.1:${remotePort}`)).rejects.toThrow('HTTP 403');

      // The lab still listens on 127.0.0.1 only, and so does the tunnel.
      expect(listeners(remotePort)).toEqual(['127.0.0.1']);
      expect(listeners(Number(url.port))).toEqual(['127.0.0.1']);
      connecting.child.kill('SIGINT');
      expect(await connecting.exited).toBe(0);
      expect(listeners(Number(url.port))).toEqual([]);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      served.child.kill('SIGKILL');
    }
  }, 60_000);

  it('says so in one line when no lab is served there: none, a stopped one, one whose process is gone', async (ctx) => {
    if (!sshd) return ctx.skip();
    const home = tempDir();
    const connect = () =>
      metalab(tempDir(), 'connect', 'root@127.0.0.1', '--remote-home', home, ...sshOptions(sshd!.options));
    const start = 'start `metalab serve` there first';
    const refused = `error: no lab is being served on root@127.0.0.1 from ${home}: ${start}\n`;
    expect(connect()).toMatchObject({ code: 1, stdout: '', stderr: refused });

    // Stopped: the address stays for the next `metalab serve`, without the process.
    const stopped = await serve(home);
    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    const kept = JSON.parse(fs.readFileSync(addressFile(home), 'utf8'));
    expect(kept).toEqual({ port: Number(stopped.url.port), token: stopped.url.searchParams.get('token') });
    expect(connect()).toMatchObject({ code: 1, stderr: refused });

    // Killed: the file still names its process, which is gone.
    const killed = await serve(home);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(JSON.parse(fs.readFileSync(addressFile(home), 'utf8'))).toMatchObject({ pid: killed.child.pid });
    expect(connect()).toMatchObject({ code: 1, stderr: refused });
  }, 60_000);

  it('says why when ssh cannot log in or the tunnel ends; a browser that fails to open is a warning', async (ctx) => {
    if (!sshd) return ctx.skip();
    // The user's options come first and win: nothing listens at this port.
    const closed = await freePort();
    const noServer = metalab(
      tempDir(),
      'connect',
      'root@127.0.0.1',
      ...sshOptions([`Port=${closed}`, ...sshd.options]),
    );
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toMatch(/^error: ssh root@127\.0\.0\.1 failed: .*Connection refused\n$/);

    const home = tempDir();
    const served = await serve(home);
    try {
      const bin = tempDir();
      fs.writeFileSync(path.join(bin, 'xdg-open'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
      const connecting = startConnect(
        ['root@127.0.0.1', '--remote-home', home, '--open', ...sshOptions(sshd.options)],
        {
          PATH: `${bin}:${process.env.PATH}`,
        },
      );
      await connecting.address;
      await expect
        .poll(() => connecting.stderr())
        .toBe('warning: could not open a browser (xdg-open exited with code 3); open the address above yourself\n');
      const ssh = childPid(connecting.child.pid!, 'ssh');
      expect(ssh).toBeDefined();
      process.kill(ssh!, 'SIGKILL');
      expect(await connecting.exited).toBe(1);
      expect(connecting.stderr()).toMatch(
        /error: the SSH tunnel to root@127\.0\.0\.1 closed: ssh was stopped by SIGKILL\n$/,
      );
    } finally {
      served.child.kill('SIGKILL');
    }
  }, 60_000);

  it('refuses wrong arguments with exit code 2', () => {
    const home = tempDir();
    for (const [args, message] of [
      [[], 'metalab connect takes one [user@]host'],
      [['a', 'b'], 'metalab connect takes one [user@]host'],
      [['-oProxyCommand=x'], "Unknown option '-o'"],
      [['host', '--port', '0'], "--port must be 1..65535, not '0'"],
      [
        ['host', '--ssh-option', 'ProxyCommand'],
        "--ssh-option takes an ssh option such as Port=2222, not 'ProxyCommand'",
      ],
      [['host', '--bogus'], "Unknown option '--bogus'"],
    ] as const) {
      const r = metalab(home, 'connect', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`error: ${message}`);
    }
  });
});
