/**
 * The validation gate ("audit" in write–audit–publish): Great Expectations' expectations and custom
 * SQL checks compiled to SQL and run by the engine against a staged table version.
 */
import { EXPECTATIONS } from './expectation-catalog.ts';

export { runChecks, type RunChecksOptions } from './check-runner.ts';
export type { FreshnessCheck } from './freshness-check.ts';
export { validationProblems } from './validation-problems.ts';

/** Where a check result's values come from, for showing them masked when they are sensitive. */
export interface CheckValueSources {
  /** Arguments naming the columns the check reads (`column`, `column_A`, `column_list`…). */
  columnArgs: string[];
  /** The observed value is made of those columns' values (a minimum, distinct values…). */
  observesValues: boolean;
  /** Custom SQL: samples are rows of whatever the query selects. */
  customSql: boolean;
}

/** `CheckValueSources` of an expectation by name (nothing for built-in gates such as `bad_rows`). */
export function checkValueSources(expectation: string): CheckValueSources {
  const spec = EXPECTATIONS.get(expectation);
  return {
    columnArgs: spec?.columnArgs ?? [],
    observesValues: spec?.observesValues === true,
    customSql: spec?.family === 'custom',
  };
}

/**
 * Names accepted as a validation's `expectation`: GE's expectation names, GE's
 * `unexpected_rows_expectation`, and `sql` for a custom query whose rows are the failures.
 */
export const SUPPORTED_EXPECTATIONS: readonly string[] = Object.freeze([...EXPECTATIONS.keys()]);
