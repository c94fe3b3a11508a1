import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runChecks } from '../../src/quality/index.ts';
import { openFixture, recordingSession, validation, type QualityFixture } from './quality-fixtures.ts';

const TEN_TYPICAL_CHECKS = [
  validation('expect_column_values_to_not_be_null', { column: 'id' }),
  validation('expect_column_values_to_be_unique', { column: 'id' }),
  validation('expect_column_values_to_be_between', { column: 'amount', min_value: 0, max_value: 1000 }),
  validation('expect_column_values_to_be_in_set', {
    column: 'status',
    value_set: ['new', 'paid', 'shipped'],
  }),
  validation('expect_column_values_to_match_regex', { column: 'ssn', regex: '^[0-9]{3}-[0-9]{2}-[0-9]{4}$' }),
  validation('expect_column_value_lengths_to_be_between', { column: 'status', min_value: 3, max_value: 10 }),
  validation('expect_column_mean_to_be_between', { column: 'amount', min_value: 0, max_value: 1000 }),
  validation('expect_compound_columns_to_be_unique', { column_list: ['order_group', 'line_no'] }),
  validation('expect_table_row_count_to_be_between', { min_value: 1 }),
  validation('expect_column_pair_values_a_to_be_greater_than_b', { column_A: 'amount', column_B: 'cost' }),
];

describe('runChecks', () => {
  let fixture: QualityFixture;
  let directory: string;
  before(async () => {
    directory = mkdtempSync(join(tmpdir(), 'tessera-quality-'));
    fixture = await openFixture(
      `CREATE TABLE orders AS SELECT
         i AS id, i // 2 AS order_group, i % 2 AS line_no, 10.0 + i AS amount, 5.0 + i AS cost,
         ['new', 'paid', 'shipped'][1 + i % 3] AS status,
         printf('%03d-%02d-%04d', i, i, i) AS ssn,
         TIMESTAMP '2024-03-01 12:00:00' - INTERVAL (i) HOUR AS updated_at
       FROM range(40) t(i)`,
      `COPY orders TO '${join(directory, 'orders.parquet')}' (FORMAT parquet)`,
    );
  });
  after(async () => {
    await fixture.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('fuses ten passing checks into one scan (after a describe and a metadata pre-pass)', async () => {
    const session = recordingSession(fixture.session);
    const results = await runChecks(session, 'orders', TEN_TYPICAL_CHECKS);
    assert.deepEqual(
      results.filter((result) => !result.success),
      [],
    );
    assert.equal(session.statements.length, 3);
    assert.match(session.statements[0]!, /LIMIT 0$/);
    assert.match(session.statements[1]!, /^SELECT\s+min\("id"\)/);
    assert.match(session.statements[2]!, /bitstring_agg/);
  });

  it('runs a sample query only for the checks with unexpected values', async () => {
    const session = recordingSession(fixture.session);
    const results = await runChecks(session, 'orders', [
      ...TEN_TYPICAL_CHECKS,
      validation('expect_column_values_to_be_between', { column: 'amount', max_value: 12 }),
      validation('expect_column_values_to_be_in_set', { column: 'status', value_set: ['new'], mostly: 0.1 }),
    ]);
    assert.deepEqual(
      results.map((result) => result.success),
      [...TEN_TYPICAL_CHECKS.map(() => true), false, true],
    );
    assert.equal(session.statements.length, 5);
    // GE's partial_unexpected_list: the first 20 unexpected values, in the relation's order.
    assert.deepEqual(
      results[10]!.sample,
      Array.from({ length: 20 }, (_, index) => 13 + index),
    );
    assert.equal(results[10]!.unexpectedCount, 37);
    assert.deepEqual(
      results[11]!.sample,
      Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? 'paid' : 'shipped')),
    );
    assert.match(session.statements[3]!, / LIMIT 20$/);
  });

  it('copies severity and honours the sample size', async () => {
    const [result] = await runChecks(
      fixture.session,
      'orders',
      [validation('expect_column_values_to_be_between', { column: 'id', max_value: 30 }, 'warn')],
      { sampleSize: 2 },
    );
    assert.deepEqual(result, {
      expectation: 'expect_column_values_to_be_between',
      args: { column: 'id', max_value: 30 },
      severity: 'warn',
      success: false,
      elementCount: 40,
      missingCount: 0,
      missingPercent: 0,
      unexpectedCount: 9,
      unexpectedPercent: 22.5,
      sample: [31, 32],
    });
  });

  it('turns an unknown column or a SQL error into that check’s error, keeping the others', async () => {
    const results = await runChecks(fixture.session, 'orders', [
      validation('expect_column_values_to_not_be_null', { column: 'nope' }),
      validation('expect_column_values_to_match_regex', { column: 'status', regex: '([' }),
      validation('expect_column_values_to_not_be_null', {
        column: 'id',
        row_condition: 'no_such_column > 1',
      }),
      validation('expect_column_values_to_not_be_null', { column: 'id' }),
      validation('expect_bogus', {}),
    ]);
    assert.match(results[0]!.error!, /^column `nope` does not exist \(columns: id, order_group/);
    assert.match(results[1]!.error!, /^Invalid Input Error: missing \]/);
    assert.match(results[2]!.error!, /no_such_column/);
    assert.deepEqual([results[3]!.success, results[3]!.error], [true, undefined]);
    assert.equal(results[4]!.error, 'unknown expectation `expect_bogus`');
    assert.ok(results.slice(0, 3).every((result) => result.success === false));
  });

  it('runs sql checks: rows returned are failures, sampled as rows', async () => {
    const results = await runChecks(
      fixture.session,
      'orders',
      [
        validation(
          'sql',
          { sql: "select id, status from {{ this }} where status = 'new' and id > 30 order by id" },
          'warn',
        ),
        validation('sql', { sql: 'select * from {{ this }} where id < 0' }),
        validation('sql', {
          sql: "select o.id from {{ this }} o join {{ ref('shop.orders') }} p using (id) where p.cost > o.amount",
        }),
      ],
      { sampleSize: 2, resolveTable: (name) => (name === 'shop.orders' ? 'orders' : undefined) },
    );
    assert.deepEqual(results[0], {
      expectation: 'sql',
      args: { sql: "select id, status from {{ this }} where status = 'new' and id > 30 order by id" },
      severity: 'warn',
      success: false,
      observedValue: '3 unexpected rows',
      unexpectedCount: 3,
      sample: [
        { id: 33, status: 'new' },
        { id: 36, status: 'new' },
      ],
    });
    assert.deepEqual([results[1]!.success, results[1]!.unexpectedCount, results[1]!.sample], [true, 0, []]);
    assert.equal(results[2]!.success, true);
  });

  it('validates a staged Parquet version given as read_parquet', async () => {
    const relation = `read_parquet(['${join(directory, 'orders.parquet')}'])`;
    const results = await runChecks(fixture.session, relation, TEN_TYPICAL_CHECKS);
    assert.ok(
      results.every((result) => result.success),
      JSON.stringify(results.filter((result) => !result.success)),
    );
  });

  it('reports an unreadable relation on every check', async () => {
    const results = await runChecks(fixture.session, 'missing_table', TEN_TYPICAL_CHECKS.slice(0, 2));
    assert.equal(results.length, 2);
    for (const result of results)
      assert.match(result.error!, /^cannot read the data under validation: Catalog Error/);
  });

  it('judges freshness on the newest timestamp', async () => {
    const now = new Date('2024-03-02T00:00:00Z');
    const [fresh] = await runChecks(fixture.session, 'orders', [], {
      freshness: { column: 'updated_at', warnAfterMs: 13 * 3600_000, errorAfterMs: 48 * 3600_000, now },
    });
    assert.deepEqual(fresh, {
      expectation: 'freshness',
      args: { column: 'updated_at', warn_after_ms: 13 * 3600_000, error_after_ms: 48 * 3600_000 },
      severity: 'warn',
      success: true,
      observedValue: { latest: '2024-03-01T12:00:00', ageMs: 12 * 3600_000 },
    });
    const [stale] = await runChecks(fixture.session, 'orders', [], {
      freshness: { column: 'updated_at', warnAfterMs: 3600_000, errorAfterMs: 2 * 3600_000, now },
    });
    assert.deepEqual([stale!.success, stale!.severity], [false, 'error']);
  });
});
