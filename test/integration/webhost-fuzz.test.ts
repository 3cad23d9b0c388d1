// The web host against hostile frames: bad frames close only their connection (with a reason, logged), requests
// for anything but a LabApi method or with wrong arguments are answered with an error naming it, and a run keeps
// training throughout. Property-based (fast-check, fixed seed, bounded time) over random and mutated frames.
import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LAB_API_METHODS, labApiArgs, type LabApi } from '../../shared/api';
import { expandExperiment } from '../../shared/spec';
import { databaseFile, rendererDir } from '../../main/services/paths';
import type { Lab } from '../../main/services/lab';
import { hostLogFile } from '../../main/web/hostLog';
import { startWebHost, type WebHost } from '../../main/web/server';
import { testLab } from '../helpers/lab';
import { tinySpec } from '../helpers/specs';
import { tempDir } from '../helpers/tmp';

let home: string;
let lab: Lab;
let host: WebHost;

beforeEach(async () => {
  home = tempDir();
  ({ lab } = testLab(home, 1));
  host = await startWebHost({ lab, rendererDir: rendererDir() });
});
afterEach(async () => {
  await host.close();
  await lab.close();
});

interface Answer {
  t: string;
  i: string;
  r?: unknown;
  e?: { name: string; message: string };
}
interface Exchange {
  answers: Answer[];
  closed: { code: number; reason: string } | null;
}

const PROBE = 'fuzz-probe-7f3a';

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc?token=${host.token}`);
    ws.on('error', () => undefined);
    ws.once('open', () => resolve(ws));
    ws.once('close', () => reject(new Error('the host refused the connection')));
  });
}

/** Sends `frame` and then a getInfo probe on a fresh connection; ends at the probe's answer or the close. */
/**
 * Sends a frame, then a probe; done at the probe's answer, or a close. Answers may come in any order (getSeries
 * answers from a reader thread), so a text frame that should be answered is also waited for.
 */
async function exchange(frame: string | Buffer, binary = false): Promise<Exchange> {
  const e = typeof frame === 'string' && !binary ? expected(frame) : null;
  const awaited = e?.kind === 'answered' ? e.id : null;
  const ws = await open();
  return new Promise((resolve, reject) => {
    const answers: Answer[] = [];
    const timer = setTimeout(
      () => reject(new Error(`no answer and no close for ${String(frame).slice(0, 80)}`)),
      10_000,
    );
    const done = (closed: Exchange['closed']) => {
      clearTimeout(timer);
      ws.removeAllListeners('close');
      ws.close();
      // Pushed run events (t: 'q') are not answers.
      resolve({ answers: answers.filter((a) => a.t === 's' && a.i !== PROBE), closed });
    };
    ws.on('message', (d) => {
      const answer = JSON.parse(d.toString()) as Answer;
      answers.push(answer);
      const answered = (id: string) => answers.some((a) => a.t === 's' && a.i === id);
      if (answered(PROBE) && (awaited === null || answered(awaited))) done(null);
    });
    ws.on('close', (code, reason) => done({ code, reason: reason.toString() }));
    ws.send(frame, { binary });
    ws.send(JSON.stringify({ t: 'q', i: PROBE, m: 'getInfo', a: [] }));
  });
}

/** What the protocol says should happen to a text frame. */
type Expected =
  | { kind: 'closed' }
  | { kind: 'ignored' }
  | { kind: 'answered'; id: string; method: unknown; args: unknown };

function expected(text: string): Expected {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { kind: 'closed' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { kind: 'closed' };
  const msg = v as Record<string, unknown>;
  if (typeof msg.i !== 'string' || !msg.i || msg.i.length > 64) return { kind: 'closed' };
  if (msg.t === 's') return { kind: 'ignored' };
  if (msg.t !== 'q') return { kind: 'closed' };
  return { kind: 'answered', id: msg.i, method: msg.m, args: msg.a ?? [] };
}

const isMethod = (m: unknown): m is keyof LabApi =>
  typeof m === 'string' && LAB_API_METHODS.includes(m as keyof LabApi);

/** Requests that would change or heavily load the lab if their arguments were valid: kept out of the fuzzing. */
function harmful(text: string): boolean {
  const e = expected(text);
  if (e.kind !== 'answered' || !isMethod(e.method) || !Array.isArray(e.args)) return false;
  if (e.method === 'createExperiment' || e.method === 'planExperiment')
    return e.args.length === 1 && expandExperiment(e.args[0]).ok;
  return (
    ['deleteExperiment', 'deleteRun', 'cancelRun', 'retryRun'].includes(e.method) &&
    labApiArgs[e.method].safeParse(e.args).success
  );
}

/** Checks one frame's outcome against the protocol. */
function check(text: string, { answers, closed }: Exchange): void {
  const e = expected(text);
  if (e.kind === 'closed') {
    expect(closed?.code).toBe(1007);
    expect(closed?.reason).not.toBe('');
    expect(answers).toEqual([]);
    return;
  }
  expect(closed).toBeNull();
  if (e.kind === 'ignored') {
    expect(answers).toEqual([]);
    return;
  }
  expect(answers.map((a) => a.i)).toEqual([e.id]);
  const error = answers[0].e;
  if (!isMethod(e.method)) {
    expect(error?.message.startsWith('unknown method '), error?.message).toBe(true);
  } else if (!Array.isArray(e.args) || !labApiArgs[e.method].safeParse(e.args).success) {
    expect(error?.message.startsWith(`${e.method}`), error?.message).toBe(true);
  } else if (error) {
    expect(['LabError', 'SpecError']).toContain(error.name);
  }
}

const INHERITED = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf', 'isPrototypeOf', 'then'];
const BASE_REQUESTS: [keyof LabApi, unknown[]][] = [
  ['getInfo', []],
  ['getRun', [1]],
  ['listRuns', [{ experimentId: 1 }]],
  ['getSeries', [[1], ['loss'], { maxPoints: 10 }]],
  ['exportRuns', ['r1', 'csv']],
  ['updateExperiment', [{ id: 1, notes: 'fuzz' }]],
  ['validateSpec', [tinySpec()]],
  ['createExperiment', [{ ...tinySpec(), training: { steps: -1 } }]],
];

const request = fc.record({
  t: fc.constant('q'),
  i: fc.string({ minLength: 1, maxLength: 8 }),
  m: fc.oneof(fc.constantFrom(...LAB_API_METHODS, ...INHERITED), fc.jsonValue()),
  a: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }),
});

/** A valid request with one field replaced or dropped, or its text cut or spliced. */
const mutated = fc
  .tuple(fc.constantFrom(...BASE_REQUESTS), fc.string({ minLength: 1, maxLength: 8 }))
  .chain(([[m, a], i]) => {
    const base: Record<string, unknown> = { t: 'q', i, m, a };
    const text = JSON.stringify(base);
    return fc.oneof(
      fc
        .tuple(fc.constantFrom('t', 'i', 'm', 'a'), fc.option(fc.jsonValue({ maxDepth: 3 })))
        .map(([key, value]) => JSON.stringify({ ...base, [key]: value ?? undefined })),
      fc
        .tuple(fc.nat({ max: Math.max(0, a.length - 1) }), fc.jsonValue({ maxDepth: 3 }))
        .map(([k, value]) => JSON.stringify({ ...base, a: a.map((x, j) => (j === k ? value : x)) })),
      fc.nat({ max: text.length - 1 }).map((n) => text.slice(0, n)),
      fc
        .tuple(fc.nat({ max: text.length }), fc.string({ unit: 'binary', maxLength: 3 }))
        .map(([n, s]) => text.slice(0, n) + s + text.slice(n)),
    );
  });

const textFrame = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
    request.map((r) => JSON.stringify(r)),
    mutated,
  )
  .filter((text) => !harmful(text));

async function startLongRun(): Promise<number> {
  const { runIds } = await lab.createExperiment(tinySpec({ training: { steps: 600, batchSize: 16 } }));
  return runIds[0];
}

async function finished(runId: number): Promise<string> {
  for (let t = 0; t < 600; t++) {
    const { status } = await lab.getRun(runId);
    if (!['queued', 'running', 'stalled'].includes(status)) return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  return 'still running';
}

describe('web host under hostile frames', () => {
  it('closes only the connection of a bad frame, with a reason, logs it, and keeps serving and training', async () => {
    const runId = await startLongRun();
    const healthy = await open();
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    const cases: [string | Buffer, boolean, number][] = [
      ['', false, 1007],
      ['not json', false, 1007],
      ['null', false, 1007],
      ['42', false, 1007],
      ['{}', false, 1007],
      ['{"t":"q","m":"getInfo","a":[]}', false, 1007],
      [invalidUtf8, false, 1007],
      [Buffer.from('{"t":"q"}'), true, 1003],
      ['x'.repeat(16 * 1024 * 1024 + 1), false, 1009],
    ];
    for (const [frame, binary, code] of cases) {
      const { closed, answers } = await exchange(frame, binary);
      expect(answers).toEqual([]);
      expect(closed?.code, String(frame).slice(0, 20)).toBe(code);
      expect(closed?.reason).toMatch(/\w/);
    }
    const log = fs.readFileSync(hostLogFile(home), 'utf8').trim().split('\n');
    expect(log).toHaveLength(cases.length);
    for (const line of log) expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z connection \d+: closed/);
    expect(log.join('\n')).toContain('invalid JSON');
    expect(log.join('\n')).toContain('Max payload size exceeded');

    // The other connection and the run went on.
    const probe = new Promise<string>((resolve) => healthy.once('message', (d) => resolve(d.toString())));
    healthy.send(JSON.stringify({ t: 'q', i: '1', m: 'getRun', a: [runId] }));
    expect(JSON.parse(await probe)).toMatchObject({ i: '1', r: { id: runId } });
    healthy.close();
    expect(await finished(runId)).toBe('finished');
  });

  it('answers only LabApi methods, and names the method and its arguments when they are wrong', async () => {
    const ask = async (m: unknown, a: unknown[]) => {
      const { answers, closed } = await exchange(JSON.stringify({ t: 'q', i: 'x', m, a }));
      expect(closed).toBeNull();
      return answers[0].e?.message;
    };
    for (const m of INHERITED) expect(await ask(m, [])).toBe(`unknown method "${m}"`);
    expect(await ask({ toString: 1 }, [])).toBe('unknown method {"toString":1}');
    expect(await ask('getRun', [])).toBe('getRun takes 1 argument (id), got 0');
    expect(await ask('getInfo', [1])).toBe('getInfo takes no arguments, got 1');
    expect(await ask('listRuns', [{}, 2])).toBe('listRuns takes at most 1 argument (filter?), got 2');
    expect(await ask('getSeries', [[1]])).toBe('getSeries takes 2 to 3 arguments (runIds, keys, options?), got 1');
    expect(await ask('exportRuns', ['r1', 'xml'])).toMatch(/^exportRuns: argument 2 \(format\): /);
    expect(await ask('getRun', { 0: 1 } as never)).toBe('getRun: the arguments "a" must be an array');
  });

  it('survives random and mutated frames, answering each request with an error naming the method', async () => {
    const runId = await startLongRun();
    await fc.assert(
      fc.asyncProperty(textFrame, async (text) => check(text, await exchange(text))),
      { seed: 20240611, numRuns: 1000, interruptAfterTimeLimit: 15_000 },
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 24 }), async (bytes) => {
        const buf = Buffer.from(bytes);
        const outcome = await exchange(buf);
        if (isUtf8(buf)) {
          const text = buf.toString();
          if (!harmful(text)) check(text, outcome);
        } else expect(outcome.closed?.code).toBe(1007);
      }),
      { seed: 7, numRuns: 200, interruptAfterTimeLimit: 5_000 },
    );
    expect(await finished(runId)).toBe('finished');

    // Nothing half-written: the one experiment, whole, and a sound database.
    const experiments = await lab.listExperiments();
    expect(experiments.map((e) => e.runCount)).toEqual([1]);
    expect(await lab.listRuns()).toHaveLength(1);
    const db = new Database(databaseFile(home), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  }, 120_000);
});
