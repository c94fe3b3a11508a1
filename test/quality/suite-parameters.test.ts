import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validationProblems } from '../../src/quality/index.ts';
import { openFixture, validation, type QualityFixture } from './quality-fixtures.ts';

// GE's evaluation parameters: `{ $PARAMETER: "…" }` computed when the check runs, with the clock
// injected so `now()` is known.
describe('$PARAMETER arguments', () => {
  let fixture: QualityFixture;
  const now = () => new Date('2024-06-01T00:00:00Z');
  before(async () => {
    fixture = await openFixture(
      `CREATE TABLE shipments AS SELECT * FROM (VALUES
        (1, TIMESTAMP '2023-05-20 08:00:00', DATE '2023-05-20'),
        (2, TIMESTAMP '2024-05-30 12:30:00', DATE '2024-05-30'),
        (3, TIMESTAMP '2024-07-01 00:00:00', DATE '2024-07-01'),
        (4, NULL, NULL)
      ) t(id, shipped_at, shipped_on)`,
    );
  });
  after(() => fixture.close());

  it('bounds a timestamp column by now(), now() - timedelta(…) and datetime(…)', async () => {
    const notFuture = await fixture.check(
      'shipments',
      'expect_column_values_to_be_between',
      { column: 'shipped_at', max_value: { $PARAMETER: 'now()' } },
      { now },
    );
    assert.deepEqual(
      [notFuture.success, notFuture.unexpectedCount, notFuture.sample],
      [false, 1, ['2024-07-01T00:00:00']],
    );
    const lastYear = await fixture.check(
      'shipments',
      'expect_column_values_to_be_between',
      {
        column: 'shipped_on',
        min_value: { $PARAMETER: 'now() - timedelta(weeks=52)' },
        max_value: { $PARAMETER: 'datetime(2024, 12, 31)' },
      },
      { now },
    );
    // 52 weeks before 2024-06-01 is 2023-06-03: the shipment of 2023-05-20 is older.
    assert.deepEqual([lastYear.success, lastYear.sample], [false, ['2023-05-20']]);
    const oldest = await fixture.check(
      'shipments',
      'expect_column_min_to_be_between',
      { column: 'shipped_at', min_value: { $PARAMETER: 'now() - timedelta(days=365, hours=12)' } },
      { now },
    );
    assert.deepEqual([oldest.success, oldest.observedValue], [false, '2023-05-20T08:00:00']);
    const later = await fixture.check(
      'shipments',
      'expect_column_values_to_be_between',
      { column: 'shipped_at', max_value: { $PARAMETER: 'now()' } },
      { now: () => new Date('2025-01-01T00:00:00Z') },
    );
    assert.equal(later.success, true);
  });

  it('computes numbers as GE does, and takes a value given as $PARAMETER.<expression>', async () => {
    // trunc(10.0) + round(2.5) = 10 + 2: Python rounds halves to even.
    const count = await fixture.check('shipments', 'expect_table_row_count_to_equal', {
      value: { $PARAMETER: 'trunc(2.5 * 4) + round(2.5) - 2^3' },
    });
    assert.deepEqual([count.success, count.observedValue], [true, 4]);
    const given = await fixture.check('shipments', 'expect_column_max_to_be_between', {
      column: 'id',
      max_value: { $PARAMETER: 'max_id', '$PARAMETER.max_id': 2 },
    });
    assert.deepEqual([given.success, given.observedValue], [false, 4]);
  });

  it('reports an expression it cannot compute, naming the argument', async () => {
    const unknown = validationProblems(
      validation('expect_column_values_to_be_between', {
        column: 'shipped_at',
        min_value: { $PARAMETER: 'upstream_min + 1' },
      }),
    );
    assert.equal(unknown.length, 1);
    assert.match(
      unknown[0]!,
      /^`min_value`: `\$PARAMETER` "upstream_min \+ 1" names `upstream_min`, which has no value/,
    );
    for (const [expression, message] of [
      ['now() +', /ends too early/],
      ['datetime(2024, 2, 30)', /date that does not exist/],
      ['timedelta(days=1)', /computes a duration/],
      ['now() * 2', /multiplies a datetime by a number/],
      ['sqrt(4)', /calls `sqrt\(\)`/],
    ] as const) {
      const result = await fixture.check('shipments', 'expect_column_values_to_be_between', {
        column: 'shipped_at',
        min_value: { $PARAMETER: expression },
      });
      assert.equal(result.success, false, expression);
      assert.match(result.error ?? '', message, expression);
    }
    assert.deepEqual(
      validationProblems(
        validation('expect_column_values_to_be_between', {
          column: 'shipped_at',
          min_value: { $PARAMETER: 'now() - timedelta(days=7)' },
        }),
      ),
      [],
    );
  });
});
