// The web host: serves the built page and the LabApi over one WebSocket, on 127.0.0.1 only.
// A random token is required for the API; requests from foreign Origins or Hosts (DNS rebinding) are refused.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createBirpc } from 'birpc';
import { WebSocket, WebSocketServer } from 'ws';
import type { LabApi, LabEvents } from '../../shared/api.js';
import { guardedApi } from '../services/guard.js';
import type { Lab } from '../services/lab.js';
import { encode, MAX_FRAME_BYTES } from '../../shared/wire.js';
import { parseFrame, type RpcMessage } from './frames.js';
import { appendHostLog } from './hostLog.js';

export const RPC_PATH = '/rpc';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
};

export interface WebHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export interface WebHostOptions {
  lab: Lab;
  rendererDir: string;
  port?: number;
  token?: string;
}

/** The reason sent with each close code the host uses (RFC 6455 codes). */
const CLOSE_REASONS: Record<number, string> = {
  1002: 'protocol error',
  1003: 'binary frames are not accepted',
  1007: 'invalid frame data',
  1009: `frame over ${MAX_FRAME_BYTES / 2 ** 20} MiB`,
};

/** ws closes a connection itself on a bad frame (too big, invalid UTF-8) with a bare code: this adds the reason. */
class LabSocket extends WebSocket {
  override close(code?: number, reason?: string | Buffer): void {
    super.close(code, reason ?? (code === undefined ? undefined : CLOSE_REASONS[code]));
  }
}

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const token = options.token ?? crypto.randomBytes(24).toString('hex');
  const root = path.resolve(options.rendererDir);
  // A loopback name on any port, as a forwarded port (`metalab connect`'s SSH tunnel) reaches the page; other names
  // are refused (DNS rebinding), and a WebSocket's Origin must be the address the page was loaded from.
  const localHost = (host: string | undefined) => /^(127\.0\.0\.1|localhost):\d{1,5}$/.test(host ?? '');

  const server = http.createServer((req, res) => {
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(body);
    };
    if (!localHost(req.headers.host)) return send(421, 'unknown host');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return send(400, 'bad path');
    }
    if (pathname.includes('\0')) return send(400, 'bad path');
    const file = path.resolve(root, `.${pathname === '/' ? '/index.html' : pathname}`);
    if (file !== root && !file.startsWith(root + path.sep)) return send(403, 'forbidden');
    fs.stat(file, (err, stat) => {
      if (err || !stat.isFile()) return send(404, 'not found');
      res.writeHead(200, {
        'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-length': stat.size,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': pathname.startsWith('/assets/') ? 'max-age=31536000, immutable' : 'no-cache',
      });
      if (req.method === 'HEAD') return res.end();
      fs.createReadStream(file).pipe(res);
    });
  });

  const api = guardedApi(options.lab);
  const { home } = await options.lab.getInfo();
  let connections = 0;
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, WebSocket: LabSocket });
  server.on('upgrade', (req, socket, head) => {
    // The http server drops its error listener from an upgraded socket: a reset must not go unhandled.
    socket.on('error', (err) => appendHostLog(home, `upgrade request: ${err.message}`));
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    };
    if (url.pathname !== RPC_PATH) return refuse('404 Not Found');
    if (!localHost(req.headers.host)) return refuse('421 Misdirected Request');
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return refuse('403 Forbidden');
    if (!sameToken(url.searchParams.get('token'), token)) return refuse('401 Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = ++connections;
      const log = (text: string) => appendHostLog(home, `connection ${connection}: ${text}`);
      // Frames are parsed and checked here (parseFrame); birpc only sees well-formed messages.
      let deliver: (message: RpcMessage) => void = () => undefined;
      const rpc = createBirpc<LabEvents, LabApi>(api, {
        post: (data) => ws.send(data),
        on: (fn) => {
          deliver = fn;
        },
        serialize: encode,
        eventNames: ['event'],
        timeout: 0,
        onGeneralError: (err) => {
          log(`RPC error: ${(err as Error).stack ?? err}`);
          return true;
        },
      });
      const close = (code: number, reason: string, detail: string) => {
        log(`closed (${code} ${reason}): ${detail.replace(/\r?\n/g, '\\n')}`);
        ws.close(code, reason);
      };
      ws.on('message', (data, isBinary) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        if (isBinary) return close(1003, CLOSE_REASONS[1003], 'a binary frame');
        const frame = parseFrame(data.toString());
        if (frame.kind === 'invalid') close(1007, frame.reason, frame.detail);
        else if (frame.kind === 'refused') ws.send(encode({ t: 's', i: frame.id, e: frame.error }));
        else deliver(frame.message);
      });
      // ws has already closed the connection with the error's code (1009 too big, 1007 invalid UTF-8…).
      ws.on('error', (err) => log(`closed: ${err.message}`));
      const unsubscribe = options.lab.subscribe((e) => void rpc.event.asEvent(e).catch(() => undefined));
      ws.on('close', () => {
        unsubscribe();
        rpc.$close();
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
