import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { OWNER_YAML, formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

describe('YAML shape validation', () => {
  it('reports every shape error of every document, each at its key or value', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'tables/patients.yaml': `kind: table
name: clinical.patients
owner: clinical-data
ownr: x
freshness: { warn_after: 26 }
retention: { keep_versions: 0 }
store: cold
---
kind: task
name: Bad_Name
type: ingestion
mode: upsert
`,
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'tables/patients.yaml:4:1: error unknown-key: table clinical.patients: unknown key `ownr`; allowed keys: kind, name, owner, description, schema, schema_version, freshness, validations, subscribers, retention, store',
      'tables/patients.yaml:5:26: error invalid-value: table clinical.patients: `freshness.warn_after` must be a duration like 500ms, 30s, 15m, 26h, 2d, 1w or 1h30m',
      'tables/patients.yaml:6:29: error invalid-value: table clinical.patients: `retention.keep_versions` must be at least 1',
      'tables/patients.yaml:7:8: error invalid-value: table clinical.patients: `store` must be one of `raw`, `deidentified`',
      'tables/patients.yaml:9:1: error missing-key: task Bad_Name: an ingestion task needs a `source` (type, uri, options, columns)',
      'tables/patients.yaml:9:1: error missing-key: task Bad_Name: `target` is required',
      'tables/patients.yaml:10:7: error invalid-name: task Bad_Name: `name`: names are lowercase letters, digits, `_` and `-`, starting with a letter (e.g. `clinical-data`)',
      'tables/patients.yaml:12:7: error invalid-value: task Bad_Name: `mode` must be one of `replace`, `append`, `merge`',
    ]);
    // Documents with errors are left out of the definitions.
    assert.deepEqual(definitions.tables, []);
    assert.deepEqual(definitions.tasks, []);
  });

  it('allow_empty is a boolean, kept on the task only when true', async () => {
    const task = (name: string, allowEmpty: string) =>
      `kind: task\nname: ${name}\ntype: ingestion\ntarget: a.b\nsource: { type: csv, uri: b.csv }\n${allowEmpty}\n`;
    const root = await writeCatalogRepo({
      'owners/a.yaml': OWNER_YAML,
      'tables/b.yaml': 'kind: table\nname: a.b\nowner: clinical-data\n',
      'tasks/t.yaml': [
        task('yes_empty', 'allow_empty: true'),
        task('no_empty', 'allow_empty: false'),
        task('bad_empty', 'allow_empty: sometimes'),
      ].join('---\n'),
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    // (The shared target without a schema is reported too; only allow_empty matters here.)
    assert.deepEqual(
      formatted(diagnostics).filter((line) => line.includes('allow_empty')),
      [
        'tasks/t.yaml:20:14: error invalid-type: task bad_empty: `allow_empty` must be true or false, not a string',
      ],
    );
    const byName = new Map(definitions.tasks.map((entry) => [entry.name, entry]));
    assert.equal(byName.get('yes_empty')?.allowEmpty, true);
    assert.equal('allowEmpty' in byName.get('no_empty')!, false);
  });

  it('reports YAML syntax errors, missing and unknown kinds, non-map documents and duplicate names', async () => {
    const root = await writeCatalogRepo({
      'owners/a.yaml': OWNER_YAML,
      'owners/b.yml': `kind: owner
name: clinical-data
---
name: x
---
kind: tabel
name: a.b
---
- 1
`,
      'owners/broken.yaml': 'kind: owner\nname: [unclosed\n',
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'owners/b.yml:2:7: error duplicate-name: owner clinical-data is declared twice: at owners/a.yaml:2:7 and here (owners/b.yml:2:7); rename or remove one',
      'owners/b.yml:4:1: error missing-kind: every document needs a `kind`: table, task, owner, role, principal',
      "owners/b.yml:6:7: error unknown-kind: unknown kind `tabel` (did you mean `table`?); a document's kind is one of table, task, owner, role, principal",
      'owners/b.yml:9:1: error invalid-document: a document must be a map with a `kind` (table, task, owner, role, principal)',
      'owners/broken.yaml:2:7: error yaml-parse: YAML does not parse: this `[` is never closed: end the list with `]` on this line, or indent its continuation lines',
    ]);
    assert.deepEqual(
      definitions.owners.map((owner) => owner.at),
      [{ file: 'owners/a.yaml', line: 2, column: 7 }],
    );
  });

  it('checks task schedules, retries, dependencies and the type-specific keys', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'tasks/t.yaml': `kind: task
name: p
type: projection
target: clinical.patients
sql: select 1
schedule: "61 * * * *"
source: { type: csv, uri: x.csv }
---
kind: task
name: i
type: ingestion
target: clinical.patients
source: { type: csv }
schedule: { every: 0s }
retries: { attempts: 0 }
depends_on: nope
sql: select 1
`,
    });
    const { diagnostics } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'tasks/t.yaml:6:1: error schedule-on-projection: task p: projections have no schedule: they run when an upstream table publishes a new version; remove `schedule` (schedule the ingestion tasks upstream instead)',
      'tasks/t.yaml:6:11: error invalid-schedule: task p: `schedule`: `61 * * * *` is not a valid cron expression (CronPattern: Invalid value for minute: 61); use a cron expression ("0 * * * *"), @hourly, @daily, @weekly, @monthly, `{ every: 15m }`, `{ on: source_change, poll: 1m }` or `{ on: stream }` (nats, kafka)',
      'tasks/t.yaml:7:1: error unexpected-key: task p: `source` belongs to ingestion tasks; a projection reads catalog tables in its `sql`',
      'tasks/t.yaml:13:1: error missing-key: task i: a csv source needs a `uri` (a path or glob relative to the repo, or s3://...)',
      'tasks/t.yaml:14:20: error invalid-value: task i: `schedule.every` must be longer than zero',
      'tasks/t.yaml:15:22: error invalid-value: task i: `retries.attempts` must be at least 1',
      'tasks/t.yaml:16:13: error invalid-type: task i: `depends_on` must be a list, not a string',
      'tasks/t.yaml:17:1: error unexpected-key: task i: `sql` belongs to projection tasks; an ingestion task reads its `source`',
    ]);
  });

  it('parses every schedule form into a ScheduleDef', async () => {
    const task = (name: string, schedule: string) => `kind: task
name: ${name}
type: ingestion
target: raw.events
source: { type: ndjson, uri: "data/*.ndjson" }
schedule: ${schedule}
---
`;
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'schemas/event.proto': 'syntax = "proto3";\npackage raw;\nmessage Event { string id = 1; }\n',
      'tables/events.yaml':
        'kind: table\nname: raw.events\nowner: clinical-data\nschema: schemas/event.proto#raw.Event\n',
      'tasks/schedules.yaml': [
        task('a', '"@daily"'),
        task('b', '"*/5 * * * *"'),
        task('c', '{ every: 15m }'),
        task('d', '{ on: source_change, poll: 30s }'),
        task('e', '{ on: source_change }'),
      ].join(''),
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    // Five ingestion tasks share one target: only the producer rule fires.
    assert.deepEqual([...new Set(diagnostics.map((diagnostic) => diagnostic.code))], ['duplicate-producer']);
    assert.deepEqual(
      definitions.tasks.map((item) => item.schedule),
      [
        { kind: 'cron', expression: '0 0 * * *' },
        { kind: 'cron', expression: '*/5 * * * *' },
        { kind: 'every', intervalMs: 15 * 60_000 },
        { kind: 'source_change', pollMs: 30_000 },
        { kind: 'source_change', pollMs: 60_000 },
      ],
    );
  });

  it('checks the shape of validations only, keeping names and arguments as written', async () => {
    const root = await writeCatalogRepo({
      'owners/clinical-data.yaml': OWNER_YAML,
      'tables/v.yaml': `kind: table
name: a.v
owner: clinical-data
validations:
  - expect_a: { column: x }
    expect_b: {}
  - sql: 1
  - expect_c: [1]
    severity: fatal
  - just_a_string
`,
      'tables/ok.yaml': `kind: table
name: a.ok
owner: clinical-data
validations:
  - expect_anything_at_all:
  - made_up_expectation: { whatever: [1, 2] }
    severity: warn
`,
    });
    const { diagnostics, definitions } = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(diagnostics), [
      'tables/v.yaml:5:5: error invalid-validation: table a.v: `validations[0]`: a validation names exactly one expectation, found `expect_a`, `expect_b`; put each in its own list entry',
      'tables/v.yaml:7:10: error invalid-validation: table a.v: `validations[1].sql` must be a SELECT returning the offending rows, e.g. `select * from {{ this }} where x < 0`',
      "tables/v.yaml:8:15: error invalid-validation: table a.v: `validations[2].expect_c` must be a map of the expectation's arguments, e.g. `{ column: patient_id }`",
      'tables/v.yaml:9:15: error invalid-value: table a.v: `validations[2].severity` must be `error` or `warn`',
      'tables/v.yaml:10:5: error invalid-validation: table a.v: `validations[3]`: each validation is a one-key map `{expectation_name: {arguments}}` (with an optional `severity`), or `{sql: "...", severity: warn}`',
    ]);
    assert.deepEqual(
      definitions.tables.map((table) => table.validations.map(({ at: _at, ...validation }) => validation)),
      [
        [
          { expectation: 'expect_anything_at_all', args: {}, severity: 'error' },
          { expectation: 'made_up_expectation', args: { whatever: [1, 2] }, severity: 'warn' },
        ],
      ],
    );
  });
});
