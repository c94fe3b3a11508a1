import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { OWNER_YAML, formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const PATIENT_PROTO = `syntax = "proto3";
package clinical;
message Patient {
  string patient_id = 1;
  string gender = 2;
}
`;

describe('cross-reference lint', () => {
  it('reports every unknown owner, subscriber, target, dependency and producer conflict at once', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'schemas/clinical.proto': PATIENT_PROTO,
      'tables/tables.yaml': `kind: table
name: clinical.patients
owner: clinical-dta
schema: schemas/clinical.proto#clinical.Patient
subscribers: [clinical-data, nobody]
---
kind: table
name: analytics.summary
owner: clinical-data
---
kind: table
name: raw.no_schema
owner: clinical-data
`,
      'tasks/tasks.yaml': `kind: task
name: ingest_patients
type: ingestion
target: clinical.patients
source: { type: csv, uri: p.csv, columns: { Id: patient_idd } }
mode: merge
---
kind: task
name: ingest_again
type: ingestion
target: clinical.patients
source: { type: parquet, uri: p.parquet }
---
kind: task
name: ingest_raw
type: ingestion
target: raw.no_schema
source: { type: csv, uri: r.csv }
---
kind: task
name: build_summary
type: projection
target: analytics.summary
sql: select count(*) as n from clinical.patients
depends_on: [ingest_patients, raw.no_schema, nope]
---
kind: task
name: build_elsewhere
type: projection
target: analytics.sumary
sql: select 1 as one
`,
    });
    const { diagnostics } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'tables/tables.yaml:3:8: error missing-owner: table clinical.patients: owner `clinical-dta` is not declared (did you mean `clinical-data`?); add a `kind: owner` document named clinical-dta',
      'tables/tables.yaml:5:30: error unknown-subscriber: table clinical.patients: subscriber `nobody` is not a declared owner',
      'tasks/tasks.yaml:5:49: error unknown-column: task ingest_patients: `columns` maps `Id` to `patient_idd`, which is not a field of clinical.patients (did you mean `patient_id`?)',
      'tasks/tasks.yaml:6:7: error missing-primary-key: task ingest_patients: `mode: merge` upserts on the primary key, but clinical.patients declares none; mark key fields with `[(tessera.field) = { primary_key: true }]`',
      'tasks/tasks.yaml:11:9: error duplicate-producer: task ingest_again: table clinical.patients is already the target of task ingest_patients (tasks/tasks.yaml:2:7); a table has exactly one producing task',
      'tasks/tasks.yaml:17:9: error missing-schema: task ingest_raw: ingestion target raw.no_schema has no `schema`; an ingested table conforms its source to a declared schema (only projection targets may infer theirs)',
      'tasks/tasks.yaml:25:46: error unknown-dependency: task build_summary: `depends_on` names `nope`, which is neither a declared task nor a declared table',
      'tasks/tasks.yaml:30:9: error unknown-table: task build_elsewhere: target `analytics.sumary` is not a declared table (did you mean `analytics.summary`?); add a `kind: table` document for it',
    ]);
  });

  it('parses projection SQL and points unknown tables at their place in the SQL', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'schemas/clinical.proto': PATIENT_PROTO,
      'tables/tables.yaml': ['patients', 'from_file', 'inline', 'broken', 'broken_file', 'no_file', 'bare']
        .map((name, index) =>
          index === 0
            ? 'kind: table\nname: clinical.patients\nowner: clinical-data\nschema: schemas/clinical.proto#clinical.Patient\n'
            : `kind: table\nname: analytics.${name}\nowner: clinical-data\n`,
        )
        .join('---\n'),
      'sql/from_file.sql': `-- Patients per gender.
select p.gender, count(*) as n
from clinical.patients p
join "Clinical"."Encounters" e on e.patient_id = p.patient_id
group by p.gender
`,
      'sql/broken.sql': 'select *\nfrom clinical.patients\nwehre 1 = 1\n',
      'tasks/tasks.yaml': `kind: task
name: from_file
type: projection
target: analytics.from_file
sql: sql/from_file.sql
---
kind: task
name: inline
type: projection
target: analytics.inline
sql: |
  with recent as (select * from clinical.patients)
  select * from recent
  union all
  select * from clinical.patient
---
kind: task
name: broken
type: projection
target: analytics.broken
sql: "select * from clinical.patients where"
---
kind: task
name: broken_file
type: projection
target: analytics.broken_file
sql: sql/broken.sql
---
kind: task
name: no_file
type: projection
target: analytics.no_file
sql: sql/nope.sql
---
kind: task
name: bare
type: projection
target: analytics.bare
sql: "select * from patients, 'data/patients.csv'"
`,
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'sql/broken.sql:3:7: error sql-parse: task broken_file: SQL does not parse: syntax error at or near "1"',
      'sql/from_file.sql:4:6: error unknown-table: task from_file: SQL reads `clinical.encounters`, which is not a declared table',
      'tasks/tasks.yaml:15:17: error unknown-table: task inline: SQL reads `clinical.patient`, which is not a declared table (did you mean `clinical.patients`?)',
      'tasks/tasks.yaml:21:6: error sql-parse: task broken: SQL does not parse: syntax error at end of input',
      'tasks/tasks.yaml:33:6: error missing-file: task no_file: SQL file `sql/nope.sql` does not exist (paths are relative to the repo root)',
      'tasks/tasks.yaml:39:21: error unknown-table: task bare: SQL reads `patients`, which is not a declared table; catalog tables are referenced as namespace.name (e.g. clinical.patients)',
      'tasks/tasks.yaml:39:32: error unknown-table: task bare: SQL reads `data/patients.csv`, which is not a declared table; projections read catalog tables only, never files (ingest the file with an ingestion task)',
    ]);
    const fromFile = definitions.tasks.find((task) => task.name === 'from_file')!;
    assert.equal(fromFile.sqlFile, 'sql/from_file.sql');
    assert.match(fromFile.sql!, /^-- Patients per gender\./);
  });

  it('reports each cycle in the task graph once, naming the tables that close it', async () => {
    const projection = (name: string, target: string, sql: string, extra = '') =>
      `kind: task\nname: ${name}\ntype: projection\ntarget: ${target}\nsql: ${sql}\n${extra}---\n`;
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'tables/tables.yaml': ['a', 'b', 'c', 'd', 'own']
        .map((name) => `kind: table\nname: loop.${name}\nowner: clinical-data\n`)
        .join('---\n'),
      'tasks/tasks.yaml': [
        projection('build_a', 'loop.a', 'select * from loop.c'),
        projection('build_b', 'loop.b', 'select * from loop.a'),
        projection('build_c', 'loop.c', 'select 1', 'depends_on: [build_b]\n'),
        projection('build_d', 'loop.d', 'select * from loop.a'),
        projection('build_own', 'loop.own', 'select * from loop.own'),
      ].join(''),
    });
    const { diagnostics } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'tasks/tasks.yaml:2:7: error cycle: tasks form a cycle: build_a publishes loop.a, read by build_b; build_b publishes loop.b, read by build_c; build_c publishes loop.c, read by build_a. A projection runs when its upstream publishes, so a cycle never settles; remove one of these reads',
      'tasks/tasks.yaml:27:7: error cycle: tasks form a cycle: build_own reads its own target loop.own. A projection runs when its upstream publishes, so a cycle never settles; remove one of these reads',
    ]);
  });

  it('checks the tables, columns, row filters and members that roles name', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'schemas/clinical.proto': PATIENT_PROTO,
      'tables/patients.yaml':
        'kind: table\nname: clinical.patients\nowner: clinical-data\nschema: schemas/clinical.proto#clinical.Patient\n',
      'access/roles.yaml': `kind: role
name: analyst
members: [group:analytics, group:nobody, user:bob@example.org, user:carol@example.org, "service:x"]
grants:
  - tables: ["analytics.*", "clinical.patients", "clinical.visits"]
deny_columns: { clinical.patients: [ssn, gender], clinical.visits: [id] }
row_filters: { clinical.patients: "state = principal_attr('state') and", clinical.visits: "true" }
---
kind: role
name: auditor
unmask: [PII, SECRET]
---
kind: principal
name: bob@example.org
groups: [analytics]
attributes: { state: CA, age: 42 }
`,
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'access/roles.yaml:3:28: warning unknown-group: role analyst: no declared principal is in group `nobody`',
      'access/roles.yaml:3:64: warning unknown-principal: role analyst: `carol@example.org` is not a declared principal',
      'access/roles.yaml:3:88: error invalid-member: role analyst: member `service:x` must be `user:NAME`, `group:NAME` or a principal name',
      'access/roles.yaml:5:14: warning unknown-table: role analyst: grant `analytics.*` matches no declared table',
      'access/roles.yaml:5:50: error unknown-table: role analyst: grant names `clinical.visits`, which is not a declared table',
      'access/roles.yaml:6:37: error unknown-column: role analyst: `deny_columns` hides `ssn`, which is not a column of clinical.patients',
      'access/roles.yaml:6:51: error unknown-table: role analyst: `deny_columns` names `clinical.visits`, which is not a declared table',
      'access/roles.yaml:7:35: error sql-parse: role analyst: the row filter on clinical.patients is not a SQL predicate: syntax error at end of input',
      'access/roles.yaml:7:74: error unknown-table: role analyst: `row_filters` names `clinical.visits`, which is not a declared table',
      'access/roles.yaml:11:15: error invalid-value: role auditor: `unmask[1]` must be one of `PII`, `PHI`, `CONFIDENTIAL`',
    ]);
    assert.deepEqual(definitions.principals[0]!.attributes, { state: 'CA', age: '42' });
  });
  it('accepts row filters that read declared tables, and reports unknown tables and cycles', async () => {
    const table = (name: string) => `kind: table\nname: ${name}\nowner: clinical-data\n`;
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'tables/tables.yaml': ['clinical.patients', 'clinical.visits', 'clinical.claims']
        .map(table)
        .join('---\n'),
      'access/roles.yaml': `kind: role
name: follower
grants:
  - tables: ["clinical.*"]
row_filters:
  clinical.visits: "patient_id IN (SELECT patient_id FROM clinical.patients)"
  clinical.claims: "visit_id IN (SELECT visit_id FROM clinical.visitz) OR visit_id IN (SELECT visit_id FROM visits)"
---
kind: role
name: looper
grants:
  - tables: ["clinical.claims"]
row_filters:
  clinical.claims: "claim_id IN (SELECT claim_id FROM clinical.claims WHERE true)"
---
kind: role
name: back
grants:
  - tables: ["clinical.patients"]
row_filters:
  clinical.patients: "patient_id IN (SELECT patient_id FROM clinical.visits)"
`,
    });
    const { diagnostics } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'access/roles.yaml:7:55: error unknown-table: role follower: the row filter on clinical.claims reads `clinical.visitz`, which is not a declared table (did you mean `clinical.visits`?)',
      'access/roles.yaml:7:109: error unknown-table: role follower: the row filter on clinical.claims reads `visits`, which is not a declared table; catalog tables are referenced as namespace.name (e.g. clinical.patients)',
      'access/roles.yaml:14:20: error row-filter-cycle: role looper: row filters read each other in a cycle (clinical.claims → clinical.claims), so reading these tables is refused for every member; remove one of these reads',
      'access/roles.yaml:21:22: warning row-filter-cycle: roles back, follower: row filters read each other in a cycle (clinical.patients → clinical.visits → clinical.patients), so reading these tables is refused for anyone holding all of these roles; remove one of these reads',
    ]);
  });
});
