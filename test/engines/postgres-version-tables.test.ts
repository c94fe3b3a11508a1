// PostgreSQL's copies of table versions: what DuckDB writes (`interchangeSelect`) loads into the
// declared column types with every value as DuckDB holds it, and reads back through `exportCsv`
// unchanged; a version loaded twice at once is loaded once; retention drops what it removed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type EngineSession, type VersionColumn } from '../../src/engines/engine.ts';
import { PostgresEngine, postgresBaseName } from '../../src/engines/postgres/postgres-engine.ts';
import {
  POSTGRES_SERVER,
  adminQuery,
  createScratchDatabase,
  dropScratchDatabase,
  requirePostgres,
} from '../support/postgres-server.ts';

const DATABASE = `tessera_version_tables_${process.pid}`;

const { skip } = await requirePostgres();

const COLUMNS: VersionColumn[] = [
  { name: 'id', type: { kind: 'scalar', sql: 'BIGINT' } },
  { name: 'note', type: { kind: 'scalar', sql: 'VARCHAR' } },
  { name: 'amount', type: { kind: 'decimal', precision: 12, scale: 3 } },
  { name: 'at_time', type: { kind: 'scalar', sql: 'TIMESTAMPTZ' } },
  { name: 'day', type: { kind: 'scalar', sql: 'DATE' } },
  { name: 'ok', type: { kind: 'scalar', sql: 'BOOLEAN' } },
  { name: 'ratio', type: { kind: 'scalar', sql: 'DOUBLE' } },
  { name: 'raw', type: { kind: 'scalar', sql: 'BLOB' } },
  { name: 'tags', type: { kind: 'list', element: { kind: 'scalar', sql: 'VARCHAR' } } },
  {
    name: 'address',
    type: {
      kind: 'struct',
      name: 'Address',
      fields: [
        { name: 'city', number: 1, nullable: true, type: { kind: 'scalar', sql: 'VARCHAR' } },
        { name: 'zip', number: 2, nullable: true, type: { kind: 'scalar', sql: 'INTEGER' } },
      ],
    },
  },
];

/** Awkward values on purpose: quotes, commas, backslashes, newlines, an empty string beside NULL. */
const ROWS = `
  (1, 'plain', 1.5, TIMESTAMPTZ '2024-03-01 10:00:00+00', DATE '2024-03-01', true, 0.25,
   '\\x00\\xFF'::BLOB, ['a', 'b,c', 'say "hi"', 'back\\slash', NULL], {'city': 'Zürich', 'zip': 8001}),
  (2, '', -0.001, TIMESTAMPTZ '1969-12-31 23:59:59.123456+00', DATE '1900-01-01', false, -1e300,
   ''::BLOB, [], {'city': NULL, 'zip': NULL}),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 'line one
line two, "quoted"', 123456789.123, TIMESTAMPTZ '2024-12-31 23:59:59+00', DATE '2024-02-29', true, 3.5,
   'abc'::BLOB, ['only'], {'city': 'it''s', 'zip': 1})`;

describe('PostgreSQL version tables', { skip }, () => {
  let folder: string;
  let duckdb: DuckdbEngine;
  let postgres: PostgresEngine;
  let duck: EngineSession;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'tessera-version-tables-'));
    await createScratchDatabase(DATABASE);
    duckdb = await DuckdbEngine.create();
    postgres = await PostgresEngine.create(`${POSTGRES_SERVER}/${DATABASE}`);
    duck = await duckdb.openSession();
    const casts = COLUMNS.map(
      (column) => `${duckdb.dialect.cast(`c${COLUMNS.indexOf(column)}`, column.type)} AS "${column.name}"`,
    );
    const names = COLUMNS.map((_, index) => `c${index}`).join(', ');
    await duck.run(`CREATE TABLE version AS SELECT ${casts.join(', ')} FROM (VALUES ${ROWS}) AS t(${names})`);
  });

  after(async () => {
    duck?.close();
    await duckdb?.close();
    await postgres?.close();
    await dropScratchDatabase(DATABASE);
    await rm(folder, { recursive: true, force: true });
  });

  /** Write the version as the platform does and load it as version `version` of `table`. */
  const load = async (table: string, version: number) => {
    const file = join(folder, `${table}-${version}-${Math.random()}.csv`);
    const tables = postgres.versionTables;
    await duck.run(
      `COPY (SELECT ${tables.interchangeSelect(COLUMNS)} FROM version) TO ${quoteLiteral(file)} (FORMAT csv, HEADER)`,
    );
    await tables.load(table, version, COLUMNS, file);
  };

  test('every value loads into its column type as DuckDB holds it', async () => {
    await load('t', 1);
    const session = await postgres.openSession();
    try {
      const loaded = await session.query(
        `SELECT id, note, CAST(amount AS text) AS amount, at_time, day, ok, ratio, encode(raw, 'hex') AS raw,
                tags, address->>'city' AS city, (address->>'zip')::int AS zip
           FROM ${postgres.versionTables.relation('t', 1)} ORDER BY id`,
      );
      const expected = await duck.query(
        `SELECT id, note, CAST(amount AS VARCHAR) AS amount, strftime(at_time AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%fZ') AS at_time,
                CAST(day AS VARCHAR) AS day, ok, ratio, lower(hex(raw)) AS raw, tags, address.city AS city, address.zip AS zip
           FROM version ORDER BY id`,
      );
      const normalize = (rows: Record<string, unknown>[]) =>
        rows.map((row) => ({
          ...row,
          at_time: row.at_time === null ? null : new Date(String(row.at_time)).toISOString(),
        }));
      assert.deepEqual(normalize(loaded.rows), normalize(expected.rows));
      // The empty string and NULL stay apart.
      assert.equal(loaded.rows[1]!.note, '');
      assert.equal(loaded.rows[2]!.note, null);
    } finally {
      session.close();
    }
  });

  test('an answer exported as CSV reads back in DuckDB with the same values', async () => {
    const session = await postgres.openSession();
    const file = join(folder, 'answer.csv');
    try {
      const { columns, duckdbRelation } = await postgres.versionTables.exportCsv(
        session,
        `SELECT id, note, amount, at_time, day, ok, ratio FROM ${postgres.versionTables.relation('t', 1)}`,
        file,
      );
      assert.deepEqual(
        columns.map((column) => column.type),
        ['BIGINT', 'VARCHAR', 'DECIMAL(12,3)', 'TIMESTAMP WITH TIME ZONE', 'DATE', 'BOOLEAN', 'DOUBLE'],
      );
      const back = await duck.query(`SELECT * FROM ${duckdbRelation} ORDER BY id`);
      const original = await duck.query(
        `SELECT id, note, amount, at_time, day, ok, ratio FROM version ORDER BY id`,
      );
      assert.deepEqual(back.rows, original.rows);
    } finally {
      session.close();
    }
  });

  test('a version loaded by two callers at once is loaded once', async () => {
    await Promise.all([load('twice', 1), load('twice', 1)]);
    const session = await postgres.openSession();
    try {
      const tables = await session.query(
        `SELECT relname FROM pg_class WHERE relname LIKE 'twice__v1%' AND relkind = 'r' ORDER BY relname`,
      );
      assert.deepEqual(tables.rows, [{ relname: 'twice__v1' }]);
      const count = await session.query(
        `SELECT count(*) AS n FROM ${postgres.versionTables.relation('twice', 1)}`,
      );
      assert.equal(count.rows[0]!.n, 4);
    } finally {
      session.close();
    }
  });

  test('publish points the view at a version; retain drops the versions retention removed', async () => {
    for (const version of [1, 2, 3]) await load('kept', version);
    await postgres.versionTables.publish('kept', 3);
    await postgres.versionTables.retain('kept', [2, 3]);
    assert.equal(await postgres.versionTables.has('kept', 1), false);
    assert.equal(await postgres.versionTables.has('kept', 2), true);
    const session = await postgres.openSession();
    try {
      const count = await session.query(`SELECT count(*) AS n FROM "kept"`);
      assert.equal(count.rows[0]!.n, 4);
    } finally {
      session.close();
    }
  });

  test('a table name longer than PostgreSQL keeps gets one base name, and its versions stay apart', async () => {
    const long = `analytics.${'patient_encounter_summary_'.repeat(3)}by_state`;
    const other = `${long}_2`;
    assert.ok(Buffer.byteLength(long) > 63);
    await load(long, 1);
    await load(long, 2);
    await load(other, 1);
    const names = [postgresBaseName(long), postgresBaseName(other)];
    assert.notEqual(names[0], names[1]);
    for (const name of names) assert.ok(Buffer.byteLength(`${name}__v9999999999`) <= 63, name);
    assert.equal(await postgres.versionTables.has(long, 1), true);
    assert.equal(await postgres.versionTables.has(long, 2), true);
    assert.equal(await postgres.versionTables.has(long, 3), false);
    await postgres.versionTables.publish(long, 2);
    await postgres.versionTables.retain(long, [2]);
    assert.equal(await postgres.versionTables.has(long, 1), false);
    assert.equal(await postgres.versionTables.has(other, 1), true, 'another table is left alone');
    const session = await postgres.openSession();
    try {
      const count = await session.query(
        `SELECT count(*) AS n FROM ${postgres.versionTables.relation(long, 2)}`,
      );
      assert.equal(count.rows[0]!.n, 4);
    } finally {
      session.close();
    }
  });

  test('a sandboxed session is read-only, and what a session set is gone for the next one', async () => {
    const first = await postgres.openSession({ sandbox: { allowedDirectories: [] } });
    await first.run(postgres.dialect.setSessionSecret('probe', Buffer.from('secret')));
    await assert.rejects(first.run('CREATE TABLE written (x int)'), /read-only transaction/);
    first.close();
    // Every later session, including one that reuses the pooled connection, starts clean.
    for (let attempt = 0; attempt < 12; attempt++) {
      const next = await postgres.openSession();
      try {
        const setting = await next.query(`SELECT current_setting('tessera.probe', true) AS v`);
        assert.ok([null, ''].includes(setting.rows[0]!.v as string | null), 'no secret left behind');
      } finally {
        next.close();
      }
    }
  });

  test('?schema=name keeps the versions in a schema of their own, created when missing', async () => {
    const inSchema = await PostgresEngine.create(`${POSTGRES_SERVER}/${DATABASE}?schema=Tessera Space`);
    try {
      const file = join(folder, 'in-schema.csv');
      await duck.run(
        `COPY (SELECT ${inSchema.versionTables.interchangeSelect(COLUMNS)} FROM version) TO ${quoteLiteral(file)} (FORMAT csv, HEADER)`,
      );
      await inSchema.versionTables.load('spaced', 1, COLUMNS, file);
      await inSchema.versionTables.publish('spaced', 1);
      assert.equal(await inSchema.versionTables.has('spaced', 1), true);
      const session = await inSchema.openSession();
      try {
        const where = await session.query(
          `SELECT table_schema, table_name FROM information_schema.tables WHERE table_name LIKE 'spaced%' ORDER BY table_name`,
        );
        assert.deepEqual(where.rows, [
          { table_schema: 'Tessera Space', table_name: 'spaced' },
          { table_schema: 'Tessera Space', table_name: 'spaced__v1' },
        ]);
        // HASH masks still find pgcrypto's hmac.
        const hashed = await session.query(
          `SELECT ${inSchema.dialect.hmacSha256Hex("'x'", inSchema.dialect.bytesLiteral(Buffer.from('k')))} AS h`,
        );
        assert.equal(hashed.rows[0]!.h, createHmac('sha256', 'k').update('x').digest('hex'));
      } finally {
        session.close();
      }
      assert.equal(await postgres.versionTables.has('spaced', 1), false, 'not in the default schema');
    } finally {
      await inSchema.close();
    }
  });

  test('a role that may not create pgcrypto still gets an engine; only HASH then fails, naming hmac', async () => {
    const database = `${DATABASE}_limited`;
    const role = `tessera_limited_${process.pid}`;
    await createScratchDatabase(database);
    await adminQuery(`CREATE ROLE ${role} LOGIN`);
    try {
      const limited = await PostgresEngine.create(`postgres://${role}@127.0.0.1:5432/${database}`);
      const session = await limited.openSession();
      try {
        assert.deepEqual((await session.query(`SELECT upper('ok') AS v`)).rows, [{ v: 'OK' }]);
        await assert.rejects(
          session.query(
            `SELECT ${limited.dialect.hmacSha256Hex("'x'", limited.dialect.bytesLiteral(Buffer.from('k')))} AS h`,
          ),
          /function hmac\(.*\) does not exist/,
        );
      } finally {
        session.close();
        await limited.close();
      }
    } finally {
      await dropScratchDatabase(database);
      await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    }
  });

  test('a list of structs is refused with what to do instead', () => {
    assert.throws(
      () =>
        postgres.versionTables.interchangeSelect([
          { name: 'visits', type: { kind: 'list', element: COLUMNS[9]!.type } },
        ]),
      /field visits: a list of structs cannot be loaded into PostgreSQL/,
    );
  });
});
