// pgwire over a project whose engine is PostgreSQL: a client sees the same columns, types and
// rows as over the embedded DuckDB engine, masks and row filters included, and a prepared
// statement describes its columns the same way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPgServer, type PgServer } from '../../src/server/pgwire/index.ts';
import { ANALYST, openServedExample, type ServedExample } from '../support/served-example.ts';
import {
  POSTGRES_SERVER,
  createScratchDatabase,
  dropScratchDatabase,
  requirePostgres,
} from '../support/postgres-server.ts';

const DATABASE = `tessera_pgwire_engine_${process.pid}`;

const { skip } = await requirePostgres();

const served: { duckdb?: ServedExample; postgres?: ServedExample } = {};
const servers: { duckdb?: PgServer; postgres?: PgServer } = {};

before(async () => {
  if (skip) return;
  await createScratchDatabase(DATABASE);
  served.duckdb = await openServedExample({ patients: 40 });
  served.postgres = await openServedExample({ patients: 40, engine: `${POSTGRES_SERVER}/${DATABASE}` });
  for (const name of ['duckdb', 'postgres'] as const) {
    servers[name] = await startPgServer(served[name]!.handle, { host: '127.0.0.1', port: 0, log: () => {} });
  }
});

after(async () => {
  for (const name of ['duckdb', 'postgres'] as const) {
    await servers[name]?.close();
    await served[name]?.close();
  }
  if (!skip) await dropScratchDatabase(DATABASE);
});

/** The analyst's answer to `sql` over pgwire from the served project on `engine`. */
async function asAnalyst(
  engine: 'duckdb' | 'postgres',
  sql: string,
  values?: unknown[],
): Promise<{ fields: { name: string; dataTypeID: number }[]; rows: unknown[] }> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: servers[engine]!.port,
    user: ANALYST,
    password: served[engine]!.tokens.analyst,
    database: 'warehouse',
  });
  await client.connect();
  try {
    const result = await client.query({ text: sql, ...(values ? { values } : {}) });
    return {
      fields: result.fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID })),
      rows: result.rows,
    };
  } finally {
    await client.end();
  }
}

test(
  'the analyst sees the same columns, types and masked rows over pgwire on either engine',
  { skip },
  async () => {
    const queries: [string, unknown[]?][] = [
      [
        'SELECT patient_id, ssn, birth_date, zip, state, healthcare_expenses FROM clinical.patients ORDER BY patient_id',
      ],
      // The extended protocol: parsed, described and bound before it runs.
      [
        'SELECT patient_id, ssn FROM clinical.patients WHERE patient_id > $1 ORDER BY patient_id',
        ['P000010'],
      ],
    ];
    for (const [sql, values] of queries) {
      const expected = await asAnalyst('duckdb', sql, values);
      const actual = await asAnalyst('postgres', sql, values);
      assert.ok(expected.rows.length > 0, sql);
      assert.deepEqual(actual.fields, expected.fields, sql);
      assert.deepEqual(actual.rows, expected.rows, sql);
    }
  },
);

test(
  'a summary over doubles: the same types, and the same values up to the last rounded digit',
  { skip },
  async () => {
    const sql =
      'SELECT state, patients, encounters, avg_encounter_cost FROM analytics.state_summary ORDER BY state';
    const expected = await asAnalyst('duckdb', sql);
    const actual = await asAnalyst('postgres', sql);
    assert.deepEqual(actual.fields, expected.fields);
    assert.equal(actual.rows.length, expected.rows.length);
    for (const [index, row] of (actual.rows as Record<string, string>[]).entries()) {
      const other = expected.rows[index] as Record<string, string>;
      assert.deepEqual(
        [row.state, row.patients, row.encounters],
        [other.state, other.patients, other.encounters],
      );
      // avg of a DOUBLE cast to DECIMAL(12,2): an exact half may round either way (docs/engines.md).
      assert.ok(Math.abs(Number(row.avg_encounter_cost) - Number(other.avg_encounter_cost)) < 0.011, sql);
    }
  },
);
