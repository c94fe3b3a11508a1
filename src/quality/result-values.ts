import type { QueryResult } from '../engines/engine.ts';

/**
 * The engine converts top-level BIGINT, DECIMAL and timestamps, but values inside lists and
 * structs arrive in DuckDB's JSON spelling (64-bit integers as strings, timestamps with a space).
 * Results carry numbers and ISO-8601 strings throughout.
 */
export function normalizeValue(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  const listElement = /^(.*)\[\]$/.exec(type);
  if (listElement && Array.isArray(value)) return value.map((item) => normalizeValue(item, listElement[1]!));
  if (typeof value !== 'string') return value;
  const upper = type.toUpperCase();
  if (/^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|U?HUGEINT)$/.test(upper) || upper.startsWith('DECIMAL')) {
    const numeric = Number(value);
    return Number.isFinite(numeric) && (upper.startsWith('DECIMAL') || Number.isSafeInteger(numeric))
      ? numeric
      : value;
  }
  if (upper === 'TIMESTAMP' || upper.startsWith('TIMESTAMP_')) return value.replace(' ', 'T');
  if (upper === 'TIMESTAMP WITH TIME ZONE') return value.replace(' ', 'T').replace(/\+00(:00)?$/, 'Z');
  return value;
}

/** The rows of a result with every value normalized by its column's type. */
export function normalizedRows(result: QueryResult): Record<string, unknown>[] {
  return result.rows.map((row) => {
    const copy: Record<string, unknown> = {};
    for (const column of result.columns) copy[column.name] = normalizeValue(row[column.name], column.type);
    return copy;
  });
}
