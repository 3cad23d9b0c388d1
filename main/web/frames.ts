// What a message from a page may be (a WebSocket frame, or a MessagePort message in Electron): a birpc request
// for a LabApi method (answered), or a reply.
// Anything else is refused before birpc sees it: it would throw inside birpc's handler, or reach
// members of the method table that are not LabApi methods.
import { LabError } from '../../shared/api.js';
import { decode } from '../../shared/wire.js';
import { isLabApiMethod } from '../services/guard.js';

/** The birpc messages the host accepts: a request with an id (`t: 'q'`), or a reply to one of its calls. */
export type RpcMessage =
  | { t: 'q'; i: string; m: string; a: unknown[] }
  | { t: 's'; i: string; r?: unknown; e?: unknown };

export type Frame =
  /** For birpc. */
  | { kind: 'message'; message: RpcMessage }
  /** A request that gets this error as its answer. */
  | { kind: 'refused'; id: string; error: LabError }
  /** Not a message of this protocol: the connection is closed (`reason` short; `detail` for the log). */
  | { kind: 'invalid'; reason: string; detail: string };

const MAX_ID_LENGTH = 64;

/** A value as it appears in a message, cut short. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A WebSocket frame: JSON text holding one message (see checkMessage). */
export function parseFrame(text: string): Frame {
  let value: unknown;
  try {
    value = decode(text);
  } catch (err) {
    return { kind: 'invalid', reason: 'invalid JSON', detail: (err as Error).message };
  }
  return checkMessage(value);
}

/** A message as a host receives it (parsed from a frame, or structured-cloned over Electron's MessagePort). */
export function checkMessage(value: unknown): Frame {
  const invalid = (reason: string): Frame => ({ kind: 'invalid', reason, detail: shown(value) });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('not an RPC message');
  const msg = value as Record<string, unknown>;
  if (typeof msg.i !== 'string' || !msg.i || msg.i.length > MAX_ID_LENGTH)
    return invalid('not an RPC message: no valid id "i"');
  if (msg.t === 's') return { kind: 'message', message: { t: 's', i: msg.i, r: msg.r, e: msg.e } };
  if (msg.t !== 'q') return invalid('not an RPC message: "t" is not "q" or "s"');
  const refuse = (message: string): Frame => ({ kind: 'refused', id: msg.i as string, error: new LabError(message) });
  if (!isLabApiMethod(msg.m)) return refuse(`unknown method ${shown(msg.m)}`);
  if (msg.a !== undefined && !Array.isArray(msg.a)) return refuse(`${msg.m}: the arguments "a" must be an array`);
  return { kind: 'message', message: { t: 'q', i: msg.i, m: msg.m, a: msg.a ?? [] } };
}
