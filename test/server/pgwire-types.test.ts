// The wire encodings, proven by clients decoding them back: the `pg` client's text and binary
// parsers, and psycopg2's. The platform here is a stand-in that runs SQL on a plain DuckDB, so
// values arrive exactly as the read path hands them out; governance is tested in pgwire-clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type EngineSession } from '../../src/engines/engine.ts';
import { startPgServer, type PgPlatform, type PgServer } from '../../src/server/pgwire/index.ts';
import { requireService } from '../support/services.ts';
import { queryBinary } from '../support/pg-raw-client.ts';

const USER = 'bob@example.org';
const TOKEN = 'token-of-bob';

/** Parameters bound as literals, as the read path does (strings typed by context). */
function bind(sql: string, parameters: readonly unknown[] = []): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = parameters[Number(n) - 1];
    if (value === null || value === undefined) return 'NULL';
    return typeof value === 'string' ? quoteLiteral(value) : String(value);
  });
}

let engine: DuckdbEngine;
let session: EngineSession;
let server: PgServer;
const platform: PgPlatform = {
  verifyToken: async (token) => (token === TOKEN ? USER : undefined),
  query: async (sql, options) => session.query(bind(sql, options.parameters)),
  describeQuery: async (sql) => ({
    columns: (await session.query(`SELECT * FROM (${bind(sql)}) LIMIT 0`)).columns,
    parameterCount: new Set(sql.match(/\$\d+/g) ?? []).size,
  }),
};

before(async () => {
  engine = await DuckdbEngine.create({ threads: 1 });
  session = await engine.openSession();
  server = await startPgServer({ platform }, { host: '127.0.0.1', port: 0, log: () => {} });
});

after(async () => {
  await server.close();
  session.close();
  await engine.close();
});

async function withClient<T>(
  work: (client: pg.Client) => Promise<T>,
  config: pg.ClientConfig = {},
): Promise<T> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user: USER,
    password: TOKEN,
    database: 'tessera',
    ...config,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const VALUES_SQL = `SELECT true AS b, 7::SMALLINT AS i2, 70000 AS i4, 9007199254740993::BIGINT AS i8,
  1.5::FLOAT AS f4, 0.1::FLOAT AS f4_inexact, 2.25::DOUBLE AS f8, 12.30::DECIMAL(10,3) AS dec,
  -123456789012345678.12::DECIMAL(38,2) AS big_dec, 'a''b é' AS txt, '\\x00\\xFFab'::BLOB AS bytes,
  DATE '2024-01-02' AS d, TIME '03:04:05.5' AS t, TIMESTAMP '2024-01-02 03:04:05.123456' AS ts,
  TIMESTAMPTZ '2024-01-02 03:04:05.25+00' AS tstz, INTERVAL '1 year 2 months 3 days 04:05:06.5' AS iv,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::UUID AS u, ['a', 'b,c', NULL, 'x"y'] AS texts, [1, 2] AS ints,
  [10000000000]::BIGINT[] AS bigints, [1.5, 2.5]::DOUBLE[] AS doubles, {'k': 1, 's': 'v'} AS st,
  NULL::INTEGER AS nothing`;

describe('text format', () => {
  test('pg decodes every type back to the value DuckDB holds', async () => {
    const { rows, fields } = await withClient((client) => client.query(VALUES_SQL));
    const row = rows[0];
    assert.deepEqual(Object.fromEntries(fields.map((field) => [field.name, field.dataTypeID])), {
      b: 16,
      i2: 21,
      i4: 23,
      i8: 20,
      f4: 700,
      f4_inexact: 700,
      f8: 701,
      dec: 1700,
      big_dec: 1700,
      txt: 25,
      bytes: 17,
      d: 1082,
      t: 1083,
      ts: 1114,
      tstz: 1184,
      iv: 1186,
      u: 2950,
      texts: 1009,
      ints: 1007,
      bigints: 1016,
      doubles: 1022,
      st: 114,
      nothing: 23,
    });
    assert.equal(row.b, true);
    assert.equal(row.i2, 7);
    assert.equal(row.i4, 70000);
    assert.equal(row.i8, '9007199254740993');
    assert.equal(row.f4, 1.5);
    assert.equal(row.f4_inexact, 0.1, 'a REAL prints as its shortest text, like PostgreSQL');
    assert.equal(row.f8, 2.25);
    assert.equal(row.dec, '12.300', 'numeric keeps its scale');
    assert.equal(row.big_dec, '-123456789012345678.12');
    assert.equal(row.txt, "a'b é");
    assert.deepEqual(row.bytes, Buffer.from([0, 255, 97, 98]));
    assert.equal(row.t, '03:04:05.5');
    assert.equal((row.ts as Date).getFullYear(), 2024);
    assert.equal((row.tstz as Date).toISOString(), '2024-01-02T03:04:05.250Z');
    assert.deepEqual(
      { ...row.iv },
      { years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6, milliseconds: 500 },
    );
    assert.equal(row.u, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    assert.deepEqual(row.texts, ['a', 'b,c', null, 'x"y']);
    assert.deepEqual(row.ints, [1, 2]);
    assert.deepEqual(row.bigints, ['10000000000']);
    assert.deepEqual(row.doubles, [1.5, 2.5]);
    assert.deepEqual(row.st, { k: 1, s: 'v' });
    assert.equal(row.nothing, null);
  });

  test('dates and timestamps come back as PostgreSQL prints them', async () => {
    const { rows } = await withClient((client) =>
      client.query({
        text: `SELECT DATE '2024-01-02' AS d, TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, TIMESTAMPTZ '2024-01-02 03:04:05.25+00' AS tstz, 't' AS marker`,
        rowMode: 'array',
        types: { getTypeParser: () => (value: string) => value },
      }),
    );
    assert.deepEqual(rows[0], ['2024-01-02', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.25+00', 't']);
  });
});

describe('binary format', () => {
  const login = () => ({ port: server.port, user: USER, password: TOKEN });

  test('pg-types decodes binary results for the types drivers read that way', async () => {
    // pg-types has no binary date or bytea parser: the date as days since 2000-01-01, bytea as is.
    const decoders = {
      17: (value: Buffer) => value,
      1082: (value: Buffer) =>
        new Date(Date.UTC(2000, 0, 1) + value.readInt32BE(0) * 86_400_000).toISOString().slice(0, 10),
    };
    const { rows, fields } = await queryBinary(
      login(),
      `SELECT true AS b, 7::SMALLINT AS i2, -70000 AS i4, 9007199254740993::BIGINT AS i8, 1.5::FLOAT AS f4,
        2.25::DOUBLE AS f8, 'x é' AS txt, '\\x00\\xFFab'::BLOB AS bytes, DATE '2024-02-29' AS d,
        TIMESTAMPTZ '2024-01-02 03:04:05.25+00' AS tstz, 12.30::DECIMAL(10,3) AS dec,
        -1234.0005::DECIMAL(10,4) AS small_dec, 100000000::DECIMAL(18,0) AS round_dec,
        98765432.1234::DECIMAL(38,4) AS big_dec, [1, NULL, 3] AS ints, ['a', 'b'] AS texts`,
      decoders,
    );
    assert.ok(fields.every((field) => field.format === 1));
    const row = rows[0]!;
    assert.equal(row.b, true);
    assert.equal(row.i2, 7);
    assert.equal(row.i4, -70000);
    assert.equal(String(row.i8), '9007199254740993');
    assert.equal(row.f4, 1.5);
    assert.equal(row.f8, 2.25);
    assert.equal(row.txt, 'x é');
    assert.deepEqual(row.bytes, Buffer.from([0, 255, 97, 98]));
    assert.equal(row.d, '2024-02-29');
    assert.equal((row.tstz as Date).toISOString(), '2024-01-02T03:04:05.250Z');
    // pg-types reads binary numeric into a JavaScript number (and misreads weights below zero, so no 0.000x here).
    assert.equal(row.dec, 12.3);
    assert.equal(row.small_dec, -1234.0005);
    assert.equal(row.round_dec, 100000000);
    assert.equal(row.big_dec, 98765432.1234);
    assert.deepEqual(row.ints, [1, null, 3]);
    assert.deepEqual(row.texts, ['a', 'b']);
  });

  test('a binary TIMESTAMP decodes to the instant its text names', async () => {
    const { rows } = await queryBinary(login(), `SELECT TIMESTAMP '2024-01-02 03:04:05.123' AS ts`);
    // pg-types reads a timestamp without time zone as local time, like its text parser.
    assert.equal((rows[0]!.ts as Date).getTime(), new Date(2024, 0, 2, 3, 4, 5, 123).getTime());
  });
});

describe('psycopg2', async () => {
  const python = await requireService('/usr/bin/python3 with psycopg2', async () => {
    await promisify(execFile)('/usr/bin/python3', ['-c', 'import psycopg2']);
  });

  test(
    'psycopg2 decodes numeric, dates, intervals, arrays, bytea and json',
    { skip: python.skip },
    async () => {
      const script = `
import json, sys, psycopg2
conn = psycopg2.connect(host='127.0.0.1', port=${server.port}, user='${USER}', password='${TOKEN}', dbname='tessera')
cur = conn.cursor()
cur.execute(sys.argv[1])
row = cur.fetchone()
print(json.dumps([repr(bytes(v)) if isinstance(v, memoryview) else repr(v) for v in row]))
`;
      const { stdout } = await promisify(execFile)('/usr/bin/python3', ['-c', script, VALUES_SQL]);
      const values = JSON.parse(stdout) as string[];
      assert.deepEqual(values, [
        'True',
        '7',
        '70000',
        '9007199254740993',
        '1.5',
        '0.1',
        '2.25',
        "Decimal('12.300')",
        "Decimal('-123456789012345678.12')",
        `"a'b é"`,
        "b'\\x00\\xffab'",
        'datetime.date(2024, 1, 2)',
        'datetime.time(3, 4, 5, 500000)',
        'datetime.datetime(2024, 1, 2, 3, 4, 5, 123456)',
        'datetime.datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=datetime.timezone.utc)',
        'datetime.timedelta(days=428, seconds=14706, microseconds=500000)',
        "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
        `['a', 'b,c', None, 'x"y']`,
        '[1, 2]',
        '[10000000000]',
        '[1.5, 2.5]',
        "{'k': 1, 's': 'v'}",
        'None',
      ]);
    },
  );
});
