// `metalab connect [user@]host`: the lab that `metalab serve` serves on another machine (bound to 127.0.0.1 there),
// reached through an OpenSSH tunnel that stays open until Ctrl+C.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ADDRESS_FILE, type Address, parseAddress } from '../web/address.js';
import { UsageError } from './args.js';

export const CONNECT_USAGE = [
  '  metalab connect [user@]host [--remote-home PATH] [--port N] [--ssh-option OPT]... [--open]',
  '                               reach the lab `metalab serve` serves on host through an SSH tunnel',
  "                               (OpenSSH's ssh) and print its local address (--open: in the browser",
  "                               too) until Ctrl+C. PATH: its data folder there (default: metalab's",
  "                               default there; '~/lab' is under that user's home), N: the local port",
  "                               (default: the lab's own where free), OPT: an ssh -o option",
  '                               (Port=2222, IdentityFile=~/.ssh/cluster)',
].join('\n');

/**
 * Before the user's options, so that they stay (ssh takes each option's first value); the tunnel is its own
 * connection, so that stopping it closes the forward even where ssh_config shares connections.
 */
const TUNNEL_FIRST = ['ExitOnForwardFailure=yes', 'ControlPath=none'];
/** After the user's options: they may change these. */
const DEFAULTS = ['ConnectTimeout=20', 'ServerAliveInterval=15', 'ServerAliveCountMax=3'];

/** How long the lab may take to answer once the tunnel's port is open (the remote end may need a moment). */
const ANSWER_WITHIN_MS = 10_000;

interface ConnectOptions {
  destination: string;
  remoteHome?: string;
  port?: number;
  sshOptions: string[];
  open: boolean;
}

/** parseArgs' errors (an unknown option, a missing value) as usage errors. */
function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function parseConnectArgs(args: string[]): ConnectOptions {
  const options = {
    'remote-home': { type: 'string' },
    port: { type: 'string' },
    'ssh-option': { type: 'string', multiple: true },
    open: { type: 'boolean', default: false },
  } as const;
  const { values, positionals } = asUsage(() => parseArgs({ args, allowPositionals: true, options }));
  if (positionals.length !== 1 || !/^[^\s-]\S*$/.test(positionals[0]))
    throw new UsageError('metalab connect takes one [user@]host');
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535))
    throw new UsageError(`--port must be 1..65535, not '${values.port}'`);
  const sshOptions = values['ssh-option'] ?? [];
  const wrong = sshOptions.find((o) => !/^[A-Za-z]\w*\s*[= ]\s*\S/.test(o));
  if (wrong !== undefined) throw new UsageError(`--ssh-option takes an ssh option such as Port=2222, not '${wrong}'`);
  return { destination: positionals[0], remoteHome: values['remote-home'], port, sshOptions, open: values.open };
}

const sshArgs = (first: string[], user: string[]) => [...first, ...user, ...DEFAULTS].flatMap((o) => ['-o', o]);

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** A folder as a word for the remote POSIX shell: `~` and `~/...` are under that user's home, the rest literal. */
function remoteFolder(folder: string): string {
  if (folder === '~') return '"$HOME"';
  return folder.startsWith('~/') ? `"$HOME"/${quote(folder.slice(2))}` : quote(folder);
}

/**
 * Run by `sh -s` on the remote host, whatever its login shell: prints the data folder (metalab's default as
 * main/services/paths.ts finds it, unless given), then the address file if the `metalab serve` it names still runs.
 */
function lookupScript(home: string | undefined): string {
  const folder =
    home === undefined
      ? [
          'if [ -n "$METALAB_HOME" ]; then home=$METALAB_HOME',
          'elif [ "$(uname)" = Darwin ]; then home="$HOME/Library/Application Support/metalab"',
          'elif [ -n "$XDG_CONFIG_HOME" ]; then home=$XDG_CONFIG_HOME/metalab',
          'else home=$HOME/.config/metalab; fi',
        ].join('\n')
      : `home=${remoteFolder(home)}`;
  return `${folder}
printf 'home %s\\n' "$home"
address=$(cat "$home/${ADDRESS_FILE}" 2>/dev/null) || exit 0
pid=$(printf '%s' "$address" | sed -n 's/.*"pid":\\([0-9][0-9]*\\).*/\\1/p')
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then printf 'serving %s\\n' "$address"; fi
`;
}

/** The last lines of what ssh said, as one line. */
const tail = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-2)
    .join('; ');

/** The address of the lab served on the remote host, or why there is none. */
async function findLab(o: ConnectOptions): Promise<{ address: Address; home: string } | { error: string }> {
  const child = spawn('ssh', [...sshArgs([], o.sshOptions), o.destination, 'sh', '-s'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => undefined); // ssh gave up before reading the script: its exit says why
  child.stdin.end(lookupScript(o.remoteHome));
  const ended = await new Promise<{ code: number | null } | { error: Error }>((resolve) => {
    child.once('error', (error) => resolve({ error }));
    child.once('close', (code) => resolve({ code }));
  });
  if ('error' in ended) return { error: `metalab connect needs OpenSSH's ssh command: ${ended.error.message}` };
  const line = (key: string) =>
    stdout
      .split('\n')
      .find((l) => l.startsWith(`${key} `))
      ?.slice(key.length + 1);
  const home = line('home');
  if (ended.code !== 0 || home === undefined)
    return { error: `ssh ${o.destination} failed: ${tail(stderr) || `exit code ${ended.code}`}` };
  const address = parseAddress(line('serving') ?? '');
  if (!address) {
    const hint = o.remoteHome === undefined ? ' (or name its data folder with --remote-home)' : '';
    return {
      error: `no lab is being served on ${o.destination} from ${home}: start \`metalab serve\` there first${hint}`,
    };
  }
  return { address, home };
}

/** The port if this process could listen on it at 127.0.0.1 (0: any free one), else null. */
function listenable(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(null));
    server.listen(port, '127.0.0.1', () => {
      const free = (server.address() as AddressInfo).port;
      server.close(() => resolve(free));
    });
  });
}

/** The page's HTTP status at 127.0.0.1:port. */
function pageStatus(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: ANSWER_WITHIN_MS }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('timeout', () => req.destroy(new Error('no answer')));
    req.once('error', reject);
  });
}

/**
 * Waits for the page through the tunnel. Refused connections mean ssh has not opened the port yet (it may be
 * asking for a password): waited for as long as ssh runs. Any other failure is the remote end's, given
 * ANSWER_WITHIN_MS to clear.
 */
async function waitForPage(port: number, signal: AbortSignal): Promise<{ ok: true } | { ok: false; why: string }> {
  let failingSince: number | null = null;
  while (!signal.aborted) {
    try {
      const status = await pageStatus(port);
      return status === 200 ? { ok: true } : { ok: false, why: `it answered HTTP ${status}` };
    } catch (err) {
      const { code, message } = err as NodeJS.ErrnoException;
      if (code !== 'ECONNREFUSED') {
        failingSince ??= Date.now();
        if (Date.now() - failingSince > ANSWER_WITHIN_MS) return { ok: false, why: message };
      }
    }
    await delay(200);
  }
  return { ok: false, why: 'stopped' };
}

function openInBrowser(url: string): void {
  const [command, ...args] =
    process.platform === 'darwin'
      ? ['open', url]
      : process.platform === 'win32'
        ? ['cmd', '/c', 'start', '', url]
        : ['xdg-open', url];
  const warn = (why: string) =>
    process.stderr.write(`warning: could not open a browser (${why}); open the address above yourself\n`);
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  child.once('error', (err) => warn(err.message));
  child.once('exit', (code) => code && warn(`${command} exited with code ${code}`));
  child.unref();
}

function fail(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return 1;
}

export async function commandConnect(args: string[]): Promise<number> {
  const o = parseConnectArgs(args);
  const found = await findLab(o);
  if ('error' in found) return fail(found.error);
  const { address, home } = found;
  // The lab's own port where it is free here: the same local address each time, as the desktop app remembers it.
  const local =
    o.port === undefined ? ((await listenable(address.port)) ?? (await listenable(0))) : await listenable(o.port);
  if (local === null) return fail(`local port ${o.port ?? address.port} is in use: choose another with --port`);

  const forward = `127.0.0.1:${local}:127.0.0.1:${address.port}`;
  const tunnel = spawn('ssh', ['-N', '-L', forward, ...sshArgs(TUNNEL_FIRST, o.sshOptions), o.destination], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  tunnel.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const closed = new Promise<string>((resolve) => {
    tunnel.once('error', (err) => resolve(err.message));
    tunnel.once('close', (code, signal) => resolve(signal ? `ssh was stopped by ${signal}` : `ssh exited (${code})`));
  });
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  process.on('SIGINT', stop).on('SIGTERM', stop);
  const ended = Promise.race([
    stopped.then(() => ({ stopped: true }) as const),
    closed.then(async (why) => {
      // Ctrl+C in a terminal reaches ssh as well, and it may end before this process has seen the signal.
      await delay(300);
      return { stopped: false, why: tail(stderr) || why } as const;
    }),
  ]);
  const waiting = new AbortController();
  try {
    const first = await Promise.race([waitForPage(local, waiting.signal), ended]);
    if ('stopped' in first) return first.stopped ? 0 : fail(`the SSH tunnel to ${o.destination} closed: ${first.why}`);
    if (!first.ok) return fail(`the lab on ${o.destination} does not answer through the tunnel: ${first.why}`);
    const url = `http://127.0.0.1:${local}/?token=${address.token}`;
    process.stdout.write(
      `metalab is connected to the lab on ${o.destination} (${home}) at ${url}\n(press Ctrl+C to disconnect)\n`,
    );
    if (o.open) openInBrowser(url);
    const end = await ended;
    return end.stopped ? 0 : fail(`the SSH tunnel to ${o.destination} closed: ${end.why}`);
  } finally {
    waiting.abort();
    process.off('SIGINT', stop).off('SIGTERM', stop);
    if (tunnel.exitCode === null && tunnel.signalCode === null) tunnel.kill();
    await closed;
  }
}
