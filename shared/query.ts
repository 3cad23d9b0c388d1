// The runs query language, the same in the page's search box and in `metalab runs --where`:
//
//   query      := or
//   or         := and ('or' and)*
//   and        := unary ('and' unary)*
//   unary      := 'not' unary | '(' or ')' | comparison
//   comparison := field op value          op: = != < <= > >= ~ (~: contains, ignoring case)
//   value      := number | word | "quoted" | 'quoted'
//
// Keywords ignore case. A field is a run field (RUN_FIELDS), a summary figure key or a dotted spec path, matched
// ignoring case, or by a unique ending (`numTasks` for `task.numTasks`). A number compares as a number with a
// number, anything else compares as text ignoring case; a field with several values (tags) matches if any does.
// A field whose values have an order (the phase: none < memorize < task ID < learn) is ordered by it.
// A run without the field matches only `!=`, the negation of `=`.
import type { Run } from './api.js';
import { PHASE_SHORT, flatten, type Leaf } from './figures/data.js';
import { formatTime, runSeconds } from './figures/format.js';
import { PHASE_LABELS, type Phase } from './results.js';

export const OPERATORS = ['=', '!=', '<', '<=', '>', '>=', '~'] as const;
export type Operator = (typeof OPERATORS)[number];

/** A value as written: its text, and its number where it is an unquoted number. */
export interface Literal {
  text: string;
  number: number | null;
}

export type Query =
  | { kind: 'and' | 'or'; left: Query; right: Query }
  | { kind: 'not'; operand: Query }
  | { kind: 'compare'; field: string; op: Operator; value: Literal; position: number; order?: readonly string[] };

/** What is wrong with a query: `position` is the 0-based index of the offending character. */
export interface QueryError {
  message: string;
  position: number;
}

export type QueryResult = { ok: true; query: Query } | { ok: false; error: QueryError };

interface Token {
  kind: 'word' | 'string' | 'op' | '(' | ')' | 'end';
  text: string;
  position: number;
}

class Failure extends Error {
  constructor(
    readonly position: number,
    text: string,
  ) {
    super(`column ${position + 1}: ${text}`);
  }
}

/** Characters that end a word: spaces, parentheses, quotes and operators. */
const WORD = /[^\s()"'=!<>~]+/y;
const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const OPERATOR = /!=|<=|>=|=|<|>|~/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) i++;
    else if (c === '(' || c === ')') tokens.push({ kind: c, text: c, position: i++ });
    else if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw new Failure(i, `expected a closing ${c} for the text that starts here`);
      tokens.push({ kind: 'string', text: text.slice(i + 1, end), position: i });
      i = end + 1;
    } else {
      const op = match(OPERATOR, text, i);
      const word = op ? null : match(WORD, text, i);
      if (!op && !word) throw new Failure(i, `expected an operator (${OPERATORS.join(' ')}), found '${c}'`);
      tokens.push(op ? { kind: 'op', text: op, position: i } : { kind: 'word', text: word!, position: i });
      i += (op ?? word!).length;
    }
  }
  tokens.push({ kind: 'end', text: '', position: text.length });
  return tokens;
}

function match(re: RegExp, text: string, at: number): string | null {
  re.lastIndex = at;
  return re.exec(text)?.[0] ?? null;
}

const KEYWORDS = ['and', 'or', 'not'];
/** Whether a token is the keyword, or (without one) any keyword. */
const isKeyword = (t: Token, word?: string) =>
  t.kind === 'word' && (word ? [word] : KEYWORDS).includes(t.text.toLowerCase());
const found = (t: Token) => (t.kind === 'end' ? 'the end of the query' : `'${t.text}'`);

function parseTokens(tokens: Token[]): Query {
  let at = 0;
  const peek = () => tokens[at];
  const fail = (expected: string): never => {
    throw new Failure(peek().position, `expected ${expected}, found ${found(peek())}`);
  };
  const binary = (kind: 'and' | 'or', operand: () => Query) => (): Query => {
    let left = operand();
    while (isKeyword(peek(), kind)) {
      at++;
      left = { kind, left, right: operand() };
    }
    return left;
  };
  const unary = (): Query => {
    const t = peek();
    if (isKeyword(t, 'not')) {
      at++;
      return { kind: 'not', operand: unary() };
    }
    if (t.kind === '(') {
      at++;
      const inner = or();
      if (peek().kind !== ')') fail(`')' to close the '(' at column ${t.position + 1}`);
      at++;
      return inner;
    }
    return comparison();
  };
  const comparison = (): Query => {
    const field = peek();
    if (field.kind !== 'word' || isKeyword(field)) fail("a field name, 'not' or '('");
    at++;
    if (peek().kind !== 'op') fail(`an operator (${OPERATORS.join(' ')}) after '${field.text}'`);
    const op = tokens[at++].text as Operator;
    const value = peek();
    // A keyword as a value is quoted: `x = and` is more likely a value left out.
    if (value.kind !== 'string' && (value.kind !== 'word' || isKeyword(value)))
      fail(`a value after '${op}' (a number, a word or "text")`);
    at++;
    const number = value.kind === 'word' && NUMBER.test(value.text) ? Number(value.text) : null;
    return { kind: 'compare', field: field.text, op, value: { text: value.text, number }, position: field.position };
  };
  const or = binary('or', binary('and', unary));
  const query = or();
  if (peek().kind !== 'end') fail("'and', 'or' or the end of the query");
  return query;
}

/** Parses a query; never throws: a malformed one gives the position and what was expected there. */
export function parseQuery(text: string): QueryResult {
  return attempt(() => parseTokens(tokenize(text)));
}

/** A query built by `build`, or the Failure it threw as an error. */
function attempt(build: () => Query): QueryResult {
  try {
    return { ok: true, query: build() };
  } catch (err) {
    if (!(err instanceof Failure)) throw err;
    return { ok: false, error: { message: err.message, position: err.position } };
  }
}

/** Text with an operator is a query; other text is a plain search (the page's free-text filter). */
export const looksLikeQuery = (text: string): boolean => /[=<>~]/.test(text);

/** The query with each comparison changed by `f`. */
function mapComparisons(q: Query, f: (c: Extract<Query, { kind: 'compare' }>) => Query): Query {
  if (q.kind === 'compare') return f(q);
  if (q.kind === 'not') return { kind: 'not', operand: mapComparisons(q.operand, f) };
  return { kind: q.kind, left: mapComparisons(q.left, f), right: mapComparisons(q.right, f) };
}

/**
 * The known field a name means: itself ignoring case, else the one field it ends (after a '.' or '/');
 * an error for a name that fits none or several.
 */
export function resolveField(name: string, known: readonly string[]): { field: string } | { error: string } {
  const lower = name.toLowerCase();
  const exact = known.find((k) => k.toLowerCase() === lower);
  if (exact) return { field: exact };
  const endings = known.filter((k) => ['.', '/'].some((sep) => k.toLowerCase().endsWith(sep + lower)));
  if (endings.length === 1) return { field: endings[0] };
  if (endings.length) return { error: `ambiguous field '${name}': ${endings.join(', ')}` };
  return { error: `unknown field '${name}' (no run has it)` };
}

/** The query with its fields named as in `known`. */
export function resolveFields(query: Query, known: readonly string[]): QueryResult {
  return attempt(() =>
    mapComparisons(query, (c) => {
      const r = resolveField(c.field, known);
      if ('error' in r) throw new Failure(c.position, r.error);
      return { ...c, field: r.field };
    }),
  );
}

export type FieldValue = Leaf | readonly Leaf[] | undefined;

/** `order`: the field's values in order, where `lit.number` is the literal's place in it (compileRunQuery). */
function compare(v: Leaf, op: Operator, lit: Literal, order?: readonly string[]): boolean {
  if (v === null) return false;
  const text = String(v).toLowerCase();
  const want = lit.text.toLowerCase();
  if (op === '~') return text.includes(want);
  if (order && op !== '=') {
    const place = order.indexOf(String(v));
    return place >= 0 && ordered(place, op, lit.number!);
  }
  const numeric = typeof v === 'number' && lit.number !== null;
  if (op === '=') return numeric ? v === lit.number : text === want;
  // Ordering: numbers with numbers, text with text (dates as written, 2026-12-03 08:14, order as text).
  if (!numeric && (typeof v === 'number' || lit.number !== null)) return false;
  return numeric ? ordered(v as number, op, lit.number!) : ordered(text, op, want);
}

function ordered<T extends number | string>(a: T, op: Operator, b: T): boolean {
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

/** Whether a record (a field's value by name) satisfies the query. */
export function evaluate(query: Query, value: (field: string) => FieldValue): boolean {
  switch (query.kind) {
    case 'and':
      return evaluate(query.left, value) && evaluate(query.right, value);
    case 'or':
      return evaluate(query.left, value) || evaluate(query.right, value);
    case 'not':
      return !evaluate(query.operand, value);
    case 'compare': {
      const v = value(query.field);
      const values = v === undefined ? [] : Array.isArray(v) ? v : [v as Leaf];
      if (query.op === '!=') return !values.some((x) => compare(x, '=', query.value));
      return values.some((x) => compare(x, query.op, query.value, query.order));
    }
  }
}

/** What a run's record is built from beyond the run: its experiment's tags, and what the page knows live. */
export interface RunContext {
  tags: readonly string[];
  /** The phase of a run still training (its latest evaluation); else the summary's. */
  phase?: Phase | null;
  /** Latest evaluation figures of a run without a summary. */
  figures?: Readonly<Record<string, number | null>>;
  now: number;
}

interface RunField {
  description: string;
  value(run: Run, context: RunContext): FieldValue;
  /** The value a literal stands for in this field (a phase's short name for its label). */
  literal?(lit: Literal): Literal;
  /** The field's values in order, for < <= > >= (which then refuse a value not among them). */
  order?: readonly string[];
}

/** A phase named by its label, its short name, or the start of either. */
function phaseLiteral(lit: Literal): Literal {
  const t = lit.text.toLowerCase();
  const names = PHASE_LABELS.map((label, i) => [label, PHASE_SHORT[i]].map((n) => n.toLowerCase()));
  const hits = names.flatMap((n, i) => (n.some((x) => x.startsWith(t)) ? [i] : []));
  const exact = names.findIndex((n) => n.includes(t));
  const i = exact >= 0 ? exact : hits.length === 1 ? hits[0] : -1;
  return i < 0 ? lit : { text: PHASE_LABELS[i], number: null };
}

const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A duration as seconds, or with a unit: 90s, 10m, 1.5h, 2d. */
function durationLiteral(lit: Literal): Literal {
  const m = /^(\d+\.?\d*)(s|m|h|d)$/i.exec(lit.text);
  return m ? { ...lit, number: Number(m[1]) * SECONDS[m[2].toLowerCase()] } : lit;
}

/** The fields of a run itself; they come before spec paths and figures of the same name. */
export const RUN_FIELDS: Record<string, RunField> = {
  id: {
    description: 'the run id (12 or r12)',
    value: (run) => run.id,
    literal: (lit) => (/^r\d+$/i.test(lit.text) ? { ...lit, number: Number(lit.text.slice(1)) } : lit),
  },
  experiment: {
    description: "the experiment's id (e3) and name",
    value: (r) => [`e${r.experimentId}`, r.experimentName],
  },
  status: { description: 'queued, running, finished, failed, …', value: (run) => run.status },
  phase: {
    description: 'the phase: its label, short name or the start of either; ordered none < memorize < task ID < learn',
    value: (run, c) => (c.phase !== undefined ? c.phase : (run.summary?.phase ?? null)),
    literal: phaseLiteral,
    order: PHASE_LABELS,
  },
  backend: { description: 'the backend the run trained on', value: (run) => run.backend },
  executor: { description: 'where the run trains: local (this machine) or slurm', value: (run) => run.executor },
  slurm: {
    description: 'what SLURM says of the run: PENDING (JobArrayTaskLimit), RUNNING on node1, TIMEOUT, …',
    value: (run) => run.slurm?.state ?? null,
  },
  tag: { description: "any of the experiment's tags", value: (_, c) => c.tags },
  duration: {
    description: 'seconds from start to end, or until now (or 90s, 10m, 2h)',
    value: (run, c) => runSeconds(run, c.now),
    literal: durationLiteral,
  },
  created: { description: 'when it was created (2026-12-03 08:14)', value: (run) => time(run.createdAt) },
  started: { description: 'when it started (2026-12-03 08:14)', value: (run) => time(run.startedAt) },
  finished: { description: 'when it ended (2026-12-03 08:14)', value: (run) => time(run.finishedAt) },
};

const time = (ms: number | null) => (ms === null ? null : formatTime(ms));

export type RunRecord = ReadonlyMap<string, FieldValue>;

/** A run as one record: its run fields, then its summary figures, then its spec's dotted paths. */
export function runRecord(run: Run, context: RunContext): RunRecord {
  const record = new Map<string, FieldValue>(Object.entries(flatten(run.spec)));
  for (const [k, v] of Object.entries(run.summary?.figures ?? context.figures ?? {})) record.set(k, v);
  for (const [k, f] of Object.entries(RUN_FIELDS)) record.set(k, f.value(run, context));
  return record;
}

/** Every field the records have, sorted. */
export function fieldsOf(records: Iterable<RunRecord>): string[] {
  const names = new Set(Object.keys(RUN_FIELDS));
  for (const r of records) for (const k of r.keys()) names.add(k);
  return [...names].sort();
}

/** Parses a query over runs: fields resolved among `known`, literals as their fields read them. */
export function compileRunQuery(text: string, known: readonly string[]): QueryResult {
  const parsed = parseQuery(text);
  if (!parsed.ok) return parsed;
  const resolved = resolveFields(parsed.query, known);
  if (!resolved.ok) return resolved;
  const literal = (c: Extract<Query, { kind: 'compare' }>): Query => {
    const field = Object.hasOwn(RUN_FIELDS, c.field) ? RUN_FIELDS[c.field] : undefined;
    const value = field?.literal && c.op !== '~' ? field.literal(c.value) : c.value;
    const { order } = field ?? {};
    if (!order || c.op === '=' || c.op === '!=' || c.op === '~') return { ...c, value };
    const place = order.indexOf(value.text);
    if (place < 0)
      throw new Failure(
        c.position,
        `'${c.value.text}' is not a ${c.field} to order by (${c.field}s: ${order.join(', ')})`,
      );
    return { ...c, value: { ...value, number: place }, order };
  };
  return attempt(() => mapComparisons(resolved.query, literal));
}

/** Whether a record (a run's, from runRecord) satisfies the query. */
export function matchesRecord(query: Query, record: RunRecord): boolean {
  return evaluate(query, (f) => record.get(f));
}
