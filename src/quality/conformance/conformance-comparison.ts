import type { CheckResult } from '../../model/index.ts';

/**
 * Compares a Tessera result with a GE test case's `out`. Compared: `success`; `unexpected_list`
 * (as a multiset: SQL gives no row order); `observed_value` (within the case's relative
 * `tolerance` when it gives one, as GE's harness does); and, from `result`, `element_count`,
 * `missing_count`, `missing_percent`, `unexpected_count`, `unexpected_percent`,
 * `partial_unexpected_list` and `observed_value`. A case that expects an error passes only when
 * the check reports one (a failed check is not an error).
 * Not compared: index lists (`unexpected_index_list`: a SQL relation has no row index), GE's
 * `details`, `missing_*` and `unexpected_percent_total` (CheckResult has no such fields), and
 * error message text (`traceback_substring` quotes Python exceptions).
 */

/** One GE test case: arguments in, expected result out, and the backends it is meant for. */
export interface GeTestCase {
  title: string;
  in: Record<string, unknown>;
  out: Record<string, unknown>;
  only_for?: string[] | null;
  suppress_test_for?: string[] | null;
  error?: unknown;
  /** Relative tolerance for `observed_value` numbers (GE: `np.allclose(…, rtol=tolerance)`). */
  tolerance?: number;
}

/** Whether the case expects the expectation to raise instead of returning a result. */
export function expectsError(test: GeTestCase): boolean {
  return (
    test.error !== undefined ||
    (typeof test.out === 'object' && test.out !== null && 'traceback_substring' in test.out)
  );
}

/** Undefined when the result matches, else "expected …, got …". */
export function compareWithExpected(
  test: GeTestCase,
  result: CheckResult,
  sampleSize: number,
): string | undefined {
  if (expectsError(test)) {
    return result.error !== undefined
      ? undefined
      : `expected an error, got success=${String(result.success)}`;
  }
  const out = test.out ?? {};
  if (result.error !== undefined)
    return `expected success=${String(out.success)}, got error: ${result.error}`;
  const differences: string[] = [];
  if (typeof out.success === 'boolean' && out.success !== result.success) {
    differences.push(`success ${String(out.success)} (got ${String(result.success)})`);
  }
  const sampleComplete = (result.unexpectedCount ?? result.sample?.length ?? 0) <= sampleSize;
  if (
    Array.isArray(out.unexpected_list) &&
    sampleComplete &&
    !sameMultiset(out.unexpected_list, result.sample ?? [])
  ) {
    differences.push(`unexpected_list ${show(out.unexpected_list)} (got ${show(result.sample ?? [])})`);
  }
  const observedMatches = (expected: unknown, actual: unknown) =>
    typeof test.tolerance === 'number'
      ? closeEnough(expected, actual, test.tolerance)
      : sameValue(expected, actual);
  if ('observed_value' in out && !observedMatches(out.observed_value, result.observedValue)) {
    differences.push(`observed_value ${show(out.observed_value)} (got ${show(result.observedValue)})`);
  }
  const details = (out.result ?? {}) as Record<string, unknown>;
  const fields: [string, unknown][] = [
    ['element_count', result.elementCount],
    ['missing_count', result.missingCount],
    ['missing_percent', result.missingPercent],
    ['unexpected_count', result.unexpectedCount],
    ['unexpected_percent', result.unexpectedPercent],
    ['observed_value', result.observedValue],
  ];
  for (const [name, actual] of fields) {
    if (name in details && !sameValue(details[name], actual))
      differences.push(`result.${name} ${show(details[name])} (got ${show(actual)})`);
  }
  if (
    Array.isArray(details.partial_unexpected_list) &&
    sampleComplete &&
    !sameMultiset(details.partial_unexpected_list, result.sample ?? [])
  ) {
    differences.push(
      `result.partial_unexpected_list ${show(details.partial_unexpected_list)} (got ${show(result.sample ?? [])})`,
    );
  }
  return differences.length === 0 ? undefined : `expected ${differences.join('; ')}`;
}

/** JSON with sorted keys and numbers rounded past float noise, so equal values spell the same. */
function canonical(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function sameValue(expected: unknown, actual: unknown): boolean {
  return canonical(expected) === canonical(actual);
}

/**
 * GE's `np.allclose(actual, expected, rtol)` (atol 1e-8) on numbers, recursively through lists and
 * objects of the same shape; anything else must be equal.
 */
function closeEnough(expected: unknown, actual: unknown, rtol: number): boolean {
  if (typeof expected === 'number' && typeof actual === 'number')
    return Math.abs(actual - expected) <= 1e-8 + rtol * Math.abs(expected);
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => closeEnough(item, actual[index], rtol))
    );
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const left = expected as Record<string, unknown>;
    const right = actual as Record<string, unknown>;
    const keys = Object.keys(left).sort();
    return (
      sameValue(keys, Object.keys(right).sort()) &&
      keys.every((key) => closeEnough(left[key], right[key], rtol))
    );
  }
  return sameValue(expected, actual);
}

function sameMultiset(expected: unknown[], actual: unknown[]): boolean {
  if (expected.length !== actual.length) return false;
  const left = expected.map(canonical).sort();
  const right = actual.map(canonical).sort();
  return left.every((item, index) => item === right[index]);
}

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'nothing' : text.length > 160 ? `${text.slice(0, 157)}...` : text;
}
