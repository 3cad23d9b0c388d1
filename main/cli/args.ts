// Checks on command-line arguments shared by the commands: a UsageError exits with status 2 and a hint.
export class UsageError extends Error {}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive whole number, not '${value}'`);
  return n;
}
