// Result column names come from the user's own SQL text, never from the rewritten SQL: a scalar
// subquery's name would otherwise carry storage paths, the hash mask's SQL and the row filter.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import type { EngineSession } from '../../src/engines/engine.ts';
import {
  digestHalvesSql,
  fieldTypeSql,
  guardQuery,
  maskExpression,
  type AccessPrincipal,
  type GuardContext,
} from '../../src/governance/index.ts';
import type { RoleDef } from '../../src/model/index.ts';
import {
  PATIENT_FIELDS,
  VISIT_FIELDS,
  openGovernedWarehouse,
  type GovernedWarehouse,
} from './governed-warehouse.fixture.ts';

const at = { file: 'access/roles.yaml', line: 1, column: 1 };

/** Sees ssn HASH-masked (no column denied), rows of CA only. */
const READER: RoleDef = {
  name: 'reader',
  members: ['user:carol'],
  grants: ['clinical.*'],
  denyColumns: {},
  rowFilters: {
    'clinical.patients': "state = principal_attr('state')",
    'clinical.visits': "state = principal_attr('state')",
  },
  unmask: [],
  at,
};
const CAROL: AccessPrincipal = { name: 'carol', groups: [], attributes: { state: 'CA' } };

/** Things of the rewritten SQL that must never surface in a column name. */
const REWRITE_ONLY = [
  /read_parquet/i,
  /__hash/i,
  /getvariable/i,
  /tessera_hash_key/i,
  /sha256/i,
  /hmac/i,
  /xor\(/i,
  /unhex/i,
  /'CA'/,
  /principal_attr/i,
  /\[REDACTED\]/,
];

/** Queries as an analyst would type them: every unaliased item's name must be DuckDB's name for this text. */
const QUERIES = [
  'SELECT (SELECT count(*) FROM clinical.patients)',
  'SELECT (SELECT max(ssn) FROM clinical.patients)',
  'SELECT upper(ssn) FROM clinical.patients',
  'SELECT * FROM (SELECT ssn FROM clinical.patients)',
  'SELECT * FROM (SELECT (SELECT max(mrn) FROM clinical.patients), upper(clinical.patients.mrn) FROM clinical.patients)',
  "SELECT coalesce((SELECT max(p.ssn) FROM clinical.patients p WHERE p.state = 'NY'), 'none')",
  'SELECT EXISTS (SELECT 1 FROM clinical.visits), 1 + (SELECT count(*) FROM clinical.visits)',
  'SELECT (SELECT max(ssn) FROM clinical.patients) UNION ALL SELECT 1::VARCHAR',
  'SELECT 1::VARCHAR UNION ALL SELECT (SELECT max(ssn) FROM clinical.patients)',
  'WITH c AS (SELECT (SELECT count(*) FROM clinical.patients), upper(mrn) FROM clinical.patients) SELECT * FROM c',
  "SELECT COLUMNS('s.n') || (SELECT max(mrn) FROM clinical.patients) FROM clinical.patients",
  'SELECT p.ssn = q.ssn, count(DISTINCT p.ssn) FROM clinical.patients p JOIN clinical.patients q ON p.ssn = q.ssn GROUP BY ALL',
  'SELECT upper(p.mrn) FROM clinical.patients p GROUP BY upper(p.mrn) ORDER BY upper(p.mrn)',
  'SELECT patient_id IN (SELECT v.patient_id FROM clinical.visits v) FROM clinical.patients',
  'SELECT (SELECT max(ssn) FROM clinical.patients) AS m, count(*) FROM clinical.patients',
];

/** Queries whose answers hold the names of an inner query's columns, as values. */
const NAMES_AS_VALUES = [
  'SELECT DISTINCT json_keys(to_json(t)) AS k FROM (SELECT (SELECT count(*) FROM clinical.patients), upper(mrn) FROM clinical.patients) t',
  'SELECT k FROM (UNPIVOT (SELECT (SELECT count(*) FROM clinical.patients), count(*) AS n FROM clinical.patients) ON COLUMNS(*) INTO NAME k VALUE v) ORDER BY k',
];

describe('result column names', () => {
  let warehouse: GovernedWarehouse;
  let plainEngine: DuckdbEngine;
  let plain: EngineSession;
  let context: GuardContext;

  before(async () => {
    warehouse = await openGovernedWarehouse();
    // The same tables, in clear and ungoverned: what DuckDB names the user's text.
    plainEngine = await DuckdbEngine.create({ threads: 1 });
    plain = await plainEngine.openSession();
    const columns = (fields: typeof PATIENT_FIELDS) =>
      fields.map((field) => `${field.name} ${fieldTypeSql(field.type)}`).join(', ');
    await plain.run(
      `CREATE SCHEMA clinical; CREATE TABLE clinical.patients (${columns(PATIENT_FIELDS)}); CREATE TABLE clinical.visits (${columns(VISIT_FIELDS)})`,
    );
    await plain.run(
      "INSERT INTO clinical.patients (patient_id, ssn, mrn, state) VALUES ('P', 'S', 'M', 'CA')",
    );

    // ssn read from a precomputed hash with digest halves, as the runner stores it.
    const base = warehouse.context(CAROL, [READER]);
    const hash = maskExpression('HASH', 'ssn', { kind: 'scalar', sql: 'VARCHAR' }, base.masks);
    const [high, low] = digestHalvesSql('ssn__hash');
    context = {
      ...base,
      resolveRelation: async (request) => {
        const relation = await base.resolveRelation(request);
        if (!relation || request.table !== 'clinical.patients') return relation;
        return {
          ...relation,
          sql: `(SELECT *, ${high} AS ssn__hash_hi, ${low} AS ssn__hash_lo FROM (SELECT *, ${hash} AS ssn__hash FROM ${relation.sql}))`,
          hashColumns: { ssn: 'ssn__hash' },
          digestColumns: { ssn: ['ssn__hash_hi', 'ssn__hash_lo'] },
        };
      },
    };
  });
  after(async () => {
    plain?.close();
    await plainEngine?.close();
    await warehouse?.close();
  });

  const assertNothingRewritten = (text: string, sql: string) => {
    assert.equal(text.includes(warehouse.directory), false, `${sql}: names hold a storage path: ${text}`);
    for (const pattern of REWRITE_ONLY) {
      assert.doesNotMatch(text, pattern, `${sql}: names hold rewritten SQL: ${text}`);
    }
  };

  for (const sql of QUERIES) {
    test(`named as DuckDB names the user's text: ${sql}`, async () => {
      const guarded = await guardQuery(sql, context);
      const result = await warehouse.sandbox.query(guarded.sql);
      const names = result.columns.map((column) => column.name);
      assertNothingRewritten(JSON.stringify(names), sql);
      const expected = (await plain.query(sql)).columns.map((column) => column.name);
      assert.deepEqual(names, expected);
    });
  }

  for (const sql of NAMES_AS_VALUES) {
    test(`names inside values come from the user's text: ${sql}`, async () => {
      const guarded = await guardQuery(sql, context);
      const rows = (await warehouse.sandbox.query(guarded.sql)).rows;
      assertNothingRewritten(JSON.stringify(rows), sql);
      assert.deepEqual(rows, (await plain.query(sql)).rows);
    });
  }
});
