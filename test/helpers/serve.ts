// `metalab serve` as a child process, and a LabApi client for it over its WebSocket (what the page does).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createBirpc } from 'birpc';
import WebSocket from 'ws';
import type { LabApi, LabEvent, LabEvents } from '../../shared/api';
import { decode, encode } from '../../shared/wire';
import { appRoot } from '../../main/services/paths';

export interface Served {
  child: ChildProcess;
  url: URL;
  exited: Promise<number | null>;
  /** What it has written to stderr so far. */
  stderr(): string;
}

/** Starts `metalab serve` on `home` (with Node options such as `--require`) and resolves once it prints its address. */
export function serve(home: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [...nodeArgs, path.join(appRoot(), 'bin', 'metalab.cjs'), 'serve'], {
    cwd: appRoot(),
    env: { ...process.env, METALAB_HOME: home, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /http:\/\/\S+/.exec(out);
      if (match) resolve({ child, url: new URL(match[0]), exited, stderr: () => stderr });
    });
    void exited.then((code) => reject(new Error(`metalab serve exited (${code}): ${stderr}`)));
  });
}

/** A LabApi over the served lab's WebSocket, with the events it pushes. */
export async function connectTo(url: URL): Promise<{ api: LabApi; events: LabEvent[]; close(): void }> {
  const ws = new WebSocket(`ws://${url.host}/rpc?token=${url.searchParams.get('token')}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const events: LabEvent[] = [];
  const api = createBirpc<LabApi, LabEvents>(
    { event: (e) => void events.push(e) },
    {
      post: (d) => ws.send(d),
      on: (fn) => ws.on('message', (d) => fn(d.toString())),
      serialize: encode,
      deserialize: decode,
    },
  );
  return { api, events, close: () => ws.close() };
}
