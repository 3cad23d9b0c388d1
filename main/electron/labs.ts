// The labs the desktop app's "Connect to a lab…" reaches: a web host's address (usually the local end of
// `metalab connect`'s tunnel) and its token under a label, remembered in a file readable by its owner only; and
// the small form that asks for them. Electron-free, so that it is tested under Node.
import fs from 'node:fs';
import path from 'node:path';
import { TOKEN_PATTERN } from '../web/address.js';

export interface RemoteLab {
  label: string;
  /** http://127.0.0.1:PORT (or localhost): the web host answers there only. */
  address: string;
  token: string;
}

/** What the form sends: the address, with the token in it (as printed) or apart, and an optional label. */
export interface LabAnswer {
  address?: string;
  token?: string;
  label?: string;
}

/** A lab from what the user typed, or a sentence saying what is wrong with it. */
export function parseLab(answer: LabAnswer): { lab: RemoteLab } | { error: string } {
  const text = answer.address?.trim() ?? '';
  const url = URL.parse(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  if (url?.protocol !== 'http:' || !['127.0.0.1', 'localhost'].includes(url.hostname) || !url.port)
    return {
      error:
        `'${text}' is not a lab's address: give the http://127.0.0.1:PORT address that ` +
        '`metalab connect` or `metalab serve` printed',
    };
  const token = answer.token?.trim() || url.searchParams.get('token') || '';
  if (!TOKEN_PATTERN.test(token))
    return { error: 'the token is the 48 hexadecimal characters after ?token= in the address that metalab printed' };
  const address = `http://${url.hostname}:${url.port}`;
  return { lab: { label: answer.label?.trim() || url.host, address, token } };
}

/** The address that opens the lab's page with its token (the form `metalab serve` prints). */
export const labUrl = (lab: RemoteLab) => `${lab.address}/?token=${lab.token}`;

/** The remembered labs in the order added; a missing or unreadable file holds none, a wrong entry is left out. */
export function readLabs(file: string): RemoteLab[] {
  let saved: unknown;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  if (!saved || typeof saved !== 'object' || Array.isArray(saved)) return [];
  return Object.entries(saved as Record<string, LabAnswer | null>).flatMap(([label, entry]) => {
    const parsed = parseLab({ label, address: entry?.address, token: entry?.token });
    return 'lab' in parsed && parsed.lab.label === label ? [parsed.lab] : [];
  });
}

/** Writes the labs as label → { address, token }, through a new file so that no reader sees half of it. */
function writeLabs(file: string, labs: RemoteLab[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const entries = labs.map(({ label, address, token }) => [label, { address, token }]);
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(Object.fromEntries(entries), null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temp, file);
}

/** Remembers a lab under its label (in place of one of the same label); returns every remembered lab. */
export function rememberLab(file: string, lab: RemoteLab): RemoteLab[] {
  const labs = [...readLabs(file).filter((l) => l.label !== lab.label), lab];
  writeLabs(file, labs);
  return labs;
}

export function forgetLab(file: string, label: string): RemoteLab[] {
  const labs = readLabs(file).filter((l) => l.label !== label);
  writeLabs(file, labs);
  return labs;
}

/**
 * Where the form sends its answer: a name that never resolves (RFC 2606), so the Electron side that catches the
 * navigation is the only one to see it.
 */
export const FORM_ORIGIN = 'https://metalab.invalid';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The form asking for a lab, without script; `error` says what was wrong with the `typed` answer. */
export function labForm(error = '', typed: LabAnswer = {}): string {
  const field = (name: keyof LabAnswer, label: string, extra = '') =>
    `<label for="${name}">${label}</label>` +
    `<input id="${name}" name="${name}" value="${escapeHtml(typed[name] ?? '')}" ${extra}>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect to a lab</title>
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; style-src 'unsafe-inline'; form-action ${FORM_ORIGIN}">
<style>
  :root { color-scheme: light dark; font: 14px system-ui, sans-serif; }
  body { margin: 16px; } label { display: block; margin: 10px 0 3px; } input { width: 100%; box-sizing: border-box; }
  .error { color: #d33; min-height: 1.2em; } .buttons { text-align: right; } button { margin-left: 6px; }
</style></head>
<body><form method="get" action="${FORM_ORIGIN}/connect">
<p>The address <code>metalab connect</code> (or <code>metalab serve</code>) printed, token included.</p>
${field('address', 'Address', 'required autofocus placeholder="http://127.0.0.1:8123/?token=…"')}
${field('token', 'Token, if not in the address')}
${field('label', 'Name in the menu (optional)')}
<p class="error" role="alert">${escapeHtml(error)}</p>
<div class="buttons"><button type="submit" formaction="${FORM_ORIGIN}/cancel" formnovalidate>Cancel</button>
<button type="submit">Connect</button></div>
</form></body></html>`;
}
