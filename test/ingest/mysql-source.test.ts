// `source: { type: mysql }` against the real MariaDB: 50,000 rows in full, then only what changed
// past the cursor (ties at the mark included: DATETIME has whole seconds), a failed run that leaves
// the cursor where it was, exact values (decimals, bigints past 2^53, dates, text with quotes and
// line breaks), and the messages of a bad URL and a missing table.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mysql from 'mysql2/promise';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { sourceTaskRepo } from '../support/source-task-repo.ts';
import { requireService } from '../support/services.ts';

const url = process.env.TESSERA_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const mariadb = await requireService(`MariaDB at ${new URL(url).host}`, async () => {
  const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
  try {
    await connection.query('select 1');
  } finally {
    await connection.end().catch(() => {});
  }
});

// This file's own table, so parallel test files never meet.
const TABLE = `tessera_orders_${randomBytes(5).toString('hex')}`;
const ROWS = 50_000;
// The bad-URL test's password comes from a variable, as a repo must give it.
const ENV = { ...process.env, DB_PASSWORD: 'pa55-w0rd' };

function repoFiles(source: string, mode = 'merge'): Record<string, string> {
  return {
    'tessera.yaml': 'name: mysql-source\n',
    'owners/o.yaml': 'kind: owner\nname: sales\n',
    'schemas/orders.proto': `syntax = "proto3";
package sales;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";
import "google/type/date.proto";
message Order {
  int64 id = 1 [(tessera.field) = { primary_key: true }];
  string customer = 2;
  string amount = 3 [(tessera.field) = { decimal: "12,2" }];
  int64 big = 4;
  google.protobuf.Timestamp updated_at = 5;
  google.type.Date placed_on = 6;
  bool active = 7;
}
`,
    'tables/orders.yaml':
      'kind: table\nname: sales.orders\nowner: sales\nschema: schemas/orders.proto#sales.Order\n',
    'tasks/orders.yaml': `kind: task
name: load_orders
type: ingestion
target: sales.orders
mode: ${mode}
source:
${source}`,
  };
}

async function sql(text: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: url, multipleStatements: true });
  try {
    await connection.query(text);
  } finally {
    await connection.end();
  }
}

const { appliedRepo, runOnce, query, storedCursor } = sourceTaskRepo('load_orders', ENV);

describe('mysql source', { skip: mariadb.skip }, () => {
  before(async () => {
    // Ten rows share each second of `updated_at`, so the high-water mark has ties.
    await sql(`
      CREATE TABLE ${TABLE} (
        id bigint PRIMARY KEY, customer varchar(100), amount decimal(12,2), big bigint,
        updated_at datetime NOT NULL, placed_on date, active tinyint(1));
      INSERT INTO ${TABLE}
        SELECT seq, concat('c', seq % 100), (seq * 37 % 100000) / 100.0, 9007199254740993 + seq,
               timestamp '2026-01-01 00:00:00' + interval (seq DIV 10) second,
               date '2020-01-01' + interval (seq % 1000) day, seq % 2 = 0
        FROM seq_1_to_${ROWS};
      UPDATE ${TABLE} SET customer = 'O''Brien, "Jr"\nsecond line' WHERE id = 5;`);
  });
  after(() => sql(`DROP TABLE IF EXISTS ${TABLE}`));

  test('a merge on a cursor reads every row once, then exactly the rows updated or added past the mark', async () => {
    const repo = await appliedRepo(
      repoFiles(`  type: mysql\n  url: ${url}\n  table: test.${TABLE}\n  cursor: updated_at\n`),
    );
    const first = await runOnce(repo);
    assert.equal(first.run.status, 'succeeded', first.run.error);
    assert.equal(first.run.rowsWritten, ROWS);
    assert.ok(
      first.log.includes(
        `read 50,000 rows of the mysql source's table test.${TABLE} up to 2026-01-01 01:23:20 into the staged CSV`,
      ),
      first.log.join('\n'),
    );
    // Exact values: a bigint past 2^53, a decimal, a date, a timestamp, a boolean.
    assert.deepEqual(
      await query(
        repo,
        'select id, customer, cast(amount as varchar) as amount, cast(big as varchar) as big, ' +
          "strftime(updated_at, '%Y-%m-%d %H:%M:%S') as updated_at, cast(placed_on as varchar) as placed_on, active " +
          'from sales.orders where id in (1, 50000) order by id',
      ),
      [
        {
          id: 1,
          customer: 'c1',
          amount: '0.37',
          big: '9007199254740994',
          updated_at: '2026-01-01 00:00:00',
          placed_on: '2020-01-02',
          active: false,
        },
        {
          id: 50000,
          customer: 'c0',
          amount: '500.00',
          big: '9007199254790993',
          updated_at: '2026-01-01 01:23:20',
          placed_on: '2020-01-01',
          active: true,
        },
      ],
    );
    assert.deepEqual(await query(repo, 'select customer from sales.orders where id = 5'), [
      { customer: 'O\'Brien, "Jr"\nsecond line' },
    ]);
    assert.deepEqual(await storedCursor(repo), {
      column: 'updated_at',
      mark: '2026-01-01 01:23:20',
      keysAtMark: [['50000']],
    });

    // Three rows updated (their cursor bumped), one added.
    await sql(`
      UPDATE ${TABLE} SET customer = 'changed', updated_at = timestamp '2026-02-01 00:00:00' WHERE id IN (10, 20, 30);
      INSERT INTO ${TABLE} VALUES (50001, 'new', 1.5, 1, timestamp '2026-02-01 00:00:00', date '2026-02-01', true);`);
    const second = await runOnce(repo);
    assert.equal(second.run.status, 'succeeded', second.run.error);
    assert.ok(
      second.log.includes(
        `read 4 rows of the mysql source's table test.${TABLE} past updated_at 2026-01-01 01:23:20 up to 2026-02-01 00:00:00 into the staged CSV`,
      ),
      second.log.join('\n'),
    );
    assert.equal(second.run.rowsWritten, ROWS + 1);
    assert.deepEqual(
      await query(
        repo,
        "select id, customer from sales.orders where customer in ('changed', 'new') order by id",
      ),
      [
        { id: 10, customer: 'changed' },
        { id: 20, customer: 'changed' },
        { id: 30, customer: 'changed' },
        { id: 50001, customer: 'new' },
      ],
    );
    assert.deepEqual(await query(repo, "select count(*) as n from sales.orders where customer = 'c10'"), [
      { n: 499 },
    ]);

    // A row written later at the mark itself is still read; the four already read are not.
    await sql(
      `INSERT INTO ${TABLE} VALUES (50002, 'tie', 2.5, 2, timestamp '2026-02-01 00:00:00', date '2026-02-01', false)`,
    );
    const third = await runOnce(repo);
    assert.equal(third.run.status, 'succeeded', third.run.error);
    assert.ok(
      third.log.includes(
        `read 1 row of the mysql source's table test.${TABLE} past updated_at 2026-02-01 00:00:00 up to 2026-02-01 00:00:00 into the staged CSV`,
      ),
      third.log.join('\n'),
    );
    assert.deepEqual(await query(repo, 'select count(*) as n, max(id) as top from sales.orders'), [
      { n: 50002, top: 50002 },
    ]);

    const fourth = await runOnce(repo);
    assert.equal(fourth.run.status, 'skipped');
    assert.equal(
      fourth.run.error,
      `nothing new in the mysql source's table test.${TABLE}: no row has updated_at past 2026-02-01 00:00:00 (the mark of the last published run)`,
    );
    // The staged rows never stay beside the version's files.
    const platform = await Platform.open({ repo, env: ENV });
    const current = await internalsOf(platform).store.getCurrentVersion('sales.orders');
    await platform.close();
    const folder = join(repo, '.tessera/warehouse', current!.files[0]!, '..');
    assert.deepEqual(await readdir(folder), ['part-0.parquet']);
    assert.equal(existsSync(join(folder, 'source')), false);
  });

  test('a failed run leaves the cursor where it was, and the next run reads the same rows again', async () => {
    const table = `${TABLE}_failing`;
    await sql(
      `CREATE TABLE ${table} LIKE ${TABLE}; INSERT INTO ${table} SELECT * FROM ${TABLE} WHERE id <= 100`,
    );
    try {
      const repo = await appliedRepo(
        repoFiles(`  type: mysql\n  url: ${url}\n  table: ${table}\n  cursor: updated_at\n`),
      );
      assert.equal((await runOnce(repo)).run.status, 'succeeded');
      const before = await storedCursor(repo);
      await sql(
        `UPDATE ${table} SET customer = NULL, updated_at = timestamp '2026-03-01 00:00:00' WHERE id = 40`,
      );
      const failed = await runOnce(repo);
      assert.equal(failed.run.status, 'failed');
      assert.match(failed.run.error!, /customer/);
      assert.deepEqual(await storedCursor(repo), before);

      await sql(`UPDATE ${table} SET customer = 'fixed' WHERE id = 40`);
      const retried = await runOnce(repo);
      assert.equal(retried.run.status, 'succeeded', retried.run.error);
      assert.deepEqual(await query(repo, 'select customer from sales.orders where id = 40'), [
        { customer: 'fixed' },
      ]);
      assert.deepEqual(await storedCursor(repo), {
        column: 'updated_at',
        mark: '2026-03-01 00:00:00',
        keysAtMark: [['40']],
      });
    } finally {
      await sql(`DROP TABLE IF EXISTS ${table}`);
    }
  });

  test('a full read of a query replaces the table with its rows', async () => {
    const repo = await appliedRepo(
      repoFiles(`  type: mysql\n  url: ${url}\n  query: select * from ${TABLE} where id <= 10;\n`, 'replace'),
    );
    const { run } = await runOnce(repo);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.rowsWritten, 10);
    assert.equal(await storedCursor(repo), undefined);
  });

  test('a server that cannot be reached fails the run naming the task, the URL without its password and what to check', async () => {
    const repo = await appliedRepo(
      repoFiles(
        `  type: mysql\n  url: mysql://reader:\${DB_PASSWORD}@127.0.0.1:1/test\n  table: test.${TABLE}\n`,
        'replace',
      ),
    );
    const { run, log } = await runOnce(repo);
    assert.equal(run.status, 'failed');
    assert.equal(log.join('\n').includes('pa55-w0rd'), false);
    assert.equal(
      run.error,
      'task load_orders: cannot connect to the mysql source at mysql://reader@127.0.0.1:1/test: connect ECONNREFUSED 127.0.0.1:1; ' +
        'check source.url in tasks/orders.yaml (host, port, database, user, password) and that the database server is running',
    );
  });

  test('a table that does not exist fails the run naming the task and the table', async () => {
    const repo = await appliedRepo(
      repoFiles(`  type: mysql\n  url: ${url}\n  table: no_such_table\n`, 'replace'),
    );
    const { run } = await runOnce(repo);
    assert.equal(run.status, 'failed');
    assert.equal(
      run.error,
      "task load_orders: the mysql source has no table no_such_table (Table 'test.no_such_table' doesn't exist); " +
        'check source.table in tasks/orders.yaml, or create the table',
    );
  });
});
