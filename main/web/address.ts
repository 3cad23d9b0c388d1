// Where `metalab serve` last listened on this data folder, and with which token, so that a restarted host
// answers at the same address and the pages still open on it reconnect by themselves. The file is readable by
// its owner only, like the data it guards. While a host serves, the file also names its process (`pid`):
// `metalab connect` reads it over SSH and trusts it only while that process lives.
import fs from 'node:fs';
import path from 'node:path';

export interface Address {
  port: number;
  token: string;
}

/** The web host's tokens: 24 random bytes in hex. */
export const TOKEN_PATTERN = /^[0-9a-f]{48}$/;

/** The file's name in the data folder. */
export const ADDRESS_FILE = 'web-host.json';

export const addressFile = (home: string) => path.join(home, ADDRESS_FILE);

/** The address in a web-host.json's text, and the serving process if it names one; null if it holds none. */
export function parseAddress(text: string): (Address & { pid?: number }) | null {
  try {
    const saved = JSON.parse(text) as { port?: unknown; token?: unknown; pid?: unknown };
    const { port, token, pid } = saved;
    if (!Number.isInteger(port) || typeof token !== 'string' || !TOKEN_PATTERN.test(token)) return null;
    return { port: port as number, token, ...(Number.isInteger(pid) ? { pid: pid as number } : {}) };
  } catch {
    return null;
  }
}

function read(home: string): ReturnType<typeof parseAddress> {
  try {
    return parseAddress(fs.readFileSync(addressFile(home), 'utf8'));
  } catch {
    return null;
  }
}

/** The address remembered for this folder, if any (a missing or unreadable file is none). */
export function rememberedAddress(home: string): Partial<Address> {
  const saved = read(home);
  return saved ? { port: saved.port, token: saved.token } : {};
}

function write(home: string, content: object): void {
  try {
    fs.writeFileSync(addressFile(home), JSON.stringify(content), { mode: 0o600 });
  } catch {
    // read-only or full: nothing to remember it in
  }
}

/**
 * Remembers the address as served by this process until it exits; then the address stays, without the process
 * (a folder that cannot be written keeps none: the next host gets a new one).
 */
export function rememberAddress(home: string, address: Address): void {
  write(home, { ...address, pid: process.pid });
  process.once('exit', () => {
    // Another host may have taken the folder over since: its entry stays.
    if (read(home)?.pid === process.pid) write(home, address);
  });
}
