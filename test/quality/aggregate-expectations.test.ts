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

  it('quantiles pick the values PostgreSQL percentile_disc picks; disordered ranges are refused', async () => {
    const quantiles = [0, 0.1, 0.25, 0.3, 0.4, 0.5, 0.7, 0.75, 0.9, 1];
    const open = quantiles.map(() => [null, null]);
    const result = await fixture.check(
      '(SELECT * FROM range(1, 11) t(x) UNION ALL SELECT NULL)',
      'expect_column_quantile_values_to_be_between',
      { column: 'x', quantile_ranges: { quantiles, value_ranges: open } },
    );
    // Read from PostgreSQL: percentile_disc(ARRAY[…]::float8[]) WITHIN GROUP (ORDER BY x) over 1..10.
    assert.deepEqual(result.observedValue, { quantiles, values: [1, 1, 3, 3, 4, 5, 7, 8, 9, 10] });
    const disordered = await fixture.check('visits', 'expect_column_quantile_values_to_be_between', {
      column: 'cost',
      quantile_ranges: {
        quantiles: [0.25, 0.75],
        value_ranges: [
          [0, 500],
          [400, 300],
        ],
      },
    });
    assert.equal(disordered.success, false);
    assert.match(disordered.error!, /quantile_ranges.*ordered \[min, max\] pairs.*range 2 is \[400,300\]/);
  });

  it('min and sum need a bound, as GE requires; the other statistics pass vacuously', async () => {
    for (const expectation of ['expect_column_min_to_be_between', 'expect_column_sum_to_be_between']) {
      for (const args of [{ column: 'cost' }, { column: 'cost', min_value: null, max_value: null }]) {
        const result = await fixture.check('visits', expectation, args);
        assert.equal(result.success, false, expectation);
        assert.match(result.error ?? '', /`min_value` and `max_value` cannot both be null/, expectation);
      }
    }
    for (const expectation of [
      'expect_column_max_to_be_between',
      'expect_column_mean_to_be_between',
      'expect_column_median_to_be_between',
      'expect_column_stdev_to_be_between',
    ]) {
      const result = await fixture.check('visits', expectation, { column: 'cost' });
      assert.deepEqual([result.success, result.error], [true, undefined], expectation);
    }
  });

  it('aggregate results count the rows looked at and the missing values (GE result_format COMPLETE)', async () => {
    const median = await fixture.check('visits', 'expect_column_median_to_be_between', {
      column: 'cost',
      min_value: 300,
      result_format: 'COMPLETE',
    });
    assert.deepEqual(
      [median.success, median.observedValue, median.elementCount, median.missingCount, median.missingPercent],
      [false, 250, 5, 1, 20],
    );
    const mode = await fixture.check('visits', 'expect_column_most_common_value_to_be_in_set', {
      column: 'admitted',
      value_set: ['2024-01-01T10:00:00'],
      ties_okay: true,
      row_condition: "unit = 'er'",
    });
    assert.deepEqual([mode.success, mode.elementCount, mode.missingCount], [true, 3, 1]);
    assert.ok(Math.abs(mode.missingPercent! - 100 / 3) < 1e-9);
    const stdev = await fixture.check('visits', 'expect_column_stdev_to_be_between', {
      column: 'id',
      max_value: 2,
    });
    assert.deepEqual([stdev.elementCount, stdev.missingCount, stdev.missingPercent], [5, 0, 0]);
    const empty = await fixture.check('visits', 'expect_column_mean_to_be_between', {
      column: 'cost',
      min_value: 0,
      row_condition: 'id > 99',
    });
    assert.deepEqual(
      [empty.success, empty.observedValue, empty.elementCount, empty.missingCount],
      [false, null, 0, 0],
    );
  });
});
