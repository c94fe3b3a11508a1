// Row filters follow the rows (SPEC §5): a filter on care.members applies to the tables projected
// from it, for every principal who does not read care.members unfiltered, through a real Platform
// on a temporary catalog repo (DuckDB, SQLite, Parquet files).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import { formatPlan } from '../../src/catalog/plan.ts';
import { checkRepo, Platform } from '../../src/platform.ts';
import { writeFiles, writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { TEAM_OWNER } from '../support/person-schema.ts';

const KEY = 'row-filter-inheritance-test-key';
const ANALYST = 'bob@example.org'; // state CA, through a filtering role and a role without filters
const AUDITOR = 'ann@example.org'; // state CA, one role that filters care.members and analytics.members_own
const OUTSIDER = 'olga@example.org'; // state NY, no grant on care.members at all
const CLINICIAN = 'carol@example.org'; // reads care.members unfiltered

const STATE_FILTER = "state = principal_attr('state')";

const ANALYTICS_TABLES = [
  'members_by_state',
  'members_renamed',
  'members_chain',
  'members_own',
  'tier_counts',
  'state_upper',
]
  .map((name) => `kind: table\nname: analytics.${name}\nowner: team\n`)
  .join('---\n');

const projection = (target: string, sql: string) =>
  `kind: task\nname: build_${target}\ntype: projection\ntarget: analytics.${target}\nsql: ${sql}\n`;

const rolesFile = (extraAnalystFilters = '') => `kind: role
name: analyst
members: [group:analytics]
grants:
  - tables: [care.members, 'analytics.*']
row_filters: { care.members: "${STATE_FILTER}", analytics.members_own: "tier = 'gold'"${extraAnalystFilters} }
---
kind: role
name: dashboards
members: [group:analytics]
grants:
  - tables: ['analytics.*']
---
kind: role
name: auditor
members: [group:auditors]
grants:
  - tables: [care.members, analytics.members_own, analytics.members_by_state]
row_filters: { care.members: "${STATE_FILTER}", analytics.members_own: "tier = 'gold'" }
---
kind: role
name: outsider
members: [group:outsiders]
grants:
  - tables: [analytics.members_by_state, analytics.members_chain]
---
kind: role
name: clinician
members: [group:care-team]
grants:
  - tables: ['care.*', 'analytics.*']
---
kind: principal
name: ${ANALYST}
groups: [analytics]
attributes: { state: CA }
---
kind: principal
name: ${AUDITOR}
groups: [auditors]
attributes: { state: CA }
---
kind: principal
name: ${OUTSIDER}
groups: [outsiders]
attributes: { state: NY }
---
kind: principal
name: ${CLINICIAN}
groups: [care-team]
`;

const repoFiles = (profile: boolean): Record<string, string> => ({
  'tessera.yaml': `name: row-filters\ngovernance:\n  hash_key: ${KEY}\n${profile ? '  profile: hipaa-safe-harbor\n' : ''}`,
  'owners/team.yaml': TEAM_OWNER,
  'schemas/care.proto': `syntax = "proto3";
package care;
import "tessera/options.proto";

// One member of a care plan.
message Member {
  string code = 1 [(tessera.field) = { primary_key: true }];
  string state = 2;
  string tier = 3;
}
`,
  'tables/care.yaml':
    'kind: table\nname: care.members\nowner: team\nschema: schemas/care.proto#care.Member\n',
  'tables/analytics.yaml': ANALYTICS_TABLES,
  'tasks/care.yaml': `kind: task
name: ingest_members
type: ingestion
target: care.members
source: { type: csv, uri: data/members.csv }
`,
  'tasks/analytics.yaml': [
    projection('members_by_state', 'select code, state, tier from care.members'),
    projection('members_renamed', 'select m.code, m.state as member_state from care.members m'),
    projection('members_chain', 'select code as member, member_state from analytics.members_renamed'),
    projection('members_own', 'select code, state, tier from care.members'),
    projection('tier_counts', 'select tier, count(*) as members from care.members group by tier'),
    projection('state_upper', 'select code, upper(state) as state from care.members'),
  ].join('---\n'),
  'access/roles.yaml': rolesFile(),
  'data/members.csv': `code,state,tier
m1,CA,gold
m2,CA,silver
m3,NY,gold
m4,NY,silver
m5,TX,silver
`,
});

describe('row filters follow the rows into derived tables', async () => {
  const repo = await writeRepo(repoFiles(false));
  after(() => rm(repo, { recursive: true, force: true }));
  const platform = await Platform.open({ repo });
  after(() => platform.close());
  await platform.apply();
  const runs = await platform.run({ tasks: [], all: true });

  const codes = async (sql: string, principal: string): Promise<string[]> => {
    const result = await platform.query(sql, { principal });
    return result.rows.map((row) => String(Object.values(row)[0])).sort();
  };

  test('every task runs', () => {
    assert.deepEqual(
      runs.map((run) => [run.task, run.status, run.error]).filter(([, status]) => status !== 'succeeded'),
      [],
    );
  });

  test('a projection keeping state shows the filtered analyst only their state, though another role grants it unfiltered', async () => {
    assert.deepEqual(await codes('select code from care.members', ANALYST), ['m1', 'm2']);
    assert.deepEqual(await codes('select code from analytics.members_by_state', ANALYST), ['m1', 'm2']);
    assert.deepEqual(
      await codes(`select code from analytics.members_by_state where state <> 'CA'`, ANALYST),
      [],
      "a predicate of the analyst's own cannot widen it",
    );
    assert.deepEqual(
      await codes('select count(*) from analytics.members_by_state', ANALYST),
      ['2'],
      'aggregates over the derived table count only the rows the analyst may see',
    );
  });

  test('a renamed column still filters, and a chain of two projections too', async () => {
    assert.deepEqual(await codes('select code from analytics.members_renamed', ANALYST), ['m1', 'm2']);
    assert.deepEqual(await codes('select member from analytics.members_chain', ANALYST), ['m1', 'm2']);
    const result = await platform.query('select * from analytics.members_chain', { principal: ANALYST });
    assert.deepEqual(result.guarded.rowFiltersApplied, [
      { table: 'analytics.members_chain', filter: "(member_state = principal_attr('state'))" },
    ]);
    const [entry] = await platform.auditLog({ principal: ANALYST, limit: 1 });
    assert.deepEqual(entry?.rowFilters, result.guarded.rowFiltersApplied, 'the audit log names the filter');
  });

  test('a principal with no grant on the source inherits its filter with their own attributes', async () => {
    assert.deepEqual(await codes('select code from analytics.members_by_state', OUTSIDER), ['m3', 'm4']);
    assert.deepEqual(await codes('select member from analytics.members_chain', OUTSIDER), ['m3', 'm4']);
  });

  test('a role declaring its own filter on the derived table replaces the inherited one for that role', async () => {
    // The auditor's one role filters members_own by tier: every state's gold members, not CA's.
    assert.deepEqual(await codes('select code from analytics.members_own', AUDITOR), ['m1', 'm3']);
    assert.deepEqual(await codes('select code from analytics.members_by_state', AUDITOR), ['m1', 'm2']);
    // The analyst's other role declares nothing there, so it brings the inherited filter, not every row.
    assert.deepEqual(await codes('select code from analytics.members_own', ANALYST), ['m1', 'm2', 'm3']);
  });

  test('a principal who reads the source unfiltered reads the derived tables unfiltered', async () => {
    const all = ['m1', 'm2', 'm3', 'm4', 'm5'];
    assert.deepEqual(await codes('select code from analytics.members_by_state', CLINICIAN), all);
    assert.deepEqual(await codes('select member from analytics.members_chain', CLINICIAN), all);
  });

  test('plan lists the tables the filter cannot follow into, in text and JSON', async () => {
    const plan = await platform.plan();
    assert.deepEqual(plan.rowFiltersToReview, [
      { table: 'analytics.state_upper', upstream: 'care.members', filter: STATE_FILTER, columns: ['state'] },
      { table: 'analytics.tier_counts', upstream: 'care.members', filter: STATE_FILTER, columns: ['state'] },
    ]);
    const text = formatPlan(plan);
    assert.match(text, /Row filters to review/);
    assert.match(
      text,
      /! analytics\.tier_counts {2}← care\.members: state = principal_attr\('state'\) \(state not kept\); declare a row filter for analytics\.tier_counts in a role, possibly "true"/,
    );
    assert.doesNotMatch(text, /analytics\.members_by_state {2}←/);
    const json = await tesseraInProcess(['--json', 'plan'], { cwd: repo, env: { TESSERA_TOKEN: '' } });
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      (JSON.parse(json.stdout) as { rowFiltersToReview: unknown }).rowFiltersToReview,
      plan.rowFiltersToReview,
    );
  });
});

describe('under the hipaa-safe-harbor profile', async () => {
  const repo = await writeRepo(repoFiles(true));
  after(() => rm(repo, { recursive: true, force: true }));

  test('an aggregated-away filter is a validate error until a role declares a filter, possibly "true"', async () => {
    const validate = await tesseraInProcess(['validate'], { cwd: repo, env: { TESSERA_TOKEN: '' } });
    assert.equal(validate.code, 2, validate.stdout + validate.stderr);
    const lines = validate.stdout.split('\n').filter((line) => line.includes('row-filter-not-inherited'));
    assert.equal(lines.length, 2, validate.stdout);
    const tierCountsLine = ANALYTICS_TABLES.split('\n').indexOf('name: analytics.tier_counts') + 1;
    assert.match(
      lines.find((line) => line.includes('analytics.tier_counts')) ?? '',
      new RegExp(
        `^tables/analytics\\.yaml:${tierCountsLine}:7: error row-filter-not-inherited: table analytics\\.tier_counts: .*care\\.members.*state.*declare a row filter for analytics\\.tier_counts in a role, possibly "true"`,
      ),
    );

    await writeFiles(repo, {
      'access/roles.yaml': rolesFile(', analytics.tier_counts: "true", analytics.state_upper: "true"'),
    });
    const { diagnostics } = await checkRepo({ repo });
    assert.deepEqual(
      diagnostics.filter((diagnostic) => diagnostic.severity === 'error'),
      [],
      'declaring a filter settles it',
    );
  });
});
