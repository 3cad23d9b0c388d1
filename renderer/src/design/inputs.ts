// How form inputs turn text into spec values and back. Text that is not a valid value is passed on as it
// is (a string where a number belongs), so the spec's validation names the field and says what is wrong.
import type { InjectionKey, Ref } from 'vue';
import type { DatasetInfo } from '../../../shared/api';
import type { StoredObjective } from '../../../shared/learnedObjective';
import { formatPath, type SpecIssue } from '../../../shared/spec';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

export function parseNumber(text: string): unknown {
  const t = text.trim();
  if (!t) return undefined;
  return NUMBER.test(t) ? Number(t) : t;
}

export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** "64, 64" -> [64, 64]; tokens that are not numbers stay strings (e.g. 'fresh', or a typo to be reported). */
export function parseList(text: string): unknown[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((t) => (NUMBER.test(t) ? Number(t) : t));
}

export function parseStrings(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
}

export function formatList(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : formatValue(value);
}

export function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * The issues at the paths `at` accepts (as formatPath writes them), each as `path: message` (`spec: …` for the whole
 * spec).
 */
export function issueMessages(issues: readonly SpecIssue[], at: (path: string) => boolean): string[] {
  return issues.flatMap((i) => {
    const path = formatPath(i.path);
    return at(path) ? [`${path || 'spec'}: ${i.message}`] : [];
  });
}

/** What every field of the form needs from the designer: the current issues, datasets, objectives, swept fields. */
export interface FormContext {
  issues: Ref<SpecIssue[]>;
  datasets: Ref<DatasetInfo[]>;
  /** Learned objectives kept in the lab, for fields that name one. */
  objectives: Ref<StoredObjective[]>;
  /** Swept field path -> the values the sweep gives it, as text. */
  swept: Ref<Record<string, string>>;
}

export const formContext: InjectionKey<FormContext> = Symbol('form context');
