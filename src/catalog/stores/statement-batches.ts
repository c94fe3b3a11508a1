/**
 * Bound parameters one statement may carry. SQLite refuses a statement over its variable limit
 * (32,766 in the SQLite better-sqlite3 ships, 999 in builds before 3.32) and PostgreSQL over 65,535,
 * so every multi-row insert and every `in (...)` list goes in slices under this budget, inside the
 * caller's transaction: a definitions repo of any size applies.
 */
export const MAX_STATEMENT_PARAMETERS = 9_990;

/** `items` in slices of at most MAX_STATEMENT_PARAMETERS / `parametersPerItem` items. */
export function* batches<T>(items: readonly T[], parametersPerItem: number): Generator<T[]> {
  const size = Math.max(1, Math.floor(MAX_STATEMENT_PARAMETERS / parametersPerItem));
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
