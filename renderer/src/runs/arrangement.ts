// How the runs table was last arranged, its grouping and sort (its columns: ./columns.ts), kept in the browser
// (../storage.ts) like the columns: a reload or the next visit shows the table as it was left.
import { readStored, writeStored } from '../storage';
import { isColumnId } from './columns';
import { SORT_KEYS, type SortKey } from './figures';
import { GROUP_FIELDS } from './groups';

export interface Arrangement {
  /** `experiment`, a run field (GROUP_FIELDS) or a spec path. */
  groupBy: string;
  sortKey: SortKey;
  descending: boolean;
}

const STORAGE_KEY = 'metalab.runsArrangement';
const DEFAULT: Arrangement = { groupBy: 'experiment', sortKey: 'id', descending: false };

const isGroup = (v: unknown): v is string =>
  typeof v === 'string' && (v === 'experiment' || (GROUP_FIELDS as readonly string[]).includes(v) || v.includes('.'));
const isSortKey = (v: unknown): v is SortKey =>
  typeof v === 'string' && ((SORT_KEYS as readonly string[]).includes(v) || isColumnId(v));

/** The saved arrangement, each part checked (a part from another version, or edited by hand, is the default). */
export function loadArrangement(): Arrangement {
  const saved = (readStored(STORAGE_KEY) ?? {}) as Partial<Record<keyof Arrangement, unknown>>;
  return {
    groupBy: isGroup(saved.groupBy) ? saved.groupBy : DEFAULT.groupBy,
    sortKey: isSortKey(saved.sortKey) ? saved.sortKey : DEFAULT.sortKey,
    descending: typeof saved.descending === 'boolean' ? saved.descending : DEFAULT.descending,
  };
}

export function saveArrangement(arrangement: Arrangement): void {
  writeStored(STORAGE_KEY, arrangement);
}
