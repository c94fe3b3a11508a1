import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SUPPORTED_EXPECTATIONS, validationProblems } from '../../src/quality/index.ts';
import { validation } from './quality-fixtures.ts';

// GE's core expectations (great_expectations/expectations/core/ in GE 1.x).
const GE_CORE_EXPECTATIONS = [
  'expect_column_bootstrapped_ks_test_p_value_to_be_greater_than',
  'expect_column_chisquare_test_p_value_to_be_greater_than',
  'expect_column_distinct_values_to_be_in_set',
  'expect_column_distinct_values_to_contain_set',
  'expect_column_distinct_values_to_equal_set',
  'expect_column_kl_divergence_to_be_less_than',
  'expect_column_max_to_be_between',
  'expect_column_mean_to_be_between',
  'expect_column_median_to_be_between',
  'expect_column_min_to_be_between',
  'expect_column_most_common_value_to_be_in_set',
  'expect_column_pair_cramers_phi_value_to_be_less_than',
  'expect_column_pair_values_a_to_be_greater_than_b',
  'expect_column_pair_values_to_be_equal',
  'expect_column_pair_values_to_be_in_set',
  'expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than',
  'expect_column_proportion_of_unique_values_to_be_between',
  'expect_column_quantile_values_to_be_between',
  'expect_column_stdev_to_be_between',
  'expect_column_sum_to_be_between',
  'expect_column_to_exist',
  'expect_column_unique_value_count_to_be_between',
  'expect_column_value_lengths_to_be_between',
  'expect_column_value_lengths_to_equal',
  'expect_column_value_z_scores_to_be_less_than',
  'expect_column_values_to_be_between',
  'expect_column_values_to_be_dateutil_parseable',
  'expect_column_values_to_be_decreasing',
  'expect_column_values_to_be_in_set',
  'expect_column_values_to_be_in_type_list',
  'expect_column_values_to_be_increasing',
  'expect_column_values_to_be_json_parseable',
  'expect_column_values_to_be_null',
  'expect_column_values_to_be_of_type',
  'expect_column_values_to_be_unique',
  'expect_column_values_to_match_json_schema',
  'expect_column_values_to_match_like_pattern',
  'expect_column_values_to_match_like_pattern_list',
  'expect_column_values_to_match_regex',
  'expect_column_values_to_match_regex_list',
  'expect_column_values_to_match_strftime_format',
  'expect_column_values_to_not_be_in_set',
  'expect_column_values_to_not_be_null',
  'expect_column_values_to_not_match_like_pattern',
  'expect_column_values_to_not_match_like_pattern_list',
  'expect_column_values_to_not_match_regex',
  'expect_column_values_to_not_match_regex_list',
  'expect_compound_columns_to_be_unique',
  'expect_multicolumn_sum_to_equal',
  'expect_multicolumn_values_to_be_unique',
  'expect_select_column_values_to_be_unique_within_record',
  'expect_table_column_count_to_be_between',
  'expect_table_column_count_to_equal',
  'expect_table_columns_to_match_ordered_list',
  'expect_table_columns_to_match_set',
  'expect_table_row_count_to_be_between',
  'expect_table_row_count_to_equal',
  'expect_table_row_count_to_equal_other_table',
  'unexpected_rows_expectation',
];

describe('validationProblems', () => {
  it('knows every GE core expectation: supported, or refused as not supported with the reason', () => {
    for (const name of GE_CORE_EXPECTATIONS) {
      if (SUPPORTED_EXPECTATIONS.includes(name)) continue;
      const problems = validationProblems(validation(name, { column: 'x' }));
      assert.equal(problems.length, 1, name);
      assert.match(
        problems[0]!,
        new RegExp(`^\`${name}\` is not supported by Tessera's validation gate: .{20,}`),
        name,
      );
    }
    const refused = GE_CORE_EXPECTATIONS.filter((name) => !SUPPORTED_EXPECTATIONS.includes(name));
    assert.deepEqual(refused, [
      'expect_column_bootstrapped_ks_test_p_value_to_be_greater_than',
      'expect_column_chisquare_test_p_value_to_be_greater_than',
      'expect_column_kl_divergence_to_be_less_than',
      'expect_column_pair_cramers_phi_value_to_be_less_than',
      'expect_column_parameterized_distribution_ks_test_p_value_to_be_greater_than',
      'expect_multicolumn_values_to_be_unique',
    ]);
  });

  it('accepts a well-formed expectation', () => {
    assert.deepEqual(
      validationProblems(
        validation('expect_column_values_to_be_between', { column: 'x', min_value: 0, mostly: 0.9 }),
      ),
      [],
    );
  });

  it('names an unknown expectation and suggests the closest one', () => {
    assert.deepEqual(validationProblems(validation('expect_column_values_to_be_uniqe', { column: 'x' })), [
      'unknown expectation `expect_column_values_to_be_uniqe`; did you mean `expect_column_values_to_be_unique`?',
    ]);
    assert.deepEqual(validationProblems(validation('expect_foo', {})), ['unknown expectation `expect_foo`']);
  });

  it('requires the column', () => {
    assert.deepEqual(validationProblems(validation('expect_column_values_to_not_be_null', {})), [
      '`column` is required',
    ]);
  });

  it('checks mostly', () => {
    for (const mostly of [1.1, -0.3, 'One']) {
      assert.deepEqual(
        validationProblems(validation('expect_column_values_to_be_unique', { column: 'x', mostly })),
        ['`mostly` must be a number between 0 and 1'],
      );
    }
  });

  it('refuses arguments the expectation does not take, with a suggestion', () => {
    assert.deepEqual(
      validationProblems(validation('expect_column_values_to_be_between', { column: 'x', min_vale: 1 })),
      ['unknown argument `min_vale` for expect_column_values_to_be_between; did you mean `min_value`?'],
    );
    assert.deepEqual(
      validationProblems(validation('expect_table_row_count_to_equal', { value: 3, mostly: 0.5 })),
      ['unknown argument `mostly` for expect_table_row_count_to_equal'],
    );
  });

  it('checks bounds: order, presence and integer counts', () => {
    assert.deepEqual(
      validationProblems(
        validation('expect_column_values_to_be_between', { column: 'x', min_value: 10, max_value: 0 }),
      ),
      ['`min_value` cannot be greater than `max_value`'],
    );
    assert.deepEqual(validationProblems(validation('expect_column_values_to_be_between', { column: 'x' })), [
      '`min_value` and `max_value` cannot both be null; give at least one',
    ]);
    assert.deepEqual(
      validationProblems(validation('expect_table_row_count_to_be_between', { min_value: 'quack' })),
      ['`min_value` must be an integer or null (bounds of a count must be integers)'],
    );
  });

  it('checks columns against the known ones', () => {
    assert.deepEqual(
      validationProblems(validation('expect_column_values_to_be_unique', { column: 'patient_di' }), [
        'patient_id',
        'ssn',
      ]),
      ['column `patient_di` does not exist; did you mean `patient_id`?'],
    );
    assert.deepEqual(
      validationProblems(validation('expect_compound_columns_to_be_unique', { column_list: ['a', 'zz'] }), [
        'a',
        'b',
      ]),
      ['column `zz` does not exist (columns: a, b)'],
    );
  });

  it('keeps SQL fragments to one expression or query', () => {
    assert.deepEqual(
      validationProblems(validation('sql', { sql: 'select * from {{ this }} where x < 0;' })),
      [],
    );
    assert.deepEqual(validationProblems(validation('sql', { sql: 'select 1; drop table t' })), [
      '`sql` must be a single SQL query (no `;`)',
    ]);
    assert.deepEqual(
      validationProblems(
        validation('expect_column_values_to_not_be_null', { column: 'x', row_condition: 'y > 1) OR (1 = 1' }),
      ),
      ['`row_condition` has an unbalanced `)`'],
    );
  });

  it('accepts GE condition parsers but not unknown ones', () => {
    const args = { column: 'x', row_condition: 'y > 1' };
    assert.deepEqual(
      validationProblems(
        validation('expect_column_values_to_not_be_null', { ...args, condition_parser: 'spark' }),
      ),
      [],
    );
    assert.match(
      validationProblems(
        validation('expect_column_values_to_not_be_null', { ...args, condition_parser: 'bad_parser' }),
      )[0]!,
      /^`condition_parser` must be one of/,
    );
  });

  it('reports unusable strftime formats and JSON Schema keywords', () => {
    assert.match(
      validationProblems(
        validation('expect_column_values_to_match_strftime_format', { column: 'x', strftime_format: '%D' }),
      )[0]!,
      /uses `%D`/,
    );
    assert.deepEqual(
      validationProblems(
        validation('expect_column_values_to_match_json_schema', {
          column: 'x',
          json_schema: { $ref: '#/a' },
        }),
      ),
      ['`json_schema` keyword `$ref` is not supported'],
    );
  });

  it('lists the supported expectations', () => {
    for (const name of [
      'expect_column_values_to_be_unique',
      'expect_column_quantile_values_to_be_between',
      'expect_multicolumn_sum_to_equal',
      'sql',
    ]) {
      assert.ok(SUPPORTED_EXPECTATIONS.includes(name), name);
    }
  });
});
