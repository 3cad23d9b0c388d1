// Reads an experiment spec file; problems name the field and its line in the file.
import fs from 'node:fs';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { expandExperiment, formatPath, type SpecIssue } from '../../shared/spec.js';

/** A spec file read and checked against the schema; `locate` turns an issue into `file:line:column: field: message`. */
export type SpecFileResult =
  | { ok: true; spec: object; locate: (issue: SpecIssue) => string }
  | { ok: false; errors: string[] };

/** Deeper than any spec: the JSON parsers recurse per level, and a deep enough file would exhaust the stack. */
const MAX_DEPTH = 256;

/** The offset where the text's arrays and objects nest deeper than MAX_DEPTH (strings skipped), or null. */
function tooDeep(text: string): number | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > MAX_DEPTH) return i;
    } else if (c === ']' || c === '}') depth--;
  }
  return null;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

/**
 * Reads a spec file and checks it against the schema (the lab checks it again, with what only the engine
 * knows, when it is run); `override` fields (e.g. a --backend flag) replace the file's.
 */
export function readSpecFile(file: string, override: Record<string, unknown> = {}): SpecFileResult {
  let text: string;
  try {
    // An editor's byte order mark is not part of the JSON (nor of its columns).
    text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  } catch (err) {
    return {
      ok: false,
      errors: [`${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`],
    };
  }
  const deep = tooDeep(text);
  if (deep !== null) {
    return {
      ok: false,
      errors: [`${file}:${lineAndColumn(text, deep)}: invalid JSON: nested more than ${MAX_DEPTH} deep`],
    };
  }
  const syntax: ParseError[] = [];
  const tree = parseTree(text, syntax, { disallowComments: true, allowTrailingComma: false });
  if (syntax.length || !tree) {
    return {
      ok: false,
      errors: syntax.length
        ? syntax.map((e) => `${file}:${lineAndColumn(text, e.offset)}: invalid JSON: ${printParseErrorCode(e.error)}`)
        : [`${file}: the file holds no JSON`],
    };
  }
  const value = JSON.parse(text) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, errors: [`${file}:1:1: the spec must be a JSON object`] };
  }
  const locate = (issue: SpecIssue) => {
    // Point at the deepest part of the path that exists in the file (a missing field: its parent).
    let node: Node | undefined;
    for (let n = issue.path.length; n >= 0 && !node; n--) node = findNodeAtLocation(tree, issue.path.slice(0, n));
    const where = node
      ? lineAndColumn(text, node.parent?.type === 'property' ? node.parent.offset : node.offset)
      : '1:1';
    return `${file}:${where}: ${formatPath(issue.path) || '(spec)'}: ${issue.message}`;
  };
  const spec = { ...value, ...override };
  const result = expandExperiment(spec);
  return result.ok ? { ok: true, spec, locate } : { ok: false, errors: result.issues.map(locate) };
}
