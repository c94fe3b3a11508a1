// Row filters that read other catalog tables: visits follow their patients. The tables a filter
// reads are that same principal's rows (their own filters apply, recursively), in clear.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import { guardQuery, type AccessPrincipal } from '../../src/governance/index.ts';
import type { RoleDef } from '../../src/model/index.ts';
import { BOB, openGovernedWarehouse, type GovernedWarehouse } from './governed-warehouse.fixture.ts';

const at = { file: 'access/roles.yaml', line: 1, column: 1 };
const FOLLOW_PATIENTS = 'patient_id IN (SELECT patient_id FROM clinical.patients)';

/** Patients by state; visits by their patient, not by their own state column. */
const FOLLOWER: RoleDef = {
  name: 'follower',
  members: ['group:analytics'],
  grants: ['clinical.*'],
  denyColumns: { 'clinical.patients': ['ssn'] },
  rowFilters: {
    'clinical.patients': "state = principal_attr('state')",
    'clinical.visits': FOLLOW_PATIENTS,
  },
  unmask: [],
  at,
};

const NEW_YORKER: AccessPrincipal = { name: 'nina', groups: ['analytics'], attributes: { state: 'NY' } };

describe('row filters that read other tables', () => {
  let warehouse: GovernedWarehouse;
  before(async () => {
    warehouse = await openGovernedWarehouse();
  });
  after(async () => {
    await warehouse?.close();
  });

  async function visitIds(roles: RoleDef[], principal: AccessPrincipal = BOB): Promise<string[]> {
    const guarded = await guardQuery('SELECT visit_id FROM clinical.visits ORDER BY visit_id', {
      ...warehouse.context(principal, roles),
    });
    return (await warehouse.sandbox.query(guarded.sql)).rows.map((row) => String(row.visit_id));
  }

  test("visits follow the patients the principal may see, through the patients' own row filter", async () => {
    assert.deepEqual(await visitIds([FOLLOWER]), ['V-CA-1', 'V-CA-2']);
    assert.deepEqual(await visitIds([FOLLOWER], NEW_YORKER), ['V-NY-1']);
  });

  test('the audit record lists the filter read inside the filter', async () => {
    const guarded = await guardQuery(
      'SELECT count(*) FROM clinical.visits',
      warehouse.context(BOB, [FOLLOWER]),
    );
    assert.deepEqual(guarded.tables, ['clinical.visits']);
    assert.deepEqual(guarded.rowFiltersApplied, [
      { table: 'clinical.visits', filter: FOLLOW_PATIENTS },
      { table: 'clinical.patients', filter: "state = principal_attr('state')" },
    ]);
  });

  test('without a grant on the table the filter reads, no row passes, and nothing says why', async () => {
    for (const filter of [FOLLOW_PATIENTS, 'patient_id NOT IN (SELECT patient_id FROM clinical.patients)']) {
      const visitsOnly: RoleDef = {
        ...FOLLOWER,
        grants: ['clinical.visits'],
        rowFilters: { 'clinical.visits': filter },
      };
      assert.deepEqual(await visitIds([visitsOnly]), []);
    }
    // A table that does not exist reads the same.
    const missing: RoleDef = {
      ...FOLLOWER,
      rowFilters: { 'clinical.visits': 'patient_id IN (SELECT patient_id FROM clinical.nope)' },
    };
    assert.deepEqual(await visitIds([missing]), []);
  });

  test('the filter reads masked and denied columns in clear, but only rows the principal may see', async () => {
    const bySsn = (ssn: string): RoleDef => ({
      ...FOLLOWER,
      rowFilters: {
        ...FOLLOWER.rowFilters,
        'clinical.visits': `patient_id IN (SELECT patient_id FROM clinical.patients WHERE ssn = '${ssn}' OR mrn = 'MRN-CA-0002')`,
      },
    });
    // ssn is denied and mrn HASH-masked for bob, yet the filter compares their raw values.
    assert.deepEqual(await visitIds([bySsn('111-11-1111')]), ['V-CA-1', 'V-CA-2']);
    // A NY patient's ssn matches nothing: the patients the filter reads are bob's (CA) patients.
    assert.deepEqual(await visitIds([bySsn('333-33-3333')]), ['V-CA-2']);
  });

  test("principal attributes are substituted inside the filter's subqueries", async () => {
    const byAttribute: RoleDef = {
      ...FOLLOWER,
      rowFilters: {
        'clinical.visits':
          "patient_id IN (SELECT patient_id FROM clinical.patients WHERE state = principal_attr('state'))",
      },
    };
    assert.deepEqual(await visitIds([byAttribute], NEW_YORKER), ['V-NY-1']);
  });

  test('filters that read each other are refused, naming the tables', async () => {
    const cyclic: RoleDef = {
      ...FOLLOWER,
      rowFilters: {
        'clinical.patients': 'patient_id IN (SELECT patient_id FROM clinical.visits)',
        'clinical.visits': FOLLOW_PATIENTS,
      },
    };
    await assert.rejects(
      guardQuery('SELECT * FROM clinical.visits', warehouse.context(BOB, [cyclic])),
      (error: unknown) => {
        assert.ok(error instanceof QueryError);
        assert.match(
          error.message,
          /^row filters read each other in a cycle \(clinical\.visits → clinical\.patients → clinical\.visits\)/,
        );
        return true;
      },
    );
    const own: RoleDef = {
      ...FOLLOWER,
      rowFilters: { 'clinical.visits': 'patient_id IN (SELECT patient_id FROM clinical.visits)' },
    };
    await assert.rejects(
      guardQuery('SELECT * FROM clinical.visits', warehouse.context(BOB, [own])),
      /cycle \(clinical\.visits → clinical\.visits\)/,
    );
  });

  test('a filter reads catalog tables only, at their current version: anything else is a repo mistake', async () => {
    for (const [filter, message] of [
      ['patient_id IN (SELECT patient_id FROM patients)', /reads `patients`, which is not a catalog table/],
      [
        'patient_id IN (SELECT patient_id FROM clinical.patients AT (VERSION => 1))',
        /reads clinical.patients with AT/,
      ],
      ['patient_id IN (SELECT range::VARCHAR FROM range(3))', /not table functions/],
    ] as const) {
      const broken: RoleDef = { ...FOLLOWER, rowFilters: { 'clinical.visits': filter } };
      await assert.rejects(
        guardQuery('SELECT * FROM clinical.visits', warehouse.context(BOB, [broken])),
        (error: unknown) => {
          assert.ok(error instanceof QueryError);
          assert.match(error.message, /^row filter for clinical.visits /);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
  test("a filter naming a column its tables lack is refused: the user's query could supply it", async () => {
    const attacks = [
      [
        "region = principal_attr('state')",
        "SELECT (SELECT count(*) FROM clinical.visits) AS n FROM (SELECT 'CA' AS region) u",
        /names `region`/,
      ],
      [
        'patient_id IN (SELECT pid FROM clinical.patients)',
        "SELECT v.* FROM (SELECT 'P-NY-1' AS pid) u, LATERAL (SELECT * FROM clinical.visits) v",
        /names `pid`/,
      ],
      [
        'patient_id IN (SELECT p.pid FROM clinical.patients p)',
        "SELECT (SELECT count(*) FROM clinical.visits) AS n FROM (SELECT 'P-NY-1' AS pid) p",
        /names `p.pid`/,
      ],
    ] as const;
    for (const [filter, sql, message] of attacks) {
      const typo: RoleDef = {
        ...FOLLOWER,
        rowFilters: { ...FOLLOWER.rowFilters, 'clinical.visits': filter },
      };
      await assert.rejects(guardQuery(sql, warehouse.context(BOB, [typo])), (error: unknown) => {
        assert.ok(error instanceof QueryError, String(error));
        assert.match(error.message, /^row filter for clinical.visits /);
        assert.match(error.message, message);
        return true;
      });
    }
    // Names the filter defines itself, and struct fields of its columns, are its own.
    const ownNames: RoleDef = {
      ...FOLLOWER,
      rowFilters: {
        ...FOLLOWER.rowFilters,
        'clinical.visits':
          "patient_id IN (WITH c AS (SELECT p.patient_id AS id FROM clinical.patients p) SELECT c.id FROM c) AND patient_id IN (SELECT clinical.patients.patient_id FROM clinical.patients) AND list_any_value(list_transform([state], s -> s)) = {'st': state}.st",
      },
    };
    assert.deepEqual(await visitIds([ownNames]), ['V-CA-1', 'V-CA-2']);
  });
});
