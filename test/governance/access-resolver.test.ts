import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  matchesTablePattern,
  resolveAccess,
  rolesOf,
  type AccessPrincipal,
} from '../../src/governance/index.ts';
import type { PrincipalDef, RoleDef } from '../../src/model/index.ts';

const at = { file: 'access/roles.yaml', line: 1, column: 1 };

function role(name: string, fields: Partial<RoleDef>): RoleDef {
  return { name, members: [], grants: [], denyColumns: {}, rowFilters: {}, unmask: [], at, ...fields };
}

const bob: PrincipalDef = { name: 'bob@example.org', groups: ['analytics'], attributes: { state: 'CA' }, at };

describe('rolesOf', () => {
  test('matches user:NAME, group:G and a bare name, case-insensitively', () => {
    const roles = [
      role('by-user', { members: ['user:Bob@Example.org'] }),
      role('by-group', { members: ['group:ANALYTICS'] }),
      role('by-name', { members: ['bob@example.org'] }),
      role('other-user', { members: ['user:alice@example.org'] }),
      role('other-group', { members: ['group:billing'] }),
      role('group-is-not-a-name', { members: ['analytics'] }),
    ];
    assert.deepEqual(
      rolesOf(bob, roles).map((held) => held.name),
      ['by-user', 'by-group', 'by-name'],
    );
  });
});

describe('matchesTablePattern', () => {
  test('exact names and globs', () => {
    assert.equal(matchesTablePattern('clinical.patients', 'clinical.patients'), true);
    assert.equal(matchesTablePattern('analytics.*', 'analytics.patient_summary'), true);
    assert.equal(matchesTablePattern('analytics.*', 'clinical.patients'), false);
    assert.equal(matchesTablePattern('*', 'clinical.patients'), true);
    assert.equal(matchesTablePattern('clinical.pat?ents', 'clinical.patients'), true);
    // A dot in a pattern is a dot, not "any character".
    assert.equal(matchesTablePattern('clinical.patients', 'clinicalxpatients'), false);
  });
});

describe('resolveAccess', () => {
  test('no grant: the table does not exist for the principal', () => {
    const roles = [role('analyst', { members: ['group:analytics'], grants: ['analytics.*'] })];
    assert.equal(resolveAccess(bob, roles, 'clinical.patients'), undefined);
    assert.equal(resolveAccess({ ...bob, groups: [] }, roles, 'analytics.summary'), undefined);
  });

  test('a grant by glob gives the table with no restrictions', () => {
    const roles = [role('analyst', { members: ['group:analytics'], grants: ['analytics.*'] })];
    assert.deepEqual(resolveAccess(bob, roles, 'analytics.summary'), {
      table: 'analytics.summary',
      roles: ['analyst'],
      hiddenColumns: [],
      unmasked: [],
      admin: false,
    });
  });

  test('a column is hidden only if every granting role denies it', () => {
    const roles = [
      role('a', {
        members: ['group:analytics'],
        grants: ['clinical.*'],
        denyColumns: { 'clinical.patients': ['ssn', 'zip'] },
      }),
      role('b', {
        members: ['user:bob@example.org'],
        grants: ['clinical.patients'],
        denyColumns: { 'clinical.*': ['ssn'] },
      }),
      // Denies everything but does not grant the table: it does not count.
      role('c', {
        members: ['group:analytics'],
        grants: ['analytics.*'],
        denyColumns: { 'clinical.patients': ['state'] },
      }),
    ];
    assert.deepEqual(resolveAccess(bob, roles, 'clinical.patients')?.hiddenColumns, ['ssn']);
  });

  test('row filters: OR across granting roles', () => {
    const roles = [
      role('a', {
        members: ['group:analytics'],
        grants: ['clinical.*'],
        rowFilters: { 'clinical.patients': "state = principal_attr('state')" },
      }),
      role('b', {
        members: ['group:analytics'],
        grants: ['clinical.patients'],
        rowFilters: { 'clinical.patients': 'age > 65' },
      }),
    ];
    const access = resolveAccess(bob, roles, 'clinical.patients')!;
    assert.equal(access.rowFilter, "(state = principal_attr('state')) OR (age > 65)");
    assert.deepEqual(access.rowFilterTerms, [["state = principal_attr('state')"], ['age > 65']]);
  });

  test('row filters: a granting role without a filter lets every row through', () => {
    const roles = [
      role('a', {
        members: ['group:analytics'],
        grants: ['clinical.*'],
        rowFilters: { 'clinical.patients': "state = 'CA'" },
      }),
      role('b', { members: ['group:analytics'], grants: ['clinical.patients'] }),
    ];
    const access = resolveAccess(bob, roles, 'clinical.patients')!;
    assert.equal(access.rowFilter, undefined);
    assert.equal(access.rowFilterTerms, undefined);
  });

  test('row filters: exact and glob entries of one role must both pass', () => {
    const roles = [
      role('a', {
        members: ['group:analytics'],
        grants: ['clinical.*'],
        rowFilters: { 'clinical.*': "state = 'CA'", 'clinical.patients': 'deleted = false' },
      }),
    ];
    assert.deepEqual(resolveAccess(bob, roles, 'clinical.patients')?.rowFilterTerms, [
      ["state = 'CA'", 'deleted = false'],
    ]);
    assert.equal(
      resolveAccess(bob, roles, 'clinical.patients')?.rowFilter,
      "(state = 'CA') AND (deleted = false)",
    );
  });

  test('unmasked sensitivities are the union over granting roles', () => {
    const roles = [
      role('a', { members: ['group:analytics'], grants: ['clinical.*'], unmask: ['PII'] }),
      role('b', { members: ['group:analytics'], grants: ['clinical.patients'], unmask: ['CONFIDENTIAL'] }),
      role('c', { members: ['group:analytics'], grants: ['billing.*'], unmask: ['PHI'] }),
    ];
    assert.deepEqual(resolveAccess(bob, roles, 'clinical.patients')?.unmasked, ['PII', 'CONFIDENTIAL']);
  });

  test('an admin sees every table in clear, with no grant', () => {
    const admin: AccessPrincipal = { name: 'local', groups: [], attributes: {}, admin: true };
    assert.deepEqual(resolveAccess(admin, [], 'clinical.patients'), {
      table: 'clinical.patients',
      roles: [],
      hiddenColumns: [],
      unmasked: ['PII', 'PHI', 'CONFIDENTIAL'],
      admin: true,
    });
  });
});
