// Samples of unexpected values are GE's partial_unexpected_list: at most 20 by default, the first
// ones in the relation's order, in each family's shape (value, [a, b] pair, row object, SQL row).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runChecks } from '../../src/quality/index.ts';
import { openFixture, validation, type QualityFixture } from './quality-fixtures.ts';

describe('samples of unexpected values', () => {
  let fixture: QualityFixture;
  before(async () => {
    fixture = await openFixture(
      `CREATE TABLE readings AS SELECT i AS id, i % 2 AS a, 1 AS b, 'code-' || i AS code FROM range(50) t(i)`,
    );
  });
  after(() => fixture.close());

  it('hold the first 20 of 50 unexpected values, whatever the shape', async () => {
    const results = await runChecks(fixture.session, 'readings', [
      validation('expect_column_values_to_match_regex', { column: 'code', regex: '^x' }),
      validation('expect_column_pair_values_to_be_equal', { column_A: 'a', column_B: 'b' }),
      validation('expect_compound_columns_to_be_unique', { column_list: ['a', 'b'] }),
      validation('sql', { sql: 'select id from {{ this }} order by id' }),
    ]);
    const first20 = Array.from({ length: 20 }, (_, index) => index);
    assert.deepEqual(
      results.map((result) => [result.success, result.unexpectedCount, result.sample?.length]),
      [
        [false, 50, 20],
        [false, 25, 20],
        [false, 50, 20],
        [false, 50, 20],
      ],
    );
    assert.deepEqual(
      results[0]!.sample,
      first20.map((index) => `code-${index}`),
    );
    // The rows where a (0) differs from b (1): the even ids.
    assert.deepEqual(
      results[1]!.sample,
      first20.map(() => [0, 1]),
    );
    assert.deepEqual(
      results[2]!.sample,
      first20.map((index) => ({ a: index % 2, b: 1 })),
    );
    assert.deepEqual(
      results[3]!.sample,
      first20.map((id) => ({ id })),
    );
  });

  it('a sample size of 0 keeps the counts and drops the values', async () => {
    const [result] = await runChecks(
      fixture.session,
      'readings',
      [validation('expect_column_values_to_be_between', { column: 'id', max_value: 9 })],
      { sampleSize: 0 },
    );
    assert.deepEqual([result!.unexpectedCount, result!.sample], [40, []]);
  });
});
