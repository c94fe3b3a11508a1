// The SQL a database source runs, built without a connection: quoting, the mark's comparisons,
// composite keys at the mark, and a cursor stored for another column.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DatabaseReadPlan,
  MYSQL_DIALECT,
  POSTGRES_DIALECT,
} from '../../src/ingest/sources/database-source.ts';
import type { FieldDef, TaskDef } from '../../src/model/index.ts';

function task(
  database: NonNullable<TaskDef['source']>['database'],
  columns: Record<string, string> = {},
): TaskDef {
  return {
    name: 'load',
    type: 'ingestion',
    target: 'a.b',
    source: { type: 'postgres', options: {}, columns, database },
    mode: 'merge',
    badRows: { action: 'fail', maxFraction: 0 },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: { file: 'tasks/t.yaml', line: 1, column: 1 },
  };
}

const field = (name: string, primaryKey = false): FieldDef => ({
  name,
  number: 1,
  type: { kind: 'scalar', sql: 'VARCHAR' },
  nullable: false,
  ...(primaryKey ? { primaryKey: true } : {}),
});

describe('DatabaseReadPlan', () => {
  it('reads a whole table, quoted, when there is no cursor', () => {
    const plan = new DatabaseReadPlan(
      POSTGRES_DIALECT,
      task({ url: 'postgres://h/d', table: 'Sales.Orders' }),
      [],
      undefined,
    );
    assert.equal(plan.rowsSql(), 'SELECT * FROM "Sales"."Orders" AS tessera_source');
  });

  it('reads past the mark, or at it with a composite key not read, up to the new mark', () => {
    const plan = new DatabaseReadPlan(
      POSTGRES_DIALECT,
      task({ url: 'postgres://h/d', query: 'select * from o;', cursor: 'ts' }, { order_ref: 'id' }),
      [field('id', true), field('line', true), field('note')],
      { column: 'ts', mark: '2026-01-01 00:00:00+00', keysAtMark: [['a', "1'"]] },
    );
    assert.deepEqual(plan.keyColumns, ['order_ref', 'line']);
    assert.equal(
      plan.rowsSql({ mark: '2026-02-01 00:00:00+00' }),
      'SELECT * FROM (select * from o) AS tessera_source WHERE ("ts" > \'2026-01-01 00:00:00+00\' OR ' +
        "(\"ts\" = '2026-01-01 00:00:00+00' AND ((\"order_ref\")::text, (\"line\")::text) NOT IN (('a', '1''')))) " +
        'AND "ts" <= \'2026-02-01 00:00:00+00\'',
    );
  });

  it('compares a numeric MySQL mark as a number and keys as bytes; backslashes are escaped', () => {
    const plan = new DatabaseReadPlan(
      MYSQL_DIALECT,
      task({ url: 'mysql://h/d', table: 'orders', cursor: 'version' }),
      [field('id', true)],
      { column: 'version', mark: '9007199254740993', numeric: true, keysAtMark: [['x\\y']] },
    );
    assert.equal(
      plan.markSql((expression) => expression),
      'SELECT max(`version`) AS mark FROM `orders` AS tessera_source WHERE (`version` > 9007199254740993 OR ' +
        "(`version` = 9007199254740993 AND CAST(`id` AS BINARY) NOT IN ('x\\\\y')))",
    );
  });

  it('starts over in full when the stored cursor belongs to another column', () => {
    const plan = new DatabaseReadPlan(
      POSTGRES_DIALECT,
      task({ url: 'postgres://h/d', table: 'orders', cursor: 'updated_at' }),
      [],
      { column: 'created_at', mark: '1' },
    );
    assert.equal(plan.previous, undefined);
    assert.equal(
      plan.markSql((expression) => expression),
      'SELECT max("updated_at") AS mark FROM "orders" AS tessera_source',
    );
  });
});
