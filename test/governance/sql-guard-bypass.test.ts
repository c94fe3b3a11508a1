import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import { guardQuery, sanitizeEngineErrorMessage } from '../../src/governance/index.ts';
import type { RoleDef } from '../../src/model/index.ts';
import {
  ANALYST_ROLE,
  BILLING_ROLE,
  FORBIDDEN_STRINGS,
  HASH_KEY,
  openGovernedWarehouse,
  type GovernedWarehouse,
} from './governed-warehouse.fixture.ts';

/**
 * Attempts to read what bob (an analyst in CA: `ssn` denied, PHI masked, rows filtered to CA) may
 * not see, against real Parquet files and a sandboxed DuckDB session. Each attempt is either
 * refused by the guard with a clear message, fails in the engine (a denied column does not exist),
 * or runs and returns only what bob may see. In every case, no raw sensitive value, no row of
 * another state, no ungranted table's data and no storage path or key reaches bob.
 */

type Rows = Record<string, unknown>[];

interface Attempt {
  name: string;
  sql: string;
  /** refused: the guard says no; fails: the engine cannot bind it (e.g. column not found); rows: it runs. */
  outcome: 'refused' | 'fails' | 'rows';
  /** For refused and fails: the message must match. */
  message?: RegExp;
  /** For rows: what the result must look like. */
  check?: (rows: Rows) => void;
  /** bob's roles, when not the analyst's (default: ANALYST_ROLE and BILLING_ROLE). */
  roles?: RoleDef[];
}

/** The analyst role, but visits follow their patients: the visits filter reads clinical.patients. */
const FOLLOWER_ROLES: RoleDef[] = [
  {
    ...ANALYST_ROLE,
    name: 'follower',
    rowFilters: {
      'clinical.patients': "state = principal_attr('state')",
      'clinical.visits': 'patient_id IN (SELECT patient_id FROM clinical.patients)',
    },
  },
  BILLING_ROLE,
];

const MASKED_CA_ROWS = (rows: Rows) => {
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.state, 'CA');
    assert.equal(row.first_name, '[REDACTED]');
    assert.match(String(row.mrn), /^[0-9a-f]{64}$/);
    assert.equal('ssn' in row, false);
  }
};
const ONLY_CA_IDS = (rows: Rows) => {
  for (const row of rows) for (const value of Object.values(row)) assert.doesNotMatch(String(value), /NY/);
};
const ROW_COUNT = (count: number) => (rows: Rows) => assert.equal(rows.length, count);

const NOT_FOUND_COLUMN = /ssn.*not found|not have a column named "ssn"|column "ssn"/i;

const attempts: Attempt[] = [
  // Reading the warehouse files directly.
  {
    name: 'read_parquet on a warehouse file',
    sql: "SELECT * FROM read_parquet('{dir}/clinical.patients/2/part-0.parquet')",
    outcome: 'refused',
    message: /table function read_parquet is not allowed/,
  },
  {
    name: 'read_parquet with a glob',
    sql: "SELECT ssn FROM read_parquet('{dir}/**/*.parquet')",
    outcome: 'refused',
    message: /read_parquet is not allowed/,
  },
  {
    name: 'read_csv',
    sql: "SELECT * FROM read_csv('{dir}/clinical.patients/2/part-0.parquet')",
    outcome: 'refused',
    message: /read_csv is not allowed/,
  },
  {
    name: 'read_text as a table function',
    sql: "SELECT content FROM read_text('{dir}/clinical.patients/2/part-0.parquet')",
    outcome: 'refused',
    message: /read_text is not allowed/,
  },
  {
    name: 'read_blob',
    sql: "SELECT content FROM read_blob('{dir}/clinical.patients/2/part-0.parquet')",
    outcome: 'refused',
    message: /read_blob is not allowed/,
  },
  {
    name: 'glob to list the warehouse',
    sql: "SELECT * FROM glob('{dir}/*')",
    outcome: 'refused',
    message: /glob is not allowed/,
  },
  {
    name: 'parquet_metadata',
    sql: "SELECT * FROM parquet_metadata('{dir}/clinical.patients/2/part-0.parquet')",
    outcome: 'refused',
    message: /parquet_metadata is not allowed/,
  },
  {
    name: 'sniff_csv',
    sql: "SELECT * FROM sniff_csv('{dir}/clinical.patients/2/part-0.parquet')",
    outcome: 'refused',
    message: /sniff_csv is not allowed/,
  },
  {
    name: 'FROM a quoted path (replacement scan)',
    sql: "SELECT * FROM '{dir}/clinical.patients/2/part-0.parquet'",
    outcome: 'refused',
    message: /reads a file, which is not allowed/,
  },
  {
    name: 'FROM a quoted relative file name',
    sql: "SELECT * FROM 'part-0.parquet'",
    outcome: 'refused',
    message: /table "part-0.parquet" not found/,
  },
  {
    name: 'a file-reading table function hidden in a subquery',
    sql: "SELECT * FROM clinical.visits WHERE patient_id IN (SELECT patient_id FROM read_parquet('{dir}/clinical.patients/2/part-0.parquet'))",
    outcome: 'refused',
    message: /read_parquet is not allowed/,
  },
  {
    name: 'query() runs SQL text',
    sql: "SELECT * FROM query('SELECT * FROM read_parquet(''{dir}/clinical.patients/2/part-0.parquet'')')",
    outcome: 'refused',
    message: /table function query is not allowed/,
  },
  {
    name: 'query_table() by name',
    sql: "SELECT * FROM query_table('clinical.patients')",
    outcome: 'refused',
    message: /query_table is not allowed/,
  },
  {
    name: 'iceberg_scan',
    sql: "SELECT * FROM iceberg_scan('{dir}')",
    outcome: 'refused',
    message: /iceberg_scan is not allowed/,
  },
  {
    name: 'json_serialize_plan binds arbitrary SQL',
    sql: "SELECT json_serialize_plan('SELECT * FROM read_parquet(''{dir}/clinical.patients/2/part-0.parquet'')')",
    outcome: 'refused',
    message: /function json_serialize_plan is not allowed/,
  },

  // Statements that are not queries.
  { name: 'ATTACH', sql: "ATTACH '{dir}/x.db' AS x", outcome: 'refused', message: /`ATTACH` is refused/ },
  {
    name: 'COPY … TO',
    sql: "COPY (SELECT * FROM clinical.patients) TO '{dir}/leak.csv'",
    outcome: 'refused',
    message: /only SELECT and WITH queries are allowed; `COPY` is refused/,
  },
  { name: 'SET', sql: 'SET enable_external_access = true', outcome: 'refused', message: /`SET` is refused/ },
  { name: 'PRAGMA', sql: 'PRAGMA database_list', outcome: 'refused', message: /`PRAGMA` is refused/ },
  { name: 'INSTALL', sql: 'INSTALL httpfs', outcome: 'refused', message: /`INSTALL` is refused/ },
  { name: 'LOAD', sql: 'LOAD httpfs', outcome: 'refused', message: /`LOAD` is refused/ },
  {
    name: 'EXPORT DATABASE',
    sql: "EXPORT DATABASE '{dir}/export'",
    outcome: 'refused',
    message: /`EXPORT` is refused/,
  },
  { name: 'CALL', sql: 'CALL pragma_version()', outcome: 'refused', message: /`CALL` is refused/ },
  {
    name: 'EXPLAIN',
    sql: 'EXPLAIN SELECT * FROM clinical.patients',
    outcome: 'refused',
    message: /`EXPLAIN` is refused/,
  },
  {
    name: 'DESCRIBE',
    sql: 'DESCRIBE clinical.patients',
    outcome: 'refused',
    message: /`DESCRIBE` is refused/,
  },
  {
    name: 'SUMMARIZE',
    sql: 'SUMMARIZE clinical.patients',
    outcome: 'refused',
    message: /`SUMMARIZE` is refused/,
  },
  { name: 'SHOW TABLES', sql: 'SHOW TABLES', outcome: 'refused', message: /`SHOW` is refused/ },
  {
    name: 'PIVOT statement',
    sql: 'PIVOT clinical.patients ON state USING count(*)',
    outcome: 'refused',
    message: /`PIVOT` is refused/,
  },
  {
    name: 'a second statement after a query (; DROP)',
    sql: 'SELECT 1; DROP TABLE clinical.patients',
    outcome: 'refused',
    message: /`DROP` is refused/,
  },
  {
    name: 'two queries',
    sql: "SELECT 1; SELECT * FROM read_parquet('x')",
    outcome: 'refused',
    message: /only one statement per query|read_parquet/,
  },
  {
    name: 'a statement hidden after a comment',
    sql: "/* harmless */ SELECT 1; -- then\nCOPY (SELECT 1) TO '{dir}/x.csv'",
    outcome: 'refused',
    message: /`COPY` is refused/,
  },

  // Engine metadata, settings, environment.
  {
    name: 'information_schema',
    sql: 'SELECT * FROM information_schema.tables',
    outcome: 'refused',
    message: /table information_schema.tables not found/,
  },
  {
    name: 'information_schema.columns',
    sql: 'SELECT column_name FROM information_schema.columns',
    outcome: 'refused',
    message: /not found/,
  },
  { name: 'pg_catalog', sql: 'SELECT * FROM pg_catalog.pg_tables', outcome: 'refused', message: /not found/ },
  {
    name: 'duckdb_tables()',
    sql: 'SELECT * FROM duckdb_tables()',
    outcome: 'refused',
    message: /duckdb_tables is not allowed/,
  },
  {
    name: 'duckdb_columns()',
    sql: 'SELECT * FROM duckdb_columns()',
    outcome: 'refused',
    message: /duckdb_columns is not allowed/,
  },
  {
    name: 'duckdb_settings()',
    sql: 'SELECT * FROM duckdb_settings()',
    outcome: 'refused',
    message: /duckdb_settings is not allowed/,
  },
  {
    name: 'pragma_table_info',
    sql: "SELECT * FROM pragma_table_info('clinical.patients')",
    outcome: 'refused',
    message: /pragma_table_info is not allowed/,
  },
  {
    name: "getenv('HOME')",
    sql: "SELECT getenv('HOME')",
    outcome: 'refused',
    message: /function getenv is not allowed/,
  },
  {
    name: "current_setting('allowed_directories')",
    sql: "SELECT current_setting('allowed_directories')",
    outcome: 'refused',
    message: /function current_setting is not allowed/,
  },
  {
    name: 'current_query() would show the rewritten SQL',
    sql: 'SELECT current_query(), * FROM clinical.patients',
    outcome: 'refused',
    message: /function current_query is not allowed/,
  },
  {
    name: 'getvariable() would show the hash key',
    sql: "SELECT getvariable('tessera_hash_key')",
    outcome: 'refused',
    message: /function getvariable is not allowed/,
  },
  {
    name: 'a schema-qualified function',
    sql: "SELECT main.getenv('HOME')",
    outcome: 'refused',
    message: /not allowed/,
  },
  {
    name: 'stats() reveals file statistics beyond the row filter',
    sql: 'SELECT stats(patient_id) FROM clinical.patients',
    outcome: 'refused',
    message: /function stats is not allowed/,
  },
  {
    name: 'query parameters',
    sql: 'SELECT * FROM clinical.patients WHERE state = $1',
    outcome: 'refused',
    message: /query parameters/,
  },

  // Tables that do not exist for bob.
  {
    name: 'an ungranted table',
    sql: 'SELECT * FROM billing.claims',
    outcome: 'refused',
    message: /^table billing.claims not found$/,
  },
  {
    name: 'an ungranted table in a scalar subquery',
    sql: 'SELECT (SELECT max(secret) FROM billing.claims)',
    outcome: 'refused',
    message: /^table billing.claims not found$/,
  },
  {
    name: 'a table that does not exist reads the same as an ungranted one',
    sql: 'SELECT * FROM clinical.nope',
    outcome: 'refused',
    message: /^table clinical.nope not found$/,
  },
  {
    name: 'a catalog-qualified name',
    sql: 'SELECT * FROM memory.clinical.patients',
    outcome: 'refused',
    message: /not found/,
  },
  {
    name: 'a whole-name quoted table',
    sql: 'SELECT * FROM "clinical.patients"',
    outcome: 'refused',
    message: /not found/,
  },

  // Errors as a side channel: a cast that fails names the value it failed on.
  {
    name: "a failing cast in WHERE, to read another state's id from the error",
    sql: 'SELECT count(*) FROM clinical.patients WHERE CAST(patient_id AS INTEGER) > 0',
    outcome: 'fails',
  },
  {
    name: "a failing cast over a joined table, to read another state's visit from the error",
    sql: 'SELECT count(*) FROM clinical.visits v WHERE CAST(v.visit_id AS INTEGER) > 0 OR CAST(v.cost AS INTEGER) > 1000',
    outcome: 'fails',
  },
  // Denied column.
  {
    name: 'SELECT the denied column',
    sql: 'SELECT ssn FROM clinical.patients',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'the denied column, quoted',
    sql: 'SELECT "ssn" FROM clinical.patients',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'the denied column, quoted in upper case',
    sql: 'SELECT "SSN" FROM "clinical"."patients"',
    outcome: 'fails',
    message: /SSN.*not found|column "SSN"/i,
  },
  {
    name: 'the denied column, schema-qualified',
    sql: 'SELECT clinical.patients.ssn FROM clinical.patients',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'the denied column through a comment trick',
    sql: 'SELECT /* mrn */ ssn -- , mrn\nFROM clinical.patients',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'the denied column through a CTE',
    sql: 'WITH x AS (SELECT * FROM clinical.patients) SELECT ssn FROM x',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'the denied column in a subquery',
    sql: 'SELECT * FROM (SELECT ssn FROM clinical.patients) t',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'the denied column through UNION',
    sql: 'SELECT mrn FROM clinical.patients UNION ALL SELECT ssn FROM clinical.patients',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'the denied column in WHERE',
    sql: "SELECT patient_id FROM clinical.patients WHERE ssn LIKE '1%'",
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'string_agg of the denied column via a join',
    sql: "SELECT string_agg(p.ssn, ',') FROM clinical.visits v JOIN clinical.patients p USING (patient_id)",
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'FROM-first with the denied column',
    sql: 'FROM clinical.patients SELECT ssn',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },
  {
    name: 'COLUMNS() regex for the denied column',
    sql: "SELECT COLUMNS('s.n') FROM clinical.patients",
    outcome: 'fails',
    message: /no columns|not match|COLUMNS/i,
  },
  {
    name: 'the denied column at an older version',
    sql: 'SELECT ssn FROM clinical.patients AT (VERSION => 1)',
    outcome: 'fails',
    message: NOT_FOUND_COLUMN,
  },

  // Masks and row filters hold whatever the query does.
  {
    name: 'SELECT * omits the denied column and masks PHI',
    sql: 'SELECT * FROM clinical.patients',
    outcome: 'rows',
    check: MASKED_CA_ROWS,
  },
  {
    name: 'SELECT patients.* (bare table name)',
    sql: 'SELECT patients.* FROM clinical.patients',
    outcome: 'rows',
    check: MASKED_CA_ROWS,
  },
  {
    name: 'quoted schema and table',
    sql: 'SELECT * FROM "clinical"."patients"',
    outcome: 'rows',
    check: MASKED_CA_ROWS,
  },
  { name: 'FROM without SELECT', sql: 'FROM clinical.patients', outcome: 'rows', check: MASKED_CA_ROWS },
  { name: 'TABLE statement', sql: 'TABLE clinical.patients', outcome: 'rows', check: MASKED_CA_ROWS },
  {
    name: 'OR 1=1 in the user WHERE does not widen the row filter',
    sql: "SELECT * FROM clinical.patients WHERE state = 'NY' OR 1 = 1",
    outcome: 'rows',
    check: MASKED_CA_ROWS,
  },
  {
    name: 'asking for another state returns nothing',
    sql: "SELECT * FROM clinical.patients WHERE state = 'NY'",
    outcome: 'rows',
    check: ROW_COUNT(0),
  },
  {
    name: 'principal_attr called by the user',
    sql: "SELECT * FROM clinical.patients WHERE principal_attr('state') = 'NY'",
    outcome: 'refused',
    message: /principal_attr\(\) is only available in role row filters/,
  },
  {
    name: 'count(*) sees only CA rows',
    sql: 'SELECT count(*) AS n FROM clinical.patients',
    outcome: 'rows',
    check: (rows) => assert.equal(rows[0]!.n, 2),
  },
  {
    name: 'AT (VERSION => 1) on a masked table is still masked and filtered',
    sql: 'SELECT * FROM clinical.patients AT (VERSION => 1)',
    outcome: 'rows',
    check: (rows) => {
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.patient_id, 'P-CA-9');
      assert.equal(rows[0]!.first_name, '[REDACTED]');
    },
  },
  {
    name: 'AT (TIMESTAMP => …) is still masked and filtered',
    sql: "SELECT * FROM clinical.patients AT (TIMESTAMP => TIMESTAMP '2025-06-01 00:00:00')",
    outcome: 'rows',
    check: ROW_COUNT(1),
  },
  {
    name: 'AT with a non-constant expression',
    sql: 'SELECT * FROM clinical.patients AT (VERSION => (SELECT 1))',
    outcome: 'refused',
    message: /needs a constant version number/,
  },
  {
    name: 'AT (TIMESTAMP => now())',
    sql: 'SELECT * FROM clinical.patients AT (TIMESTAMP => now())',
    outcome: 'refused',
    message: /needs a constant timestamp/,
  },
  {
    name: 'CTE shadowing the bare table name with fake data',
    sql: "WITH patients AS (SELECT 'x' AS ssn) SELECT * FROM patients",
    outcome: 'rows',
    check: (rows) => assert.deepEqual(rows, [{ ssn: 'x' }]),
  },
  {
    name: 'CTE named like the table, reading the table',
    sql: 'WITH clinical_patients AS (SELECT * FROM clinical.patients) SELECT * FROM clinical_patients',
    outcome: 'rows',
    check: MASKED_CA_ROWS,
  },
  {
    name: 'CTE that reads itself is not a CTE reference',
    sql: 'WITH patients AS (SELECT * FROM patients) SELECT * FROM patients',
    outcome: 'refused',
    message: /table patients not found/,
  },
  {
    name: 'CTE named like a file, to reach a replacement scan',
    sql: `WITH "{dir}/clinical.patients/2/part-0.parquet" AS (SELECT 1) SELECT * FROM "{dir}/clinical.patients/2/part-0.parquet"`,
    outcome: 'refused',
    message: /WITH name .* is not allowed/,
  },
  {
    name: 'forward reference to a later CTE',
    sql: 'WITH a AS (SELECT * FROM b), b AS (SELECT 1 AS x) SELECT * FROM a',
    outcome: 'refused',
    message: /table b not found/,
  },
  {
    name: 'recursive CTE over a masked table',
    sql: 'WITH RECURSIVE r(n, m) AS (SELECT 1, mrn FROM clinical.patients UNION ALL SELECT n + 1, m FROM r WHERE n < 2) SELECT * FROM r',
    outcome: 'rows',
    check: (rows) => {
      assert.equal(rows.length, 4);
      for (const row of rows) assert.match(String(row.m), /^[0-9a-f]{64}$/);
    },
  },
  {
    name: 'table alias shadowing',
    sql: 'SELECT patients.* FROM clinical.visits AS patients',
    outcome: 'rows',
    check: (rows) => {
      assert.equal(rows.length, 2);
      ONLY_CA_IDS(rows);
    },
  },
  {
    name: 'the whole row as a struct',
    sql: 'SELECT p FROM clinical.patients p',
    outcome: 'rows',
    check: (rows) => {
      assert.equal(rows.length, 2);
      assert.doesNotMatch(JSON.stringify(rows), /ssn/);
    },
  },
  {
    name: 'to_json of the row',
    sql: 'SELECT to_json(p) AS j FROM clinical.patients p',
    outcome: 'rows',
    check: ROW_COUNT(2),
  },
  {
    name: 'LATERAL join',
    sql: 'SELECT t.* FROM clinical.patients p, LATERAL (SELECT p.first_name, p.mrn) t',
    outcome: 'rows',
    check: (rows) => {
      assert.equal(rows.length, 2);
      assert.equal(rows[0]!.first_name, '[REDACTED]');
    },
  },
  {
    name: 'self join across states',
    sql: 'SELECT a.patient_id, b.patient_id AS other FROM clinical.patients a JOIN clinical.patients b ON a.state <> b.state',
    outcome: 'rows',
    check: ROW_COUNT(0),
  },
  {
    name: 'correlated subquery into another state',
    sql: "SELECT * FROM clinical.visits WHERE patient_id IN (SELECT patient_id FROM clinical.patients WHERE state = 'NY')",
    outcome: 'rows',
    check: ROW_COUNT(0),
  },
  {
    name: 'string_agg of a masked column via a join',
    sql: "SELECT string_agg(p.first_name, ',') AS names FROM clinical.visits v JOIN clinical.patients p USING (patient_id)",
    outcome: 'rows',
    check: (rows) => assert.equal(rows[0]!.names, '[REDACTED],[REDACTED]'),
  },
  {
    name: 'PIVOT in FROM',
    sql: "SELECT * FROM clinical.patients PIVOT (count(*) FOR state IN ('CA', 'NY'))",
    outcome: 'rows',
    check: (rows) => {
      assert.equal(rows.length, 2);
      for (const row of rows) assert.equal(row.NY, 0);
    },
  },
  {
    name: 'UNPIVOT of masked columns',
    sql: 'UNPIVOT clinical.patients ON first_name, email INTO NAME k VALUE v',
    outcome: 'rows',
    check: ROW_COUNT(4),
  },
  {
    name: 'unnest of a list of masked values',
    sql: 'SELECT unnest(list(first_name)) AS n FROM clinical.patients',
    outcome: 'rows',
    check: (rows) =>
      assert.deepEqual(
        rows.map((row) => row.n),
        ['[REDACTED]', '[REDACTED]'],
      ),
  },
  {
    name: 'unnest as a table function over a subquery',
    sql: 'SELECT * FROM unnest((SELECT list(email) FROM clinical.patients))',
    outcome: 'rows',
    check: ROW_COUNT(2),
  },
  {
    name: 'sampling',
    sql: 'SELECT * FROM clinical.patients USING SAMPLE 100 PERCENT (bernoulli)',
    outcome: 'rows',
    check: MASKED_CA_ROWS,
  },
  {
    name: 'TABLESAMPLE on the reference',
    sql: 'SELECT * FROM clinical.patients TABLESAMPLE reservoir(10 ROWS)',
    outcome: 'rows',
    check: MASKED_CA_ROWS,
  },
  {
    name: 'window over the whole table',
    sql: 'SELECT count(*) OVER () AS n FROM clinical.patients',
    outcome: 'rows',
    check: (rows) => assert.equal(rows[0]!.n, 2),
  },
  {
    name: 'probing a masked value by equality',
    sql: "SELECT count(*) AS n FROM clinical.patients WHERE first_name = 'Alicia' OR birth_date = DATE '1980-05-17' OR zip = '94110'",
    outcome: 'rows',
    check: (rows) => assert.equal(rows[0]!.n, 0),
  },
  {
    name: 'error-based probing of rows outside the filter',
    sql: 'SELECT * FROM clinical.patients WHERE CAST(patient_id AS INTEGER) = 1',
    outcome: 'fails',
    message: /Conversion Error|Could not convert/,
  },
  {
    name: 'error() on a masked column',
    sql: 'SELECT error(first_name) FROM clinical.patients',
    outcome: 'fails',
    message: /REDACTED/,
  },

  // Recomputing the keyed hash of a masked column (mrn is HASH-masked for bob).
  {
    name: 'sha256 over a table with a hashed column',
    sql: 'SELECT sha256(patient_id) FROM clinical.patients',
    outcome: 'refused',
    message: /function sha256 is not allowed in a query that reads keyed-hash .*clinical\.patients\.mrn/,
  },
  {
    name: 'md5 of the hashed column',
    sql: 'SELECT md5(mrn) FROM clinical.patients',
    outcome: 'refused',
    message: /function md5 is not allowed in a query that reads keyed-hash/,
  },
  {
    name: 'sha1 with the method-call syntax',
    sql: 'SELECT mrn.sha1() FROM clinical.patients',
    outcome: 'refused',
    message: /sha1 is not allowed/,
  },
  {
    name: 'sha256 hidden in a lambda',
    sql: 'SELECT list_transform([mrn], x -> sha256(x)) FROM clinical.patients',
    outcome: 'refused',
    message: /function sha256 is not allowed/,
  },
  {
    name: 'sha256 in a subquery over a table without hashed columns, beside a hashed one',
    sql: 'SELECT p.mrn, (SELECT sha256(max(visit_id)) FROM clinical.visits) FROM clinical.patients p',
    outcome: 'refused',
    message: /function sha256 is not allowed/,
  },
  {
    name: 'a guessed value hashed with a guessed key, joined against the hashed column',
    sql: "SELECT p.patient_id FROM clinical.patients p, range(1) g WHERE p.mrn = sha256(unhex(repeat('5c', 64)) || unhex(sha256(unhex(repeat('36', 64)) || encode('MRN-CA-' || lpad(g.range::VARCHAR, 4, '0')))))",
    outcome: 'refused',
    message: /function sha256 is not allowed/,
  },
  {
    name: 'md5_number as a window argument',
    sql: 'SELECT max(md5_number(mrn)) OVER () FROM clinical.patients',
    outcome: 'refused',
    message: /function md5_number is not allowed/,
  },
  // Widening a row filter that reads another table (visits follow their patients).
  {
    name: 'a CTE named like the table the filter reads',
    sql: "WITH patients AS (SELECT 'P-NY-1' AS patient_id) SELECT * FROM clinical.visits",
    outcome: 'rows',
    check: ROW_COUNT(2),
    roles: FOLLOWER_ROLES,
  },
  {
    name: "an outer column named like the filter subquery's column",
    sql: "SELECT (SELECT count(*) FROM clinical.visits) AS n FROM (SELECT 'P-NY-1' AS patient_id, 'NY' AS state) u",
    outcome: 'rows',
    check: (rows) => assert.equal(rows[0]!.n, 2),
    roles: FOLLOWER_ROLES,
  },
  {
    name: 'a LATERAL subquery offering another patient id',
    sql: "SELECT v.* FROM (SELECT 'P-NY-1' AS patient_id) u, LATERAL (SELECT * FROM clinical.visits) v",
    outcome: 'rows',
    check: ROW_COUNT(2),
    roles: FOLLOWER_ROLES,
  },
  {
    name: 'OR true beside the followed filter',
    sql: "SELECT * FROM clinical.visits WHERE patient_id IN (SELECT 'P-NY-1') OR true",
    outcome: 'rows',
    check: ROW_COUNT(2),
    roles: FOLLOWER_ROLES,
  },
  {
    name: "another state's patient, named directly",
    sql: "SELECT * FROM clinical.visits WHERE patient_id = 'P-NY-1'",
    outcome: 'rows',
    check: ROW_COUNT(0),
    roles: FOLLOWER_ROLES,
  },
  {
    name: 'aggregates over followed visits',
    sql: 'SELECT count(*) AS n, sum(cost) AS total FROM clinical.visits',
    outcome: 'rows',
    check: (rows) => assert.deepEqual(rows, [{ n: 2, total: 200.5 }]),
    roles: FOLLOWER_ROLES,
  },
  {
    name: 'a failing cast over followed visits, to read a row from the error',
    sql: 'SELECT count(*) FROM clinical.visits WHERE CAST(visit_id AS INTEGER) > 0',
    outcome: 'fails',
    roles: FOLLOWER_ROLES,
  },
  {
    name: 'an old patients version beside followed visits',
    sql: 'SELECT v.visit_id FROM clinical.visits v JOIN clinical.patients p AT (VERSION => 1) USING (patient_id)',
    outcome: 'rows',
    check: ROW_COUNT(0),
    roles: FOLLOWER_ROLES,
  },
  {
    name: 'CTE with AT on its name',
    sql: 'WITH x AS (SELECT 1) SELECT * FROM x AT (VERSION => 1)',
    outcome: 'refused',
    message: /AT \(\.\.\.\) applies to catalog tables/,
  },
];

describe('SQL guard bypass attempts', () => {
  let warehouse: GovernedWarehouse;
  before(async () => {
    warehouse = await openGovernedWarehouse();
  });
  after(async () => {
    await warehouse?.close();
  });

  test('there are at least 40 attempts', () => {
    assert.ok(attempts.length >= 40, `only ${attempts.length} attempts`);
  });

  for (const attempt of attempts) {
    test(`${attempt.outcome === 'rows' ? 'governed' : 'refused'}: ${attempt.name}`, async () => {
      const sql = attempt.sql.replaceAll('{dir}', warehouse.directory);
      const assertNothingLeaks = (text: string, where: string) => {
        for (const forbidden of FORBIDDEN_STRINGS) {
          assert.equal(
            text.includes(forbidden),
            false,
            `${where} contains ${JSON.stringify(forbidden)}: ${text}`,
          );
        }
      };

      let guarded;
      try {
        guarded = await guardQuery(sql, warehouse.context(undefined, attempt.roles));
      } catch (error) {
        assert.ok(error instanceof QueryError, `expected a QueryError, got ${String(error)}`);
        assert.equal(attempt.outcome, 'refused', `the guard refused it: ${error.message}`);
        if (attempt.message) assert.match(error.message, attempt.message);
        assertNothingLeaks(error.message, 'the refusal');
        return;
      }
      assert.notEqual(attempt.outcome, 'refused', `the guard let it through as: ${guarded.sql}`);
      // The rewritten SQL holds the user's own literals, but never the hash key.
      assert.equal(guarded.sql.includes(HASH_KEY), false);
      assert.equal(guarded.sql.includes(Buffer.from(HASH_KEY).toString('hex')), false);

      let rows: Rows;
      try {
        rows = (await warehouse.sandbox.query(guarded.sql)).rows;
      } catch (error) {
        const raw = String((error as Error).message);
        const message = sanitizeEngineErrorMessage(raw);
        assert.equal(attempt.outcome, 'fails', `the engine failed: ${raw}`);
        if (attempt.message) assert.match(message, attempt.message);
        assertNothingLeaks(raw, 'the engine error');
        assert.equal(
          message.includes(warehouse.directory),
          false,
          `the error names the warehouse: ${message}`,
        );
        return;
      }
      assert.equal(attempt.outcome, 'rows', `it ran and returned ${JSON.stringify(rows)}`);
      assertNothingLeaks(
        JSON.stringify(rows, (_key, value) => (typeof value === 'bigint' ? String(value) : value)),
        'the result',
      );
      for (const row of rows) if ('state' in row) assert.equal(row.state, 'CA');
      attempt.check?.(rows);
    });
  }
});
