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

/**
 * True when `a` and `b` are the same definition, ignoring source locations and key order: exactly
 * when `JSON.stringify(canonicalDefinition(a)) === JSON.stringify(canonicalDefinition(b))`, but
 * compared in place, without building either (a plan compares every applied definition).
 */
export function sameDefinition(a: unknown, b: unknown): boolean {
  return sameCanonical(a, b, false);
}

/** `inArray`: `a` and `b` are array items, where JSON writes `undefined` and functions as `null`. */
function sameCanonical(a: unknown, b: unknown, inArray: boolean): boolean {
  if (a === b) return true;
  const aIsObject = typeof a === 'object' && a !== null;
  const bIsObject = typeof b === 'object' && b !== null;
  if (!aIsObject || !bIsObject) {
    // A leaf never writes as an object or array does; two leaves compare as JSON writes them.
    return !aIsObject && !bIsObject && leafJson(a, inArray) === leafJson(b, inArray);
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let index = 0; index < a.length; index++) {
      if (!sameCanonical(a[index] ?? null, b[index] ?? null, true)) return false;
    }
    return true;
  }
  const aObject = a as Record<string, unknown>;
  const bObject = b as Record<string, unknown>;
  let written = 0;
  for (const key of Object.keys(aObject)) {
    const aItem = aObject[key];
    if (!isWritten(key, aItem)) continue;
    written++;
    const bItem = bObject[key];
    if (!isWritten(key, bItem) || !Object.prototype.propertyIsEnumerable.call(bObject, key)) return false;
    if (!sameCanonical(aItem, bItem, false)) return false;
  }
  for (const key of Object.keys(bObject)) if (isWritten(key, bObject[key])) written--;
  return written === 0;
}

/** Whether `canonicalDefinition` keeps the key and JSON then writes it (it leaves out symbol values). */
function isWritten(key: string, item: unknown): boolean {
  if (item === undefined || typeof item === 'function' || typeof item === 'symbol') return false;
  return !(key === 'at' && isSourceLocation(item));
}

function leafJson(value: unknown, inArray: boolean): string | undefined {
  const text = JSON.stringify(value);
  return text === undefined && inArray ? 'null' : text;
}

function isSourceLocation(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'file' in value && 'line' in value;
}
