// Where `metalab serve` last listened on this data folder, and with which token, so that a restarted host
// answers at the same address and the pages still open on it reconnect by themselves. The file is readable by
// its owner only, like the data it guards.
import fs from 'node:fs';
import path from 'node:path';

interface Address {
  port: number;
  token: string;
}

const file = (home: string) => path.join(home, 'web-host.json');

/** The address remembered for this folder, if any (a missing or unreadable file is none). */
export function rememberedAddress(home: string): Partial<Address> {
  try {
    const saved = JSON.parse(fs.readFileSync(file(home), 'utf8')) as Partial<Address>;
    const port = Number.isInteger(saved.port) ? saved.port : undefined;
    const token = typeof saved.token === 'string' && /^[0-9a-f]{48}$/.test(saved.token) ? saved.token : undefined;
    return { port, token };
  } catch {
    return {};
  }
}

/** Remembers the address; a folder that cannot be written keeps none (the next host gets a new one). */
export function rememberAddress(home: string, address: Address): void {
  try {
    fs.writeFileSync(file(home), JSON.stringify(address), { mode: 0o600 });
  } catch {
    // read-only or full: nothing to remember it in
  }
}
