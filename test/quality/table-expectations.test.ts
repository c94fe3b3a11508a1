import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openFixture, type QualityFixture } from './quality-fixtures.ts';

describe('table expectations', () => {
  let fixture: QualityFixture;
  before(async () => {
    fixture = await openFixture(
      "CREATE TABLE orders AS SELECT * FROM (VALUES (1, 'a', 2.5), (2, 'b', NULL), (3, NULL, 1.0)) t(id, code, amount)",
      'CREATE TABLE customers AS SELECT * FROM range(3) t(id)',
    );
  });
  after(() => fixture.close());

  it('row count between passes and fails, with the count observed', async () => {
    assert.deepEqual(
      {
        ...(await fixture.check('orders', 'expect_table_row_count_to_be_between', {
          min_value: 1,
          max_value: 3,
        })),
      },
      {
        expectation: 'expect_table_row_count_to_be_between',
        args: { min_value: 1, max_value: 3 },
        severity: 'error',
        success: true,
        observedValue: 3,
      },
    );
    const strict = await fixture.check('orders', 'expect_table_row_count_to_be_between', {
      max_value: 3,
      strict_max: true,
    });
    assert.equal(strict.success, false);
  });

  it('row count within a row condition', async () => {
    const result = await fixture.check('orders', 'expect_table_row_count_to_equal', {
      value: 2,
      row_condition: 'amount IS NOT NULL',
    });
    assert.equal(result.success, true);
    assert.equal(result.observedValue, 2);
  });

  it('row count equal to another table resolved by name', async () => {
    const resolveTable = (name: string) => (name === 'shop.customers' ? 'customers' : undefined);
    const same = await fixture.check(
      'orders',
      'expect_table_row_count_to_equal_other_table',
      { other_table_name: 'shop.customers' },
      { resolveTable },
    );
    assert.deepEqual([same.success, same.observedValue], [true, { self: 3, other: 3 }]);
    const unknown = await fixture.check(
      'orders',
      'expect_table_row_count_to_equal_other_table',
      { other_table_name: 'shop.nope' },
      { resolveTable },
    );
    assert.equal(unknown.success, false);
    assert.match(unknown.error!, /table `shop.nope` is not known/);
  });

  it('column count and column sets', async () => {
    assert.equal(
      (await fixture.check('orders', 'expect_table_column_count_to_equal', { value: 3 })).success,
      true,
    );
    assert.equal(
      (await fixture.check('orders', 'expect_table_column_count_to_be_between', { min_value: 4 })).success,
      false,
    );
    const exact = await fixture.check('orders', 'expect_table_columns_to_match_set', {
      column_set: ['id', 'code'],
    });
    assert.deepEqual(
      [exact.success, exact.observedValue, exact.sample],
      [false, ['id', 'code', 'amount'], ['unexpected: amount']],
    );
    assert.equal(
      (
        await fixture.check('orders', 'expect_table_columns_to_match_set', {
          column_set: ['id', 'code'],
          exact_match: false,
        })
      ).success,
      true,
    );
    assert.equal(
      (
        await fixture.check('orders', 'expect_table_columns_to_match_ordered_list', {
          column_list: ['id', 'code', 'amount'],
        })
      ).success,
      true,
    );
    assert.equal(
      (
        await fixture.check('orders', 'expect_table_columns_to_match_ordered_list', {
          column_list: ['code', 'id', 'amount'],
        })
      ).success,
      false,
    );
  });

  it('column to exist, optionally at an index', async () => {
    assert.equal(
      (await fixture.check('orders', 'expect_column_to_exist', { column: 'code', column_index: 1 })).success,
      true,
    );
    assert.equal(
      (await fixture.check('orders', 'expect_column_to_exist', { column: 'code', column_index: 0 })).success,
      false,
    );
    assert.equal(
      (await fixture.check('orders', 'expect_column_to_exist', { column: 'nope' })).success,
      false,
    );
  });
});
