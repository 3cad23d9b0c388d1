// Reads an experiment spec file; problems name the field and its line in the file.
import fs from 'node:fs';
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { expandExperiment, formatPath, type SpecIssue } from '../../shared/spec.js';

/** A spec file read and checked against the schema; `locate` turns an issue into `file:line:column: field: message`. */
export type SpecFileResult =
  | { ok: true; spec: object; locate: (issue: SpecIssue) => string }
  | { ok: false; errors: string[] };

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
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return {
      ok: false,
      errors: [`${file}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`],
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
