/**
 * Definitions compared by meaning: source locations (`at`) dropped, `undefined` keys dropped (as JSON
 * does), object keys sorted. Moving a definition within a file or reordering its keys is no change.
 */
export function canonicalDefinition(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => canonicalDefinition(item ?? null));
  if (value === null || typeof value !== 'object') return value;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const item = (value as Record<string, unknown>)[key];
    if (item === undefined || typeof item === 'function') continue;
    if (key === 'at' && isSourceLocation(item)) continue;
    result[key] = canonicalDefinition(item);
  }
  return result;
}

/** True when `a` and `b` are the same definition, ignoring source locations and key order. */
export function sameDefinition(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonicalDefinition(a)) === JSON.stringify(canonicalDefinition(b));
}

function isSourceLocation(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'file' in value && 'line' in value;
}
