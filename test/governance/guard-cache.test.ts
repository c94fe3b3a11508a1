import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import {
  GuardCache,
  guardQuery,
  type AccessPrincipal,
  type GuardContext,
  type RelationRequest,
} from '../../src/governance/index.ts';
import type { RoleDef } from '../../src/model/index.ts';
import {
  ANALYST_ROLE,
  BILLING_ROLE,
  BOB,
  openGovernedWarehouse,
  type GovernedWarehouse,
} from './governed-warehouse.fixture.ts';

const ALICE: AccessPrincipal = {
  name: 'alice@example.org',
  groups: ['analytics'],
  attributes: { state: 'NY' },
};
const CAROL: AccessPrincipal = { name: 'carol@example.org', groups: ['billing'], attributes: {} };
const PATIENTS = 'SELECT patient_id, first_name, email FROM clinical.patients ORDER BY patient_id';

describe('GuardCache', () => {
  let warehouse: GovernedWarehouse;
  const roles: RoleDef[] = [ANALYST_ROLE, BILLING_ROLE];
  before(async () => {
    warehouse = await openGovernedWarehouse();
  });
  after(async () => {
    await warehouse?.close();
  });

  async function rows(sql: string, context: GuardContext): Promise<Record<string, unknown>[]> {
    return (await warehouse.sandbox.query((await guardQuery(sql, context)).sql)).rows;
  }

  test('an identical query by the same principal is answered from the cache, with the same rows', async () => {
    const cache = new GuardCache();
    const first = await rows(PATIENTS, { ...warehouse.context(BOB, roles), cache });
    const second = await rows(PATIENTS, { ...warehouse.context(BOB, roles), cache });
    assert.equal(cache.size, 1);
    assert.deepEqual(second, first);
    assert.deepEqual(
      second.map((row) => row.patient_id),
      ['P-CA-1', 'P-CA-2'],
    );
  });

  test('another principal never gets a rewrite made for someone else: own rows, own grants', async () => {
    const cache = new GuardCache();
    await guardQuery(PATIENTS, { ...warehouse.context(BOB, roles), cache });
    const alice = await rows(PATIENTS, { ...warehouse.context(ALICE, roles), cache });
    assert.deepEqual(
      alice.map((row) => row.patient_id),
      ['P-NY-1', 'P-NY-2'],
    );
    // Carol holds no grant on clinical.*: the cached rewrites of the same SQL do not let her in.
    await assert.rejects(
      guardQuery(PATIENTS, { ...warehouse.context(CAROL, roles), cache }),
      (error: unknown) =>
        error instanceof QueryError && /table clinical\.patients not found/.test(error.message),
    );
    assert.equal(cache.size, 2, 'a refused query is not kept');
    await assert.rejects(guardQuery(PATIENTS, { ...warehouse.context(CAROL, roles), cache }), QueryError);
  });

  test('the same principal with changed attributes gets the rows of the new attributes', async () => {
    const cache = new GuardCache();
    await guardQuery(PATIENTS, { ...warehouse.context(BOB, roles), cache });
    const moved = await rows(PATIENTS, {
      ...warehouse.context({ ...BOB, attributes: { state: 'NY' } }, roles),
      cache,
    });
    assert.deepEqual(
      moved.map((row) => row.patient_id),
      ['P-NY-1', 'P-NY-2'],
    );
  });

  test('a relation that resolves differently (a new version published) is rewritten again', async () => {
    const cache = new GuardCache();
    const base = warehouse.context(BOB, roles);
    let published = 1;
    const requests: RelationRequest[] = [];
    const context: GuardContext = {
      ...base,
      cache,
      resolveRelation: (request) => {
        requests.push(request);
        return base.resolveRelation(
          request.table === 'clinical.patients'
            ? { ...request, at: { unit: 'VERSION', value: published } }
            : request,
        );
      },
    };
    const before = await rows(PATIENTS, context);
    published = 2;
    const after = await rows(PATIENTS, context);
    assert.notDeepEqual(
      after.map((row) => [row.patient_id, row.first_name, row.email]),
      before.map((row) => [row.patient_id, row.first_name, row.email]),
    );
    const direct = await rows(PATIENTS, base);
    assert.deepEqual(after, direct, 'the current version, as an uncached rewrite reads it');
    assert.ok(
      requests.every((request) => request.table === 'clinical.patients'),
      'every relation the cached rewrite read is resolved again on each query',
    );
    assert.ok(requests.length >= 3);
  });

  test('a rewrite made under other roles is not reused: a newly denied column is gone', async () => {
    const cache = new GuardCache();
    const star = 'SELECT * FROM clinical.patients ORDER BY patient_id';
    const before = await rows(star, { ...warehouse.context(BOB, roles), cache });
    assert.ok('email' in before[0]!);
    const stricter: RoleDef[] = [
      { ...ANALYST_ROLE, denyColumns: { 'clinical.patients': ['ssn', 'email'] } },
      BILLING_ROLE,
    ];
    const after = await rows(star, { ...warehouse.context(BOB, stricter), cache });
    assert.equal('email' in after[0]!, false);
  });

  test('a caller editing the answer it got does not change what the cache hands out next', async () => {
    const cache = new GuardCache();
    const first = await guardQuery(PATIENTS, { ...warehouse.context(BOB, roles), cache });
    const sql = first.sql;
    first.sql = 'SELECT 1';
    first.masksApplied.length = 0;
    const second = await guardQuery(PATIENTS, { ...warehouse.context(BOB, roles), cache });
    assert.equal(second.sql, sql);
    assert.ok(second.masksApplied.length > 0);
  });

  test('the cache keeps at most its limit of rewrites, dropping the least recently used', async () => {
    const cache = new GuardCache(2);
    const context = { ...warehouse.context(BOB, roles), cache };
    await guardQuery('SELECT patient_id FROM clinical.patients', context);
    await guardQuery('SELECT first_name FROM clinical.patients', context);
    await guardQuery('SELECT email FROM clinical.patients', context);
    assert.equal(cache.size, 2);
  });
});
