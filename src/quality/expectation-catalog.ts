import { AGGREGATE_EXPECTATIONS } from './aggregate-expectations.ts';
import { COLUMN_MAP_EXPECTATIONS } from './column-map-expectations.ts';
import { CUSTOM_SQL_CHECKS } from './custom-sql-checks.ts';
import type { ExpectationSpec } from './expectation-spec.ts';
import { MULTICOLUMN_EXPECTATIONS } from './multicolumn-expectations.ts';
import { STRING_PATTERN_EXPECTATIONS } from './string-pattern-expectations.ts';
import { TABLE_EXPECTATIONS } from './table-expectations.ts';

/** Every check by name: the GE expectations, plus `sql` and GE's `unexpected_rows_expectation`. */
export const EXPECTATIONS: ReadonlyMap<string, ExpectationSpec> = new Map(
  [
    ...TABLE_EXPECTATIONS,
    ...COLUMN_MAP_EXPECTATIONS,
    ...STRING_PATTERN_EXPECTATIONS,
    ...AGGREGATE_EXPECTATIONS,
    ...MULTICOLUMN_EXPECTATIONS,
    ...CUSTOM_SQL_CHECKS,
  ].map((spec) => [spec.name, spec]),
);
