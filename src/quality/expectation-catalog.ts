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

/**
 * GE core expectations Tessera refuses, with why: distribution tests (all but the KL divergence
 * run in Python only in GE, its SQL backends skip them; the KL divergence needs GE's partition
 * objects), and GE's deprecated spelling of an expectation that has a supported successor.
 */
export const UNSUPPORTED_EXPECTATIONS: ReadonlyMap<string, string> = new Map([
  [
    'expect_column_kl_divergence_to_be_less_than',
    'it compares the column with a partition object (bins and weights) by KL divergence, a distribution test Tessera does not compute; bound the column with expect_column_quantile_values_to_be_between instead',
  ],
  [
    'expect_column_bootstrapped_ks_test_p_value_to_be_greater_than',
    'it is a bootstrapped Kolmogorov–Smirnov test, which GE runs in Python only; bound the column with expect_column_quantile_values_to_be_between instead',
  ],
  [
    'expect_column_chisquare_test_p_value_to_be_greater_than',
    'it is a chi-square test, which GE runs in Python only; check the categories with expect_column_distinct_values_to_equal_set instead',
  ],
  [
    'expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than',
    'it fits a parametric distribution (a Kolmogorov–Smirnov test), which GE runs in Python only; bound the column with expect_column_quantile_values_to_be_between instead',
  ],
  [
    'expect_column_pair_cramers_phi_value_to_be_less_than',
    "it computes Cramér's phi between two columns, which GE runs in Python only",
  ],
  [
    'expect_multicolumn_values_to_be_unique',
    'GE deprecated it; use expect_select_column_values_to_be_unique_within_record, which means the same',
  ],
]);
