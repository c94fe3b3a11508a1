// The review sections of a pull-request plan, computed from two sets of definitions: each role's
// view of each table before and after (through the governance access resolver), sensitivity
// changes, and whose review a change needs. Pure: no engine, catalog or Git.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlan, planChanges } from '../../src/catalog/plan.ts';
import { formatPlanMarkdown } from '../../src/catalog/plan-markdown.ts';
import {
  findAccessChanges,
  findMembershipChanges,
  findReviewers,
  findSensitivityChanges,
} from '../../src/platform/plan-review.ts';
import type { Definitions, TableDef } from '../../src/model/index.ts';
import { definitions, field, ownerDef, principalDef, roleDef, tableDef } from './definition-builders.ts';

const members = (extra: Parameters<typeof field>[3] = {}, store: TableDef['store'] = 'raw') =>
  tableDef('care.members', {
    owner: 'care-team',
    store,
    fields: [
      field('member_id', 1, 'VARCHAR', { primaryKey: true }),
      field('ssn', 2, 'VARCHAR', { sensitivity: 'PII', mask: 'HASH' }),
      field('zip', 3, 'VARCHAR', extra),
    ],
  });

const texts = (before: Definitions, after: Definitions) =>
  findAccessChanges(before, after).map((change) => change.text);

test('role membership: a declared principal moved between groups, a user: member added and removed', () => {
  const before = definitions({
    principals: [principalDef('bob@example.org', { groups: ['analytics'] })],
    roles: [roleDef('analyst'), roleDef('auditor', { members: ['user:eve@example.org'] })],
  });
  const after = definitions({
    principals: [principalDef('bob@example.org', { groups: ['care'] })],
    roles: [
      roleDef('analyst', { members: ['group:analytics', 'user:dan@example.org'] }),
      roleDef('nurse', { members: ['group:care'] }),
      roleDef('auditor', { members: [] }),
    ],
  });
  assert.deepEqual(
    findMembershipChanges(before, after).map((change) => change.text),
    [
      'bob@example.org now holds role nurse',
      'bob@example.org no longer holds role analyst',
      'dan@example.org now holds role analyst',
      'eve@example.org no longer holds role auditor',
    ],
  );
});

describe('access changes', () => {
  test('a mask replaced by another, and a column unmasked for a role that unmasks its sensitivity', () => {
    const before = definitions({
      tables: [members({ sensitivity: 'PHI', mask: 'ZIP3' })],
      roles: [
        roleDef('analyst', { grants: ['care.members'] }),
        roleDef('nurse', { grants: ['care.*'], unmask: ['PII'] }),
      ],
    });
    const after = definitions({
      tables: [members({ sensitivity: 'PII', mask: 'REDACT' })],
      roles: before.roles,
    });
    assert.deepEqual(texts(before, after), [
      'role analyst will now see care.members.zip as REDACT (was ZIP3)',
      'role nurse will now see care.members.zip in clear (was ZIP3)',
    ]);
  });

  test('a de-identified table stays masked for a role that unmasks: the raw values are not stored', () => {
    const before = definitions({
      tables: [members({ sensitivity: 'PHI', mask: 'ZIP3' })],
      roles: [roleDef('clinician', { grants: ['care.*'], unmask: ['PII', 'PHI'] })],
    });
    const after = definitions({
      tables: [members({ sensitivity: 'PHI', mask: 'ZIP3' }, 'deidentified')],
      roles: before.roles,
    });
    assert.deepEqual(texts(before, after), [
      'role clinician will now see care.members.ssn as HASH',
      'role clinician will now see care.members.zip as ZIP3',
    ]);
  });

  test('denied columns of an inferred table, a removed role, and a granted table with its restrictions', () => {
    const summary = tableDef('analytics.summary', { fields: undefined, owner: 'analytics' });
    const before = definitions({
      tables: [summary, members()],
      roles: [roleDef('analyst'), roleDef('auditor', { grants: ['care.members'] })],
    });
    const after = definitions({
      tables: [summary, members()],
      roles: [
        roleDef('analyst', {
          grants: ['analytics.*', 'care.members'],
          denyColumns: { 'analytics.summary': ['state'], 'care.members': ['zip'] },
          rowFilters: { 'care.members': "zip like '9%'" },
        }),
      ],
    });
    assert.deepEqual(texts(before, after), [
      'role analyst will no longer see analytics.summary.state',
      "role analyst gains access to care.members (masked: ssn as HASH; hidden: zip; rows where `zip like '9%'`)",
      'role auditor loses access to care.members',
    ]);
  });

  test('a row filter removed says the role now reads every row', () => {
    const before = definitions({
      tables: [members()],
      roles: [
        roleDef('analyst', { grants: ['care.members'], rowFilters: { 'care.members': "zip = '94110'" } }),
      ],
    });
    const after = definitions({
      tables: [members()],
      roles: [roleDef('analyst', { grants: ['care.members'] })],
    });
    assert.deepEqual(findAccessChanges(before, after), [
      {
        role: 'analyst',
        table: 'care.members',
        kind: 'row_filter_removed',
        text: "row filter of role analyst on care.members removed: it now reads every row (was `zip = '94110'`)",
      },
    ]);
  });

  test('nothing changes, nothing is said', () => {
    const same = definitions({ tables: [members()], roles: [roleDef('analyst', { grants: ['care.*'] })] });
    assert.deepEqual(findAccessChanges(same, same), []);
  });
});

test('sensitivity changes: a column declassified is weakened; a new sensitive column is listed', () => {
  const before = definitions({ tables: [members({ sensitivity: 'PHI', mask: 'ZIP3' })] });
  const withEmail = tableDef('care.members', {
    owner: 'care-team',
    fields: [
      ...members().schema!.fields,
      field('email', 4, 'VARCHAR', { sensitivity: 'PII', mask: 'EMAIL_DOMAIN' }),
    ],
  });
  assert.deepEqual(findSensitivityChanges(before, definitions({ tables: [withEmail] })), [
    {
      table: 'care.members',
      column: 'zip',
      from: { sensitivity: 'PHI', mask: 'ZIP3' },
      to: {},
      weakened: true,
    },
    {
      table: 'care.members',
      column: 'email',
      to: { sensitivity: 'PII', mask: 'EMAIL_DOMAIN' },
      weakened: false,
    },
  ]);
});

test('reviewers: owners of changed tables, of tables whose access changes, and of downstream tables', () => {
  const before = definitions({
    owners: [
      ownerDef('care-team', { members: ['alice@example.org'] }),
      ownerDef('analytics', { members: ['bob@example.org'] }),
    ],
    tables: [
      members(),
      tableDef('analytics.by_zip', { owner: 'analytics', fields: undefined, subscribers: ['finance'] }),
    ],
    roles: [roleDef('analyst', { grants: ['analytics.*'] })],
  });
  const after = { ...before, tables: [members({ sensitivity: 'PHI' }), before.tables[1]!] };
  const plan = planChanges(after, asApplied(before), {
    downstreamTables: (table) => (table === 'care.members' ? ['analytics.by_zip'] : []),
  });
  assert.deepEqual(findReviewers(plan, findAccessChanges(before, after), before, after), [
    { owner: 'analytics', members: ['bob@example.org'], tables: ['analytics.by_zip'] },
    { owner: 'care-team', members: ['alice@example.org'], tables: ['care.members'] },
    { owner: 'finance', members: [], tables: ['analytics.by_zip'] },
  ]);
});

test('markdown: long lists fold into <details>, and pipes in values do not break tables', () => {
  const tables = Array.from({ length: 12 }, (_, index) =>
    tableDef(`care.t${String(index).padStart(2, '0')}`),
  );
  const before = definitions({ tables: [tables[0]!] });
  const after = definitions({
    tables: [{ ...tables[0]!, description: 'counts | totals' }, ...tables.slice(1)],
    roles: [roleDef('analyst', { grants: ['care.*'] })],
  });
  const plan = planChanges(after, asApplied(before), { downstreamTables: () => [] });
  plan.comparison = {
    revision: 'main',
    commit: 'a'.repeat(40),
    baseProblems: [],
    accessChanges: findAccessChanges(before, after),
    membershipChanges: [],
    sensitivityChanges: [],
    newDeclassifications: [],
    reviewers: [],
  };
  const markdown = formatPlanMarkdown(plan);
  assert.match(markdown, /^## Tessera plan: 12 to add, 1 to change, 0 to remove · 12 access changes$/m);
  assert.match(markdown, /<details><summary>12 rows<\/summary>\n\n\| {2}\| Table \| Change \|/);
  assert.match(markdown, /<details><summary>12 access changes<\/summary>/);
  assert.match(
    markdown,
    /^\| ✏️ \| `care.t00` \| description: The care.t00 table. → counts \\\| totals \|$/m,
  );
  assert.match(markdown, /Review needed from: nobody/);
});

function asApplied(defs: Definitions) {
  return {
    tables: defs.tables.map((def) => ({
      name: def.name,
      owner: def.owner,
      schemaVersion: def.schemaVersion,
      fields: def.schema?.fields ?? [],
      definition: def,
      updatedAt: '',
    })),
    tasks: defs.tasks,
    owners: defs.owners,
    roles: defs.roles,
    principals: defs.principals,
  };
}

test('text: a declassification the base did not make is marked new; the base problems are listed', () => {
  const plan = planChanges(definitions(), asApplied(definitions()), {
    downstreamTables: () => [],
    declassifications: [
      { table: 'analytics.a', column: 'zip', from: 'care.members.zip', sensitivity: 'PHI' },
      { table: 'analytics.b', column: 'zip', from: 'care.members.zip', sensitivity: 'PHI' },
    ],
  });
  plan.comparison = {
    revision: 'main',
    commit: 'b'.repeat(40),
    baseProblems: ['tables/x.yaml:1:1: error unknown-owner: …'],
    accessChanges: [],
    membershipChanges: [],
    sensitivityChanges: [],
    newDeclassifications: ['analytics.b.zip'],
    reviewers: [],
  };
  const text = formatPlan(plan);
  assert.match(text, /^ {2}! analytics.a.zip {2}← care.members.zip \(PHI\)/m);
  assert.match(text, /^ {2}! analytics.b.zip \(new\) {2}← care.members.zip \(PHI\)/m);
  assert.match(text, /No changes: the definitions match main\./);
  assert.match(
    text,
    /Problems at main \(the plan compares with what loaded of it\)\n {2}! tables\/x.yaml:1:1/,
  );
});
