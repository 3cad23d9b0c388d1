// What the page remembers in this browser (the runs table's columns and arrangement), as JSON under a key. Where
// storage is refused, unreadable or full, the page goes on with what it has for as long as it is open.

/** The value stored under `key`, or null where there is none or it cannot be read. */
export function readStored(key: string): unknown {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

export function writeStored(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or refused: kept in the page only
  }
}
