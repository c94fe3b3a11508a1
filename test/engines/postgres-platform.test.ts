// `engine: postgres://…` end to end: the healthcare example applied and run with PostgreSQL as
// its engine gives the same answers as on DuckDB, for every principal: projections computed in
// PostgreSQL, masks (HASH through pgcrypto) and row filters applied there, time travel, exports.
// Then the ways an attacker would try to reach past the governed read path through PostgreSQL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { QueryError, QueryTimeoutError } from '../../src/diagnostics/errors.ts';
import { Platform } from '../../src/platform.ts';
import {
  POSTGRES_SERVER,
  adminQuery,
  createScratchDatabase,
  dropScratchDatabase,
  requirePostgres,
} from '../support/postgres-server.ts';

const DATABASE = `tessera_pg_platform_${process.pid}`;
const HASH_KEY = 'postgres-platform-hash-key';
const ANALYST = 'bob@example.org';
const CLINICIAN = 'carol@example.org';

const { skip } = await requirePostgres();

/**
 * Rows with every non-integer number rounded to 9 significant digits: a sum of doubles depends on
 * the order it adds them in, which two engines need not share (42066.24 against 42066.240000000005).
 */
function comparable(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([key, value]) => [
        key,
        typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(9)) : value,
      ]),
    ),
  );
}

/** The example in a repo of its own, applied and every task run, on the given engine. */
async function openExample(engine: string): Promise<{ platform: Platform; repo: string }> {
  const repo = await mkdtemp(join(tmpdir(), 'tessera-pg-platform-'));
  await Platform.writeExample(repo, 60);
  const env = { ...process.env, TESSERA_HASH_KEY: HASH_KEY, TESSERA_ENGINE: engine };
  const platform = await Platform.open({ repo, env });
  await platform.apply();
  const runs = await platform.run({ tasks: [], all: true });
  const failed = runs.filter((run) => run.status !== 'succeeded');
  assert.deepEqual(
    failed.map((run) => `${run.task}: ${run.error}`),
    [],
    'every task of the example succeeds',
  );
  return { platform, repo };
}

const QUERIES = [
  'SELECT * FROM analytics.state_summary ORDER BY state',
  'SELECT * FROM analytics.patient_summary ORDER BY patient_id',
  'SELECT patient_id, ssn, first_name, birth_date, zip, email, state FROM clinical.patients ORDER BY patient_id',
  `SELECT p.state, count(*) AS claims, sum(c.amount) AS amount
     FROM clinical.claims c JOIN clinical.patients p ON p.patient_id = c.patient_id
    GROUP BY p.state ORDER BY p.state`,
  'SELECT encounter_id, patient_id, start_time FROM clinical.encounters ORDER BY encounter_id LIMIT 25',
];

describe('engine: postgres://', { skip }, () => {
  let onDuckdb: { platform: Platform; repo: string };
  let onPostgres: { platform: Platform; repo: string };

  before(async () => {
    await createScratchDatabase(DATABASE);
    onDuckdb = await openExample('duckdb');
    onPostgres = await openExample(`${POSTGRES_SERVER}/${DATABASE}`);
  });

  after(async () => {
    for (const opened of [onDuckdb, onPostgres]) {
      await opened?.platform.close();
      if (opened) await rm(opened.repo, { recursive: true, force: true });
    }
    await dropScratchDatabase(DATABASE);
  });

  test('every version is a table in PostgreSQL, and each table a view of its current version', async () => {
    const tables = await adminQuery(
      `SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
      DATABASE,
    );
    const names = tables.rows.map((row) => `${row.table_name} ${row.table_type}`);
    for (const table of ['clinical.patients', 'clinical.claims', 'analytics.state_summary']) {
      assert.ok(names.includes(`${table}__v1 BASE TABLE`), `${table}__v1 in ${names.join(', ')}`);
      assert.ok(names.includes(`${table} VIEW`), `the view ${table}`);
    }
    const counted = await adminQuery(`SELECT count(*)::int AS n FROM "clinical.patients"`, DATABASE);
    assert.equal(counted.rows[0].n, 60);
  });

  for (const principal of [CLINICIAN, ANALYST]) {
    test(`${principal}: the same answers on DuckDB and PostgreSQL`, async () => {
      for (const sql of QUERIES) {
        const expected = await onDuckdb.platform.query(sql, { principal });
        const actual = await onPostgres.platform.query(sql, { principal });
        assert.ok(expected.rows.length > 0, `${sql} returns rows`);
        assert.deepEqual(comparable(actual.rows), comparable(expected.rows), sql);
        assert.deepEqual(actual.guarded.masksApplied, expected.guarded.masksApplied, sql);
        assert.deepEqual(actual.guarded.rowFiltersApplied, expected.guarded.rowFiltersApplied, sql);
      }
    });
  }

  test('the analyst reads masked values and only California rows, computed by PostgreSQL', async () => {
    const clear = await onPostgres.platform.query(
      `SELECT patient_id, ssn, state, email FROM clinical.patients ORDER BY patient_id`,
      { principal: CLINICIAN },
    );
    const masked = await onPostgres.platform.query(
      `SELECT patient_id, ssn, state, email FROM clinical.patients ORDER BY patient_id`,
      { principal: ANALYST },
    );
    const california = clear.rows.filter((row) => row.state === 'CA');
    assert.ok(california.length > 0 && california.length < clear.rows.length);
    assert.deepEqual(
      masked.rows.map((row) => row.patient_id),
      california.map((row) => row.patient_id),
    );
    for (const [index, row] of masked.rows.entries()) {
      const original = california[index]!;
      assert.equal(row.ssn, createHmac('sha256', HASH_KEY).update(String(original.ssn)).digest('hex'));
      if (original.email !== null) {
        assert.equal(row.email, `***@${String(original.email).split('@')[1]}`);
      }
    }
  });

  test('time travel reads an earlier version loaded into PostgreSQL', async () => {
    const { platform } = onPostgres;
    const runs = await platform.run({ tasks: ['build_state_summary'] });
    assert.equal(runs[0]?.status, 'succeeded');
    const now = await platform.query('SELECT count(*) AS n FROM analytics.state_summary', {
      principal: CLINICIAN,
    });
    const before = await platform.query(
      'SELECT count(*) AS n FROM analytics.state_summary AT (VERSION => 1)',
      { principal: CLINICIAN },
    );
    assert.equal(before.rows[0]!.n, now.rows[0]!.n);
    const versions = await adminQuery(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name LIKE 'analytics.state_summary__v%'`,
      DATABASE,
    );
    assert.equal(versions.rows[0].n, 2);
  });

  test('a rollback publishes the earlier files as a new version, loaded into PostgreSQL and made the view', async () => {
    const { platform } = onPostgres;
    const before = await platform.query('SELECT * FROM analytics.state_summary ORDER BY state', {
      principal: CLINICIAN,
    });
    const rolled = await platform.rollback('analytics.state_summary', 1);
    assert.equal(rolled.run.status, 'succeeded');
    const version = rolled.version.version;
    const view = await adminQuery(
      `SELECT definition FROM pg_views WHERE viewname = 'analytics.state_summary'`,
      DATABASE,
    );
    assert.match(String(view.rows[0].definition), new RegExp(`analytics\\.state_summary__v${version}`));
    const loaded = await adminQuery(
      `SELECT count(*)::int AS n FROM "analytics.state_summary__v${version}"`,
      DATABASE,
    );
    assert.equal(loaded.rows[0].n, before.rows.length);
    const after = await platform.query('SELECT * FROM analytics.state_summary ORDER BY state', {
      principal: CLINICIAN,
    });
    assert.deepEqual(after.rows, before.rows);
  });

  test('an export of a PostgreSQL answer is a Parquet file with the governed rows', async () => {
    const exported = await onPostgres.platform.exportParquet(
      'SELECT patient_id, ssn FROM clinical.patients ORDER BY patient_id',
      { principal: ANALYST },
    );
    const duckdb = await DuckdbEngine.create();
    try {
      const session = await duckdb.openSession();
      const read = await session.query(`SELECT * FROM read_parquet('${exported.path}') ORDER BY patient_id`);
      session.close();
      const expected = await onPostgres.platform.query(
        'SELECT patient_id, ssn FROM clinical.patients ORDER BY patient_id',
        { principal: ANALYST },
      );
      assert.equal(exported.rowCount, expected.rows.length);
      assert.deepEqual(read.rows, expected.rows);
    } finally {
      await exported.dispose();
      await duckdb.close();
    }
  });

  test('a query past its time limit is stopped in PostgreSQL, not left running there', async () => {
    const started = performance.now();
    await assert.rejects(
      onPostgres.platform.query(
        `SELECT count(*) AS n FROM clinical.encounters a, clinical.encounters b, clinical.encounters c`,
        { principal: CLINICIAN, timeoutMs: 300 },
      ),
      (error: unknown) => error instanceof QueryTimeoutError,
    );
    assert.ok(performance.now() - started < 5_000, 'the caller is answered at the limit');
    const running = await adminQuery(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = '${DATABASE}' AND state = 'active' AND query LIKE '%encounters%'`,
    );
    assert.equal(running.rows[0].n, 0);
  });

  describe('an attacker going through PostgreSQL', () => {
    const refused = async (sql: string, pattern: RegExp) => {
      await assert.rejects(
        onPostgres.platform.query(sql, { principal: ANALYST }),
        (error: unknown) => error instanceof QueryError && pattern.test(error.message),
        sql,
      );
    };

    test('cannot read the hash key from its session setting', async () => {
      await refused(
        `SELECT current_setting('tessera.tessera_hash_key') AS k FROM clinical.patients`,
        /current_setting/,
      );
      await refused(`SELECT set_config('tessera.x', 'y', false) AS k`, /set_config/);
    });

    test('cannot name a version table or the view and skip the masks and row filter', async () => {
      await refused('SELECT * FROM "clinical.patients__v1"', /not found/);
      await refused('SELECT * FROM public."clinical.patients"', /not found/);
    });

    test('cannot reach files, other databases or the query text through PostgreSQL functions', async () => {
      await refused(`SELECT pg_read_file('/etc/passwd') AS f`, /pg_read_file/);
      await refused(
        `SELECT query_to_xml('select * from "clinical.patients__v1"', true, true, '') AS x`,
        /query_to_xml/,
      );
      await refused(`SELECT lo_import('/etc/passwd') AS x`, /lo_import/);
      await refused(`SELECT * FROM pg_catalog.pg_tables`, /not found|not allowed/);
    });

    test('cannot write through the read-only session', async () => {
      await refused(`DROP TABLE "clinical.patients__v1"`, /only SELECT/);
      const count = await adminQuery(`SELECT count(*)::int AS n FROM "clinical.patients__v1"`, DATABASE);
      assert.equal(count.rows[0].n, 60);
    });

    test('a DuckDB-only function is refused with the reason, not left to fail in PostgreSQL', async () => {
      await refused(
        `SELECT list_contains([1, 2], 1) AS x FROM clinical.patients`,
        /list_contains.*portable subset/s,
      );
    });
  });

  test('switching an existing DuckDB project to PostgreSQL loads its versions on first read', async () => {
    const database = `${DATABASE}_switched`;
    await createScratchDatabase(database);
    const env = {
      ...process.env,
      TESSERA_HASH_KEY: HASH_KEY,
      TESSERA_ENGINE: `${POSTGRES_SERVER}/${database}`,
    };
    const switched = await Platform.open({ repo: onDuckdb.repo, env });
    try {
      const sql = 'SELECT * FROM analytics.state_summary ORDER BY state';
      const expected = await onDuckdb.platform.query(sql, { principal: ANALYST });
      assert.deepEqual(
        comparable((await switched.query(sql, { principal: ANALYST })).rows),
        comparable(expected.rows),
      );
      const loaded = await adminQuery(
        `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'analytics.state_summary__v1'`,
        database,
      );
      assert.equal(loaded.rows[0].n, 1);
    } finally {
      await switched.close();
      await dropScratchDatabase(database);
    }
  });
});
