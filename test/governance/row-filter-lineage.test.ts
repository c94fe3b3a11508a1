// What "kept" means for a row filter to follow the rows, and how inherited filters combine, on the
// pure surface: `inheritRowFilters(definitions)` and `resolveAccess(..., lineage)`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  inheritRowFilters,
  resolveAccess,
  type AccessPrincipal,
  type RowFilterLineage,
} from '../../src/governance/index.ts';
import type { RoleDef, TableDef } from '../../src/model/index.ts';
import { definitions, field, projectionTask, roleDef, tableDef } from '../catalog/definition-builders.ts';

const STATE_FILTER = "state = principal_attr('state')";
const members = tableDef('care.members', {
  fields: [
    field('code', 1, 'VARCHAR', { primaryKey: true }),
    field('state', 2, 'VARCHAR'),
    field('tier', 3, 'VARCHAR'),
    field('tags', 4, { kind: 'list', element: { kind: 'scalar', sql: 'VARCHAR' } }),
  ],
});
const claims = tableDef('care.claims', {
  fields: [field('code', 1, 'VARCHAR'), field('amount', 2, 'DOUBLE')],
});
const analyst = roleDef('analyst', {
  grants: ['care.*', 'analytics.*'],
  rowFilters: { 'care.members': STATE_FILTER },
});
const bob: AccessPrincipal = { name: 'bob', groups: ['analytics'], attributes: { state: 'CA' } };

/** The lineage of one projection `analytics.out` (inferred unless `target` is given). */
async function lineageOf(
  sql: string,
  options: { roles?: RoleDef[]; target?: TableDef; tables?: TableDef[] } = {},
): Promise<RowFilterLineage> {
  return inheritRowFilters(
    definitions({
      tables: [
        members,
        claims,
        ...(options.tables ?? []),
        options.target ?? tableDef('analytics.out', { fields: undefined }),
      ],
      tasks: [projectionTask('build_out', 'analytics.out', sql)],
      roles: options.roles ?? [analyst],
    }),
  );
}

const carried = (lineage: RowFilterLineage, table = 'analytics.out') =>
  Object.fromEntries((lineage.edges[table] ?? []).map((edge) => [edge.upstream, edge.predicates]));

describe('inheritRowFilters: which columns are kept', () => {
  test('a plain, renamed, grouped or joined column is kept and the filter is renamed on the AST', async () => {
    for (const [sql, filter] of [
      ['select code, state from care.members', "(state = principal_attr('state'))"],
      ['select state as member_state from care.members', "(member_state = principal_attr('state'))"],
      ['select state as s, count(*) as n from care.members group by state', "(s = principal_attr('state'))"],
      [
        'select c.amount, m.state as st from care.claims c join care.members m using (code)',
        "(st = principal_attr('state'))",
      ],
      [
        'with x as (select * from care.members) select y.state from (select state from x) y',
        "(state = principal_attr('state'))",
      ],
    ] as const) {
      const lineage = await lineageOf(sql);
      assert.deepEqual(carried(lineage)['care.members'], { [STATE_FILTER]: filter }, sql);
      assert.deepEqual(lineage.findings, [], sql);
    }
  });

  test('swapped names map by the AST, not by text', async () => {
    const lineage = await lineageOf('select tier as state, state as tier from care.members');
    assert.deepEqual(carried(lineage)['care.members'], {
      [STATE_FILTER]: "(tier = principal_attr('state'))",
    });
  });

  test('a transformed, cast, aggregated or dropped column is not kept: a finding, nothing carried', async () => {
    for (const sql of [
      'select code, upper(state) as state from care.members',
      'select code, cast(state as varchar) as state from care.members',
      'select tier, max(state) as state from care.members group by tier',
      'select code from care.members',
      'select c.amount from care.claims c join care.members m using (code)',
      'select code from care.claims where code in (select code from care.members)',
      'select state from care.members union all select tier from care.members',
    ]) {
      const lineage = await lineageOf(sql);
      assert.deepEqual(carried(lineage)['care.members'], {}, sql);
      assert.deepEqual(
        lineage.findings.map(({ table, upstream, filter, columns }) => ({
          table,
          upstream,
          filter,
          columns,
        })),
        [{ table: 'analytics.out', upstream: 'care.members', filter: STATE_FILTER, columns: ['state'] }],
        sql,
      );
      assert.deepEqual(lineage.findings[0]!.at, { file: 'tables/analytics.out.yaml', line: 1, column: 1 });
    }
  });

  test('a declared target schema keeps only what it declares', async () => {
    const target = tableDef('analytics.out', { fields: [field('code', 1, 'VARCHAR')] });
    const lineage = await lineageOf('select code, state from care.members', { target });
    assert.deepEqual(carried(lineage)['care.members'], {});
    assert.equal(lineage.findings.length, 1);
  });

  test('a role declaring any filter on the derived table settles the finding', async () => {
    const settled = roleDef('reviewers', {
      grants: ['analytics.out'],
      rowFilters: { 'analytics.*': 'true' },
    });
    const lineage = await lineageOf('select tier, count(*) as n from care.members group by tier', {
      roles: [analyst, settled],
    });
    assert.deepEqual(lineage.findings, []);
  });

  test('a filter reading no column, or a lambda parameter, needs nothing kept', async () => {
    const roles = [
      roleDef('a', { grants: ['care.*'], rowFilters: { 'care.members': "principal_name() = 'bob'" } }),
      roleDef('b', {
        grants: ['care.*'],
        rowFilters: { 'care.members': "list_bool_or(list_transform(tags, state -> state = 'x'))" },
      }),
    ];
    const lineage = await lineageOf('select code, tags from care.members', { roles });
    assert.deepEqual(lineage.findings, []);
    assert.deepEqual(Object.keys(carried(lineage)['care.members']!).sort(), [
      "list_bool_or(list_transform(tags, state -> state = 'x'))",
      "principal_name() = 'bob'",
    ]);
  });
});

describe('resolveAccess with row filter lineage', () => {
  const roles = [
    roleDef('analyst', {
      grants: ['care.members', 'analytics.*'],
      rowFilters: { 'care.members': STATE_FILTER },
    }),
    roleDef('dashboards', { grants: ['analytics.*'] }),
    roleDef('claims-filter', {
      members: ['group:analytics'],
      grants: ['care.claims'],
      rowFilters: { 'care.claims': 'amount < 100' },
    }),
    roleDef('clinician', { members: ['group:care'], grants: ['care.*', 'analytics.*'] }),
  ];

  test('filters of two upstream tables must both pass', async () => {
    const lineage = await lineageOf(
      'select m.state, c.amount from care.members m join care.claims c using (code)',
      { roles },
    );
    const access = resolveAccess(bob, roles, 'analytics.out', lineage);
    assert.deepEqual(access?.rowFilterTerms, [["(state = principal_attr('state'))", '(amount < 100)']]);
    assert.equal(
      resolveAccess(bob, roles, 'analytics.out')?.rowFilterTerms,
      undefined,
      'without lineage: none',
    );
  });

  test('a principal reading the source unfiltered, and an admin, inherit nothing', async () => {
    const lineage = await lineageOf('select state from care.members', { roles });
    const carol: AccessPrincipal = { name: 'carol', groups: ['care'], attributes: {} };
    assert.equal(resolveAccess(carol, roles, 'analytics.out', lineage)?.rowFilterTerms, undefined);
    const admin: AccessPrincipal = { name: 'root', groups: [], attributes: {}, admin: true };
    assert.equal(resolveAccess(admin, roles, 'analytics.out', lineage)?.rowFilterTerms, undefined);
  });

  test('a principal with no grant on the source must pass every filter declared there', async () => {
    const other = roleDef('other-states', {
      members: ['group:elsewhere'],
      grants: ['care.members'],
      rowFilters: { 'care.members': "tier = 'gold'" },
    });
    const viewer = roleDef('viewer', { members: ['group:viewers'], grants: ['analytics.out'] });
    const all = [analyst, other, viewer];
    const lineage = await lineageOf('select state, tier from care.members', { roles: all });
    const vera: AccessPrincipal = { name: 'vera', groups: ['viewers'], attributes: { state: 'NY' } };
    assert.deepEqual(resolveAccess(vera, all, 'analytics.out', lineage)?.rowFilterTerms, [
      ["(state = principal_attr('state'))", "(tier = 'gold')"],
    ]);
    // bob reads care.members through the analyst role only: his own filter, not the other role's.
    assert.deepEqual(resolveAccess(bob, all, 'analytics.out', lineage)?.rowFilterTerms, [
      ["(state = principal_attr('state'))"],
    ]);
  });
});
