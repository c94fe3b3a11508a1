/**
 * The validation gate ("audit" in write–audit–publish): Great Expectations' expectations and custom
 * SQL checks compiled to SQL and run by the engine against a staged table version.
 */
import { EXPECTATIONS } from './expectation-catalog.ts';

export { runChecks, type RunChecksOptions } from './check-runner.ts';
export type { FreshnessCheck } from './freshness-check.ts';
export { validationProblems } from './validation-problems.ts';

/**
 * Names accepted as a validation's `expectation`: GE's expectation names, GE's
 * `unexpected_rows_expectation`, and `sql` for a custom query whose rows are the failures.
 */
export const SUPPORTED_EXPECTATIONS: readonly string[] = Object.freeze([...EXPECTATIONS.keys()]);
