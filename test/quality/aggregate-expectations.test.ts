import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openFixture, type QualityFixture } from './quality-fixtures.ts';

describe('aggregate expectations', () => {
  let fixture: QualityFixture;
  before(async () => {
    fixture = await openFixture(
      `CREATE TABLE visits AS SELECT * FROM (VALUES
        (1, 'er', 100.0, TIMESTAMP '2024-01-01 10:00:00'),
        (2, 'er', 200.0, TIMESTAMP '2024-01-02 10:00:00'),
        (3, 'icu', 300.0, TIMESTAMP '2024-01-03 10:00:00'),
        (4, 'ward', NULL, TIMESTAMP '2024-01-04 10:00:00'),
        (5, 'er', 400.0, NULL)
      ) t(id, unit, cost, admitted)`,
    );
  });
  after(() => fixture.close());

  it('min and max keep the column type, bounds compared in SQL', async () => {
    const min = await fixture.check('visits', 'expect_column_min_to_be_between', {
      column: 'cost',
      min_value: 50,
      max_value: 150,
    });
    assert.deepEqual([min.success, min.observedValue], [true, 100]);
    const latest = await fixture.check('visits', 'expect_column_max_to_be_between', {
      column: 'admitted',
      max_value: '2024-01-03',
    });
    assert.deepEqual([latest.success, latest.observedValue], [false, '2024-01-04T10:00:00']);
    const formatted = await fixture.check('visits', 'expect_column_max_to_be_between', {
      column: 'admitted',
      min_value: '2024-01-01',
      output_strftime_format: '%Y-%m-%d',
    });
    assert.deepEqual([formatted.success, formatted.observedValue], [true, '2024-01-04']);
  });

  it('mean, median, sum and standard deviation', async () => {
    const mean = await fixture.check('visits', 'expect_column_mean_to_be_between', {
      column: 'cost',
      min_value: 200,
      max_value: 300,
    });
    assert.deepEqual([mean.success, mean.observedValue], [true, 250]);
    assert.equal(
      (
        await fixture.check('visits', 'expect_column_mean_to_be_between', {
          column: 'cost',
          min_value: 250,
          strict_min: true,
        })
      ).success,
      false,
    );
    assert.equal(
      (
        await fixture.check('visits', 'expect_column_median_to_be_between', {
          column: 'cost',
          min_value: 250,
          max_value: 250,
        })
      ).success,
      true,
    );
    assert.equal(
      (await fixture.check('visits', 'expect_column_sum_to_be_between', { column: 'cost', max_value: 999 }))
        .success,
      false,
    );
    const stdev = await fixture.check('visits', 'expect_column_stdev_to_be_between', {
      column: 'cost',
      min_value: 129,
      max_value: 130,
    });
    assert.equal(stdev.success, true);
    assert.match(
      (await fixture.check('visits', 'expect_column_mean_to_be_between', { column: 'unit', min_value: 1 }))
        .error!,
      /needs a numeric column/,
    );
  });

  it('unique value count and proportion, within a row condition', async () => {
    const count = await fixture.check('visits', 'expect_column_unique_value_count_to_be_between', {
      column: 'unit',
      min_value: 3,
      max_value: 3,
    });
    assert.deepEqual([count.success, count.observedValue], [true, 3]);
    const proportion = await fixture.check(
      'visits',
      'expect_column_proportion_of_unique_values_to_be_between',
      { column: 'unit', min_value: 0.9 },
    );
    assert.deepEqual([proportion.success, proportion.observedValue], [false, 0.6]);
    const er = await fixture.check('visits', 'expect_column_unique_value_count_to_be_between', {
      column: 'cost',
      max_value: 3,
      row_condition: "unit = 'er'",
    });
    assert.deepEqual([er.success, er.observedValue], [true, 3]);
  });

  it('distinct values in, containing and equal to a set', async () => {
    const inSet = await fixture.check('visits', 'expect_column_distinct_values_to_be_in_set', {
      column: 'unit',
      value_set: ['er', 'icu'],
    });
    assert.deepEqual(
      [inSet.success, inSet.observedValue, inSet.sample],
      [false, ['er', 'icu', 'ward'], ['ward']],
    );
    const contains = await fixture.check('visits', 'expect_column_distinct_values_to_contain_set', {
      column: 'unit',
      value_set: ['er', 'nicu'],
    });
    assert.deepEqual([contains.success, contains.sample], [false, ['nicu']]);
    assert.equal(
      (
        await fixture.check('visits', 'expect_column_distinct_values_to_equal_set', {
          column: 'unit',
          value_set: ['ward', 'icu', 'er'],
        })
      ).success,
      true,
    );
    assert.equal(
      (
        await fixture.check('visits', 'expect_column_distinct_values_to_contain_set', {
          column: 'id',
          value_set: [1, 5],
        })
      ).success,
      true,
    );
  });

  it('most common value, with and without ties', async () => {
    const mode = await fixture.check('visits', 'expect_column_most_common_value_to_be_in_set', {
      column: 'unit',
      value_set: ['er'],
    });
    assert.deepEqual([mode.success, mode.observedValue], [true, ['er']]);
    const tie = await fixture.check('visits', 'expect_column_most_common_value_to_be_in_set', {
      column: 'unit',
      value_set: ['icu'],
      row_condition: "unit <> 'er'",
    });
    assert.deepEqual([tie.success, tie.observedValue], [false, ['icu', 'ward']]);
    const tiesOkay = await fixture.check('visits', 'expect_column_most_common_value_to_be_in_set', {
      column: 'unit',
      value_set: ['icu'],
      ties_okay: true,
      row_condition: "unit <> 'er'",
    });
    assert.equal(tiesOkay.success, true);
  });

  it('quantiles (discrete, as percentile_disc)', async () => {
    const ranges = {
      quantiles: [0, 0.5, 1],
      value_ranges: [
        [0, 100],
        [150, 250],
        [null, 400],
      ],
    };
    const result = await fixture.check('visits', 'expect_column_quantile_values_to_be_between', {
      column: 'cost',
      quantile_ranges: ranges,
    });
    assert.deepEqual(
      [result.success, result.observedValue],
      [true, { quantiles: [0, 0.5, 1], values: [100, 200, 400] }],
    );
    const tight = { quantiles: [0.5], value_ranges: [[250, 300]] };
    assert.equal(
      (
        await fixture.check('visits', 'expect_column_quantile_values_to_be_between', {
          column: 'cost',
          quantile_ranges: tight,
        })
      ).success,
      false,
    );
  });
});
