// The designer's form is generated from the experiment spec schema, converted by zod to JSON Schema (which
// carries defaults, bounds, enums, descriptions and the designer's metadata: title, unit, registry).
// These helpers classify schema nodes into the kinds of field the form knows, and walk values along them.
import { z } from 'zod';
import { experimentSpec, formatPath } from '../../../shared/spec';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: (string | number)[];
  const?: unknown;
  default?: unknown;
  title?: string;
  description?: string;
  /**
   * Designer metadata (shared/spec.ts): the unit shown after the input, the registry a name comes from, and a widget
   * of its own ('objective': a stored learned objective).
   */
  unit?: string;
  registry?: string;
  widget?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxItems?: number;
  maxLength?: number;
}

export const specSchema = z.toJSONSchema(experimentSpec, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

export type Path = (string | number)[];

export type Field =
  | { kind: 'object'; properties: [string, JsonSchema][] }
  /** One of several objects told apart by a constant property (task family, model kind). */
  | { kind: 'variant'; key: string; branches: { value: string; schema: JsonSchema }[] }
  /** A value or null (no gradient clipping, no learner baseline). */
  | { kind: 'nullable'; inner: JsonSchema }
  /** A number or one of a few named values (a number of tasks, or 'fresh'). */
  | { kind: 'number-or-named'; number: JsonSchema; names: string[] }
  | { kind: 'enum'; options: (string | number)[] }
  | { kind: 'number'; integer: boolean }
  | { kind: 'string' }
  | { kind: 'boolean' }
  /** Numbers or names; names from a fixed set (`options`) are ticked, others typed. */
  | { kind: 'list'; item: 'number' | 'string'; registry: string | null; options: string[] | null }
  /** A list of objects or variants (more environments), each edited as a group, added and removed. */
  | { kind: 'items'; item: JsonSchema; max: number | null }
  /** A stored learned objective's sha256, or 'random' / 'latest' (shared/spec.ts objectiveRef). */
  | { kind: 'objective' }
  /** Anything else is edited as JSON, so the form never hides part of the spec. */
  | { kind: 'json' };

const isNumeric = (s: JsonSchema) => s.type === 'integer' || s.type === 'number';

function discriminator(branches: JsonSchema[]): string | null {
  const first = branches[0]?.properties ?? {};
  return Object.keys(first).find((k) => branches.every((b) => typeof b.properties?.[k]?.const === 'string')) ?? null;
}

export function classify(schema: JsonSchema): Field {
  if (schema.widget === 'objective') return { kind: 'objective' };
  if (schema.oneOf) {
    const key = discriminator(schema.oneOf);
    if (key)
      return {
        kind: 'variant',
        key,
        branches: schema.oneOf.map((b) => ({ value: b.properties![key].const as string, schema: b })),
      };
  }
  if (schema.anyOf) {
    const others = schema.anyOf.filter((s) => s.type !== 'null');
    if (others.length === 1 && others.length < schema.anyOf.length)
      return { kind: 'nullable', inner: { ...others[0], description: schema.description } };
    const number = others.find(isNumeric);
    const named = others.filter((s) => typeof s.const === 'string');
    if (number && named.length === others.length - 1)
      return { kind: 'number-or-named', number, names: named.map((s) => s.const as string) };
  }
  if (schema.enum) return { kind: 'enum', options: schema.enum };
  if (schema.type === 'object' && schema.properties)
    return { kind: 'object', properties: Object.entries(schema.properties) };
  if (isNumeric(schema)) return { kind: 'number', integer: schema.type === 'integer' };
  if (schema.type === 'string') return { kind: 'string' };
  if (schema.type === 'boolean') return { kind: 'boolean' };
  if (schema.type === 'array' && schema.items && (isNumeric(schema.items) || schema.items.type === 'string')) {
    const names = schema.items.enum?.filter((v): v is string => typeof v === 'string');
    return {
      kind: 'list',
      item: isNumeric(schema.items) ? 'number' : 'string',
      registry: schema.items.registry ?? null,
      options: names?.length ? names : null,
    };
  }
  if (schema.type === 'array' && schema.items) {
    const item = classify(schema.items).kind;
    if (item === 'object' || item === 'variant')
      return { kind: 'items', item: schema.items, max: schema.maxItems ?? null };
  }
  return { kind: 'json' };
}

/** A value built from the schema's defaults (and a variant's first branch), e.g. when a model kind is chosen. */
export function defaultsOf(schema: JsonSchema): unknown {
  if (schema.default !== undefined) return structuredClone(schema.default);
  if (schema.const !== undefined) return schema.const;
  const field = classify(schema);
  if (field.kind === 'variant') return defaultsOf(field.branches[0].schema);
  if (field.kind !== 'object') return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, s] of field.properties) {
    const v = defaultsOf(s);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export function branchOf(field: Extract<Field, { kind: 'variant' }>, value: unknown) {
  const chosen = (value as Record<string, unknown> | undefined)?.[field.key];
  return field.branches.find((b) => b.value === chosen) ?? field.branches[0];
}

/** "numTasks" -> "Num tasks", unless the schema gives a title. */
export function titleOf(key: string | number, schema: JsonSchema): string {
  if (schema.title) return schema.title;
  const words = String(key)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The accepted range as text, e.g. "1 – 256" or "> 0, ≤ 10". */
export function rangeOf(schema: JsonSchema): string {
  const low =
    schema.minimum !== undefined
      ? `≥ ${schema.minimum}`
      : schema.exclusiveMinimum !== undefined
        ? `> ${schema.exclusiveMinimum}`
        : '';
  const high =
    schema.maximum !== undefined
      ? `≤ ${schema.maximum}`
      : schema.exclusiveMaximum !== undefined
        ? `< ${schema.exclusiveMaximum}`
        : '';
  if (schema.minimum !== undefined && schema.maximum !== undefined) return `${schema.minimum} – ${schema.maximum}`;
  return [low, high].filter(Boolean).join(', ');
}

export function fieldId(path: Path): string {
  return `field-${formatPath(path).replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

export function getAt(value: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined),
    value,
  );
}

/** A copy of `value` with `path` set (undefined removes the key, so the schema's default applies). */
export function setAt(value: unknown, path: Path, next: unknown): unknown {
  if (!path.length) return next;
  const [key, ...rest] = path;
  const base = value && typeof value === 'object' ? value : typeof key === 'number' ? [] : {};
  const copy = (Array.isArray(base) ? [...base] : { ...base }) as Record<string | number, unknown>;
  const child = setAt(copy[key], rest, next);
  if (child === undefined && !Array.isArray(copy)) delete copy[key];
  else copy[key] = child;
  return copy;
}

export interface NumericField {
  path: string;
  title: string;
  schema: JsonSchema;
  /** Named values the field also takes (e.g. 'fresh'). */
  names: string[];
}

/** Every numeric field of the spec as it stands (the chosen task family and model kind): what a sweep can vary. */
export function numericFields(schema: JsonSchema, value: unknown, path: string[] = []): NumericField[] {
  const field = classify(schema);
  const here = (names: string[], s: JsonSchema): NumericField[] =>
    path.length ? [{ path: path.join('.'), title: titleOf(path[path.length - 1], schema), schema: s, names }] : [];
  switch (field.kind) {
    case 'number':
      return here([], schema);
    case 'number-or-named':
      return here(field.names, field.number);
    case 'nullable':
      return value === null || value === undefined ? [] : numericFields(field.inner, value, path);
    case 'variant': {
      const branch = branchOf(field, value).schema;
      return numericFields(branch, value, path);
    }
    case 'object':
      return field.properties.flatMap(([key, s]) =>
        numericFields(s, (value as Record<string, unknown> | undefined)?.[key] ?? defaultsOf(s), [...path, key]),
      );
    default:
      return [];
  }
}
