// The same projection definitions give the same rows on DuckDB and PostgreSQL: a version is written
// once by DuckDB, read in place there and loaded into PostgreSQL with COPY, published by swapping
// the table's view, and the projection SQL runs unchanged on both. Masks hold on both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type EngineSession } from '../../src/engines/engine.ts';
import { PostgresEngine } from '../../src/engines/postgres/postgres-engine.ts';
import { maskExpression } from '../../src/governance/mask-compiler.ts';
import type { FieldType } from '../../src/model/index.ts';
import {
  POSTGRES_SERVER,
  createScratchDatabase,
  dropScratchDatabase,
  requirePostgres,
} from '../support/postgres-server.ts';

const DATABASE = `tessera_cross_engine_${process.pid}`;
const { skip } = await requirePostgres();

const COLUMNS: { name: string; type: FieldType }[] = [
  { name: 'id', type: { kind: 'scalar', sql: 'BIGINT' } },
  { name: 'region', type: { kind: 'scalar', sql: 'VARCHAR' } },
  { name: 'email', type: { kind: 'scalar', sql: 'VARCHAR' } },
  { name: 'amount', type: { kind: 'decimal', precision: 10, scale: 2 } },
  { name: 'placed', type: { kind: 'scalar', sql: 'DATE' } },
];

/** Projection definitions in the portable subset: the same text on both engines. */
const PROJECTIONS = [
  `SELECT region, count(*) AS orders, sum(amount) AS total, min(placed) AS first_placed
     FROM orders GROUP BY region ORDER BY region`,
  `SELECT id, upper(region) AS region, CASE WHEN amount > 10 THEN 'big' ELSE 'small' END AS size,
          coalesce(email, 'none') AS email
     FROM orders WHERE placed >= DATE '2024-01-02' ORDER BY id`,
  `SELECT o.region, count(DISTINCT o.id) AS n, avg(o.amount) AS mean
     FROM orders o JOIN orders p ON o.region = p.region AND o.id <> p.id GROUP BY o.region ORDER BY o.region`,
];

test(
  'the same projections give the same rows, and masks the same values, on DuckDB and PostgreSQL',
  { skip },
  async () => {
    const folder = await mkdtemp(join(tmpdir(), 'tessera-cross-engine-'));
    const duckdb = await DuckdbEngine.create();
    await createScratchDatabase(DATABASE);
    const postgres = await PostgresEngine.create(`${POSTGRES_SERVER}/${DATABASE}`);
    let duck: EngineSession | undefined;
    let pgSession: EngineSession | undefined;
    try {
      duck = await duckdb.openSession();
      const versionFile = (version: number) => join(folder, `orders-v${version}.parquet`);
      const csvFile = (version: number) => join(folder, `orders-v${version}.csv`);
      const write = async (version: number, values: string) => {
        const casts = COLUMNS.map(
          (column) => duckdb.dialect.cast(column.name, column.type) + ` AS ${column.name}`,
        );
        await duck!.run(
          `COPY (SELECT ${casts.join(', ')} FROM (VALUES ${values}) AS t(id, region, email, amount, placed)) TO ${quoteLiteral(versionFile(version))} (FORMAT parquet)`,
        );
        // The conformed version, handed to PostgreSQL as CSV bytes DuckDB writes.
        await duck!.run(
          `COPY (SELECT * FROM ${duckdb.dialect.filesRelation!([versionFile(version)])}) TO ${quoteLiteral(csvFile(version))} (FORMAT csv, HEADER)`,
        );
        await postgres.loadVersion('orders', version, COLUMNS, csvFile(version));
        await postgres.publishVersion('orders', version);
      };
      await write(1, `(1, 'north', 'a@x.org', 10.50, '2024-01-01'), (2, 'north', NULL, 4.25, '2024-01-03')`);
      await write(
        2,
        `(1, 'north', 'a@x.org', 10.50, '2024-01-01'), (2, 'north', NULL, 4.25, '2024-01-03'),
       (3, 'south', 'c@y.com', 12.00, '2024-01-02'), (4, 'south', 'd@y.com', 0.10, '2024-02-29')`,
      );
      pgSession = await postgres.openSession();
      const onDuckdb = (sql: string) =>
        duck!.query(
          `WITH orders AS (SELECT * FROM ${duckdb.dialect.filesRelation!([versionFile(2)])}) ${sql}`,
        );
      for (const projection of PROJECTIONS) {
        const a = (await onDuckdb(projection)).rows;
        const b: Record<string, unknown>[] = (await pgSession.query(projection)).rows;
        assert.ok(a.length > 0, projection);
        assert.deepEqual(b, a, projection);
      }
      // The view is the current version; the earlier version stays readable as it was.
      assert.equal((await pgSession.query('SELECT count(*) AS n FROM orders')).rows[0]!.n, 4);
      assert.equal(
        (await pgSession.query(`SELECT count(*) AS n FROM ${postgres.versionTable('orders', 1)}`)).rows[0]!.n,
        2,
      );

      const key = 'cross-engine-key';
      const maskedSql = (dialect: typeof duckdb.dialect) =>
        `SELECT id, ${maskExpression('HASH', 'email', COLUMNS[2]!.type, { hashKeySql: dialect.bytesLiteral(Buffer.from(key)), dialect })} AS h, ` +
        `${maskExpression('EMAIL_DOMAIN', 'email', COLUMNS[2]!.type, { hashKeySql: "''", dialect })} AS d, ` +
        `${maskExpression('DATE_YEAR', 'placed', COLUMNS[4]!.type, { hashKeySql: "''", dialect, asOfDateSql: "DATE '2026-01-01'" })} AS y ` +
        `FROM orders WHERE region = 'south' ORDER BY id`;
      const duckMasked = (await onDuckdb(maskedSql(duckdb.dialect))).rows;
      assert.deepEqual((await pgSession.query(maskedSql(postgres.dialect))).rows, duckMasked);
      assert.deepEqual(duckMasked[0], {
        id: 3,
        h: createHmac('sha256', key).update('c@y.com').digest('hex'),
        d: '***@y.com',
        y: '2024-01-01',
      });
    } finally {
      duck?.close();
      pgSession?.close();
      await duckdb.close();
      await postgres.close();
      await dropScratchDatabase(DATABASE);
      await rm(folder, { recursive: true, force: true });
    }
  },
);
