import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openFixture, type QualityFixture } from './quality-fixtures.ts';

describe('multi-column expectations', () => {
  let fixture: QualityFixture;
  before(async () => {
    fixture = await openFixture(
      `CREATE TABLE lines AS SELECT * FROM (VALUES
        (1, 1, 'a', 10.0, 4.0, 6.0),
        (1, 2, 'b', 10.0, 10.0, 0.0),
        (2, 1, 'a', 5.0, NULL, 5.0),
        (2, 1, 'c', NULL, NULL, NULL),
        (NULL, NULL, 'd', 3.0, 1.0, 2.0)
      ) t(order_id, line_no, sku, price, cost, margin)`,
    );
  });
  after(() => fixture.close());

  it('compound uniqueness over integers and text, duplicates sampled as rows', async () => {
    const keys = await fixture.check('lines', 'expect_compound_columns_to_be_unique', {
      column_list: ['order_id', 'line_no'],
    });
    assert.deepEqual(
      [keys.success, keys.unexpectedCount, keys.sample],
      [
        false,
        2,
        [
          { order_id: 2, line_no: 1 },
          { order_id: 2, line_no: 1 },
        ],
      ],
    );
    assert.equal(
      (
        await fixture.check('lines', 'expect_compound_columns_to_be_unique', {
          column_list: ['order_id', 'sku'],
        })
      ).success,
      true,
    );
    const mostly = await fixture.check('lines', 'expect_compound_columns_to_be_unique', {
      column_list: ['order_id', 'line_no'],
      mostly: 0.5,
    });
    assert.deepEqual([mostly.success, mostly.elementCount, mostly.unexpectedPercent], [true, 5, 50]);
  });

  it('a greater than b, or equal, skipping rows where both are missing', async () => {
    const greater = await fixture.check('lines', 'expect_column_pair_values_a_to_be_greater_than_b', {
      column_A: 'price',
      column_B: 'cost',
    });
    assert.deepEqual(
      [greater.success, greater.sample],
      [
        false,
        // GE: a pair's unexpected values are [a, b] lists, not objects.
        [
          [10, 10],
          [5, null],
        ],
      ],
    );
    const orEqual = await fixture.check('lines', 'expect_column_pair_values_a_to_be_greater_than_b', {
      column_A: 'price',
      column_B: 'cost',
      or_equal: true,
      ignore_row_if: 'either_value_is_missing',
    });
    assert.equal(orEqual.success, true);
  });

  it('pair equal and pair in set', async () => {
    const equal = await fixture.check('lines', 'expect_column_pair_values_to_be_equal', {
      column_A: 'price',
      column_B: 'cost',
      mostly: 0.25,
    });
    assert.equal(equal.success, true);
    const pairs = await fixture.check('lines', 'expect_column_pair_values_to_be_in_set', {
      column_A: 'order_id',
      column_B: 'sku',
      value_pairs_set: [
        [1, 'a'],
        [1, 'b'],
        [2, 'a'],
      ],
    });
    assert.deepEqual(
      [pairs.success, pairs.sample],
      [
        false,
        [
          [2, 'c'],
          [null, 'd'],
        ],
      ],
    );
  });

  it('multicolumn sum, with ignore_row_if', async () => {
    const sum = await fixture.check('lines', 'expect_multicolumn_sum_to_equal', {
      column_list: ['cost', 'margin'],
      sum_total: 10,
      ignore_row_if: 'any_value_is_missing',
    });
    assert.deepEqual([sum.success, sum.unexpectedCount, sum.sample], [false, 1, [{ cost: 1, margin: 2 }]]);
    const withMissing = await fixture.check('lines', 'expect_multicolumn_sum_to_equal', {
      column_list: ['cost', 'margin'],
      sum_total: 10,
    });
    assert.equal(withMissing.unexpectedCount, 2);
  });

  it('values unique within a record', async () => {
    const result = await fixture.check('lines', 'expect_select_column_values_to_be_unique_within_record', {
      column_list: ['order_id', 'line_no'],
    });
    assert.deepEqual([result.success, result.sample], [false, [{ order_id: 1, line_no: 1 }]]);
    assert.equal(
      (
        await fixture.check('lines', 'expect_select_column_values_to_be_unique_within_record', {
          column_list: ['order_id', 'margin'],
        })
      ).success,
      true,
    );
  });
});
