// The web host over real sockets: token, Origin and Host checks, static files without path traversal, and the API.
import http from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createBirpc } from 'birpc';
import type { LabApi, LabEvent, LabEvents } from '../../shared/api';
import { decode, encode, toError } from '../../shared/wire';
import { rendererDir } from '../../main/services/paths';
import { startWebHost, type WebHost } from '../../main/web/server';
import { testLab } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

let host: WebHost;
let close: () => Promise<void>;

beforeEach(async () => {
  const { lab } = testLab(tempDir(), 1);
  host = await startWebHost({ lab, rendererDir: rendererDir() });
  close = async () => {
    await host.close();
    await lab.close();
  };
});
afterEach(() => close());

function get(pathname: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // http.get would normalise the path; a raw request path keeps '..' as an attacker would send it.
    const req = http.request(
      { host: '127.0.0.1', port: host.port, path: pathname, headers: { host: `127.0.0.1:${host.port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function connect(query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc${query}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function client(ws: WebSocket, events: LabEvent[] = []) {
  return createBirpc<LabApi, LabEvents>(
    { event: (e) => void events.push(e) },
    {
      post: (d) => ws.send(d),
      on: (fn) => ws.on('message', (d) => fn(d.toString())),
      serialize: encode,
      deserialize: decode,
    },
  );
}

describe('web host', () => {
  it('serves the page and its assets, and nothing outside the renderer folder', async () => {
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body).toContain('<div id="app">');
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(index.body)![1];
    expect((await get(`/${script}`)).status).toBe(200);
    for (const evil of [
      '/../package.json',
      '/..%2fpackage.json',
      '/%2e%2e/%2e%2e/package.json',
      '/assets/../../package.json',
      '/..\\package.json',
      '/%00',
    ]) {
      const res = await get(evil);
      expect([400, 403, 404], evil).toContain(res.status);
      expect(res.body).not.toContain('"name": "metalab"');
    }
    expect((await get('/', { host: 'evil.example:80' })).status).toBe(421);
  });

  it('requires the token and a local Origin for the API', async () => {
    await expect(connect('')).rejects.toThrow('HTTP 401');
    await expect(connect('?token=wrong')).rejects.toThrow('HTTP 401');
    await expect(connect(`?token=${host.token}`, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect(`?token=${host.token}`, { origin: `http://127.0.0.1:${host.port + 1}` })).rejects.toThrow(
      'HTTP 403',
    );
    const ws = await connect(`?token=${host.token}`, { origin: `http://127.0.0.1:${host.port}` });
    ws.close();
  });

  it('answers LabApi calls, validates their arguments, and pushes run events', async () => {
    const ws = await connect(`?token=${host.token}`);
    const events: LabEvent[] = [];
    const rpc = client(ws, events);
    expect((await rpc.getInfo()).host).toBe('web');
    expect(await rpc.validateSpec({ ...tinySpec(), training: { steps: -1 } })).toMatchObject({
      ok: false,
      issues: [{ path: ['training', 'steps'] }],
    });
    await expect(
      rpc.getRun('1; DROP TABLE runs' as never).catch((e: unknown) => Promise.reject(toError(e))),
    ).rejects.toThrow(/getRun: argument 1 \(id\): /);
    await expect(rpc.getSeries([1], [], {}).catch((e: unknown) => Promise.reject(toError(e)))).rejects.toThrow(
      /getSeries: argument 2/,
    );
    await expect(rpc.createExperiment({ model: 1 }).catch((e: unknown) => Promise.reject(toError(e)))).rejects.toThrow(
      /invalid spec: task: .*model/,
    );
    await expect(rpc.getRun(4242).catch((e: unknown) => Promise.reject(toError(e)))).rejects.toThrow(
      'run r4242 does not exist',
    );

    const { runIds } = await rpc.createExperiment(tinySpec());
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (events.some((e) => e.type === 'run-state' && e.runId === runIds[0] && e.status === 'finished')) {
          clearInterval(timer);
          resolve();
        }
      }, 50);
    });
    expect(events.some((e) => e.type === 'run-progress')).toBe(true);
    const [loss] = await rpc.getSeries(runIds, ['loss'], { maxPoints: 10 });
    expect(loss.steps.length).toBeGreaterThan(1);
    expect(loss.steps.length).toBeLessThanOrEqual(10);
    ws.close();
  });
});
