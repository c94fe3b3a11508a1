import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import {
  QueryGuard,
  guardQuery,
  hashKeyLiteral,
  hmacSha256Sql,
  sanitizeEngineErrorMessage,
  type AccessPrincipal,
  type GuardContext,
  type RelationRequest,
} from '../../src/governance/index.ts';
import type { MaskKind, RoleDef } from '../../src/model/index.ts';
import {
  ANALYST_ROLE,
  BOB,
  HASH_KEY,
  PATIENT_FIELDS,
  openGovernedWarehouse,
  type GovernedWarehouse,
} from './governed-warehouse.fixture.ts';

const at = { file: 'access/roles.yaml', line: 1, column: 1 };

describe('QueryGuard', () => {
  let warehouse: GovernedWarehouse;
  before(async () => {
    warehouse = await openGovernedWarehouse();
  });
  after(async () => {
    await warehouse?.close();
  });

  async function rows(sql: string, context: GuardContext): Promise<Record<string, unknown>[]> {
    const guarded = await guardQuery(sql, context);
    return (await warehouse.sandbox.query(guarded.sql)).rows;
  }

  test('reports the tables, columns, masks and row filters of a query, for the audit log', async () => {
    const guarded = await guardQuery(
      'SELECT p.first_name, v.cost FROM clinical.patients p JOIN clinical.visits v ON v.patient_id = p.patient_id',
      warehouse.context(),
    );
    assert.deepEqual(guarded.tables, ['clinical.patients', 'clinical.visits']);
    assert.deepEqual(guarded.columns.map((column) => `${column.table}.${column.column}`).sort(), [
      'clinical.patients.first_name',
      'clinical.patients.patient_id',
      'clinical.visits.cost',
      'clinical.visits.patient_id',
    ]);
    assert.deepEqual(guarded.masksApplied, [
      { table: 'clinical.patients', column: 'first_name', mask: 'REDACT' },
    ]);
    assert.deepEqual(guarded.rowFiltersApplied, [
      { table: 'clinical.patients', filter: "state = principal_attr('state')" },
      { table: 'clinical.visits', filter: "state = principal_attr('state')" },
    ]);
    const result = await warehouse.sandbox.query(guarded.sql);
    assert.deepEqual(result.rows, [
      { first_name: '[REDACTED]', cost: 120.5 },
      { first_name: '[REDACTED]', cost: 80 },
    ]);
  });

  test('masked values: the keyed hash equals HMAC-SHA256 under the project key', async () => {
    const [row] = await rows(
      "SELECT mrn, birth_date, zip, email FROM clinical.patients WHERE patient_id = 'P-CA-2'",
      warehouse.context(),
    );
    assert.deepEqual(row, {
      mrn: createHmac('sha256', HASH_KEY).update('MRN-CA-0002').digest('hex'),
      birth_date: '1936-01-01', // born 1930: top-coded
      zip: '000', // 036 is a restricted ZIP3
      email: '***@calmail.org',
    });
  });

  test('an admin sees every column and row in clear, without any grant', async () => {
    const admin: AccessPrincipal = { name: 'dev', groups: [], attributes: {}, admin: true };
    const result = await rows(
      'SELECT ssn, first_name FROM clinical.patients ORDER BY ssn',
      warehouse.context(admin, []),
    );
    assert.deepEqual(
      result.map((row) => row.ssn),
      ['111-11-1111', '222-22-2222', '333-33-3333', '444-44-4444'],
    );
    assert.equal(result[0]!.first_name, 'Alicia');
    const claims = await rows('SELECT secret FROM billing.claims', warehouse.context(admin, []));
    assert.deepEqual(claims, [{ secret: 'CLAIM-SECRET-777' }]);
  });

  test('unmasking PHI shows PHI in clear but keeps PII masked and denied columns absent', async () => {
    const clinician: RoleDef = { ...ANALYST_ROLE, name: 'clinician', unmask: ['PHI'] };
    const [row] = await rows(
      "SELECT * FROM clinical.patients WHERE patient_id = 'P-CA-1'",
      warehouse.context(BOB, [clinician]),
    );
    assert.equal(row!.first_name, 'Alicia');
    assert.equal(row!.mrn, 'MRN-CA-0001');
    assert.equal(row!.email, '***@calmail.org');
    assert.equal('ssn' in row!, false);
  });

  test('a second granting role without a filter lets every row through, and its columns show', async () => {
    const auditor: RoleDef = {
      name: 'auditor',
      members: ['user:bob@example.org'],
      grants: ['clinical.patients'],
      denyColumns: {},
      rowFilters: {},
      unmask: [],
      at,
    };
    const result = await rows(
      'SELECT patient_id, ssn FROM clinical.patients',
      warehouse.context(BOB, [ANALYST_ROLE, auditor]),
    );
    assert.equal(result.length, 4);
    assert.match(String(result[0]!.ssn), /^[0-9a-f]{64}$/);
  });

  test('a missing attribute lets no row through', async () => {
    const nobody: AccessPrincipal = { name: 'eve@example.org', groups: ['analytics'], attributes: {} };
    assert.deepEqual(await rows('SELECT * FROM clinical.patients', warehouse.context(nobody)), []);
  });

  test('an attribute value is data, never SQL', async () => {
    const sly: AccessPrincipal = {
      name: 'mallory',
      groups: ['analytics'],
      attributes: { state: "CA' OR '1'='1" },
    };
    assert.deepEqual(await rows('SELECT * FROM clinical.patients', warehouse.context(sly)), []);
  });

  test('principal_name() in a row filter', async () => {
    const own: RoleDef = {
      ...ANALYST_ROLE,
      rowFilters: { 'clinical.patients': "lower(first_name) || '@example.org' = principal_name()" },
    };
    const alicia: AccessPrincipal = { name: 'alicia@example.org', groups: ['analytics'], attributes: {} };
    const result = await rows('SELECT patient_id FROM clinical.patients', warehouse.context(alicia, [own]));
    assert.deepEqual(result, [{ patient_id: 'P-CA-1' }]);
  });

  test('a row filter that is not one predicate over the table is a clear error naming the table', async () => {
    for (const filter of [
      'true; DROP TABLE x',
      'state IN (SELECT state FROM visits)',
      "state IN (SELECT * FROM read_csv('/etc/passwd'))",
      'state = principal_attr(state)',
    ]) {
      const broken: RoleDef = { ...ANALYST_ROLE, rowFilters: { 'clinical.patients': filter } };
      await assert.rejects(
        guardQuery('SELECT 1 FROM clinical.patients', warehouse.context(BOB, [broken])),
        (error: unknown) => {
          assert.ok(error instanceof QueryError);
          assert.match(error.message, /^row filter for clinical.patients /);
          return true;
        },
      );
    }
  });

  test('a principal who guesses the hash key cannot confirm guessed values in the engine', async () => {
    // The key is weak or leaked; candidates MRN-CA-0000..0009 are hashed and joined against mrn.
    const guess = hmacSha256Sql("'MRN-CA-000' || g.range::VARCHAR", hashKeyLiteral(HASH_KEY));
    await assert.rejects(
      guardQuery(
        `SELECT p.patient_id FROM clinical.patients p, range(10) g WHERE p.mrn = ${guess}`,
        warehouse.context(),
      ),
      (error: unknown) => {
        assert.ok(error instanceof QueryError);
        assert.match(error.message, /^function sha256 is not allowed in a query that reads keyed-hash/);
        assert.match(error.message, /clinical\.patients\.mrn/);
        return true;
      },
    );
  });

  test('digests stay available where nothing is seen hashed', async () => {
    const digest = await rows(
      "SELECT sha256(visit_id) AS d FROM clinical.visits WHERE visit_id = 'V-CA-1'",
      warehouse.context(),
    );
    assert.deepEqual(digest, [{ d: createHash('sha256').update('V-CA-1').digest('hex') }]);
    const clinician: RoleDef = { ...ANALYST_ROLE, name: 'clinician', unmask: ['PHI'] };
    const clear = await rows(
      "SELECT md5(mrn) AS d FROM clinical.patients WHERE patient_id = 'P-CA-1'",
      warehouse.context(BOB, [clinician]),
    );
    assert.deepEqual(clear, [{ d: createHash('md5').update('MRN-CA-0001').digest('hex') }]);
  });

  test('a version that stores keyed hashes: digests are refused over it, even for a principal who unmasks', async () => {
    const clinician: RoleDef = { ...ANALYST_ROLE, name: 'clinician', unmask: ['PHI'] };
    const base = warehouse.context(BOB, [clinician]);
    const context: GuardContext = {
      ...base,
      resolveRelation: async (request) => ({
        ...(await base.resolveRelation(request))!,
        storedMasks: { mrn: 'HASH' },
      }),
    };
    await assert.rejects(
      guardQuery('SELECT sha256(patient_id) FROM clinical.patients', context),
      /function sha256 is not allowed in a query that reads keyed-hash .*clinical\.patients\.mrn/,
    );
  });

  test('hands AT clauses to the relation resolver as constants', async () => {
    const requests: RelationRequest[] = [];
    const base = warehouse.context();
    const context: GuardContext = {
      ...base,
      resolveRelation: (request) => {
        requests.push(request);
        return base.resolveRelation(request);
      },
    };
    await guardQuery(
      "SELECT * FROM clinical.patients a AT (VERSION => 1), clinical.patients b AT (TIMESTAMP => TIMESTAMP '2025-06-01 00:00:00'), clinical.patients c",
      context,
    );
    assert.deepEqual(requests, [
      { table: 'clinical.patients', at: { unit: 'VERSION', value: 1 } },
      { table: 'clinical.patients', at: { unit: 'TIMESTAMP', value: '2025-06-01 00:00:00' } },
      { table: 'clinical.patients' },
    ]);
  });

  test('a missing version and an ungranted table read alike', async () => {
    await assert.rejects(
      guardQuery('SELECT * FROM clinical.patients AT (VERSION => 7)', warehouse.context()),
      /^QueryError: table clinical.patients not found$/,
    );
    await assert.rejects(
      guardQuery('SELECT * FROM billing.claims', warehouse.context()),
      /^QueryError: table billing.claims not found$/,
    );
  });

  test('HASH reads a precomputed hash column when the relation has one', async () => {
    const base = warehouse.context();
    const context: GuardContext = {
      ...base,
      resolveRelation: async (request) => {
        const relation = await base.resolveRelation(request);
        if (!relation || request.table !== 'clinical.patients') return relation;
        return {
          ...relation,
          sql: `(SELECT *, 'stored:' || mrn AS mrn__hash FROM ${relation.sql})`,
          hashColumns: { mrn: 'mrn__hash' },
        };
      },
    };
    const guarded = await guardQuery('SELECT * FROM clinical.patients ORDER BY patient_id', context);
    assert.doesNotMatch(guarded.sql, /sha256\(.*encode\(mrn\)/);
    const result = (await warehouse.sandbox.query(guarded.sql)).rows;
    assert.deepEqual(
      result.map((row) => row.mrn),
      ['stored:MRN-CA-0001', 'stored:MRN-CA-0002'],
    );
    assert.equal('mrn__hash' in result[0]!, false);
  });

  /** The warehouse, with its patients version recorded as storing `storedMasks`, whatever its files hold. */
  const storedAs = (storedMasks: Record<string, MaskKind>): GuardContext => {
    const base = warehouse.context();
    return {
      ...base,
      resolveRelation: async (request) => ({ ...(await base.resolveRelation(request))!, storedMasks }),
    };
  };

  test('a field the version stores with the mask the principal sees it through is not masked twice', async () => {
    const guarded = await new QueryGuard(storedAs({ first_name: 'REDACT' })).guard(
      'SELECT first_name, email FROM clinical.patients',
    );
    assert.deepEqual(
      guarded.masksApplied.map((entry) => `${entry.column}:${entry.mask}`),
      ['email:EMAIL_DOMAIN'],
      'the field recorded raw is masked as usual',
    );
    assert.match(guarded.sql, /, first_name, /);
  });

  test('a field stored with another mask than the principal’s is masked again, and redacted when that mask cannot apply', async () => {
    // first_name stored as its last four characters, though the principal's mask is REDACT now;
    // birth_date stored as a hash (text), though the principal's mask is DATE_YEAR.
    const result = await rows(
      'SELECT first_name, birth_date, zip FROM clinical.patients ORDER BY patient_id',
      storedAs({ first_name: 'SHOW_LAST_4', birth_date: 'HASH', zip: 'ZIP3' }),
    );
    assert.deepEqual(
      result.map((row) => [row.first_name, row.birth_date]),
      [
        ['[REDACTED]', '[REDACTED]'],
        ['[REDACTED]', '[REDACTED]'],
      ],
    );
    // ZIP3 stored as ZIP3 is read as stored (the fixture's files hold full ZIPs: the record decides).
    assert.deepEqual(
      result.map((row) => String(row.zip).length),
      [5, 5],
    );
  });

  test('a value that does not read as its field type is masked as NULL, not a failed query', async () => {
    const base = warehouse.context();
    const context: GuardContext = {
      ...base,
      resolveRelation: async (request) => {
        const relation = (await base.resolveRelation(request))!;
        // A file written de-identified before versions recorded it: the birth date holds a hash.
        return request.table === 'clinical.patients'
          ? { ...relation, sql: `(SELECT * REPLACE ('0f3a' AS birth_date) FROM ${relation.sql})` }
          : relation;
      },
    };
    const result = await rows('SELECT birth_date FROM clinical.patients', context);
    assert.deepEqual(
      result.map((row) => row.birth_date),
      [null, null],
    );
  });

  test('a sensitive field without a mask is redacted, not shown', async () => {
    const base = warehouse.context();
    const context: GuardContext = {
      ...base,
      resolveRelation: async (request) => {
        const relation = (await base.resolveRelation(request))!;
        const fields = PATIENT_FIELDS.map((field) =>
          field.name === 'first_name' ? { ...field, mask: undefined } : field,
        );
        return request.table === 'clinical.patients' ? { ...relation, fields } : relation;
      },
    };
    const result = await rows('SELECT first_name FROM clinical.patients', context);
    assert.deepEqual(result, [{ first_name: '[REDACTED]' }, { first_name: '[REDACTED]' }]);
  });

  test('sanitizeEngineErrorMessage never echoes the value a conversion failed on', () => {
    assert.equal(
      sanitizeEngineErrorMessage("Conversion Error: Could not convert string 'P-NY-1' to INT32"),
      "Conversion Error: Could not convert string '…' to INT32",
    );
  });

  test('sanitizeEngineErrorMessage drops the quoted SQL line', () => {
    assert.equal(
      sanitizeEngineErrorMessage(
        'Binder Error: Referenced column "ssn" not found in FROM clause!\n\nLINE 1: SELECT ssn FROM (SELECT read_parquet(\'/warehouse/x\')...\n               ^',
      ),
      'Binder Error: Referenced column "ssn" not found in FROM clause!',
    );
  });
});
