import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildTaskGraph, loadDefinitions } from '../../src/definitions/index.ts';
import { jsonSchemaChecker } from '../support/json-schema-checker.ts';
import { PATIENT_PROTO, formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const EXAMPLE_REPO = {
  'tessera.yaml': `name: clinical-analytics
catalog: sqlite:.tessera/catalog.db
storage: file:.tessera/warehouse
engine: duckdb
orchestrator: local
governance:
  profile: hipaa-safe-harbor
  hash_key: \${TESSERA_HASH_KEY}
notifications:
  smtp: { url: "\${SMTP_URL}", from: tessera@example.org }   # smtp://user:pass@host:port or smtps://
  pagerduty: { events_url: https://events.pagerduty.com/v2/enqueue }
  ui_url: https://tessera.example.org/
  reminders: { every: 4h }
`,
  'owners/clinical-data.yaml': `kind: owner
name: clinical-data
description: Clinical data engineering
members: [alice@example.org]
channels:
  - slack: { webhook: "\${SLACK_WEBHOOK_CLINICAL}" }
  - email: { to: [clinical-data@example.org] }
  - pagerduty: { routing_key: "\${PD_ROUTING_KEY}", on: [task_failed, sla_missed] }
  - webhook: { url: "https://hooks.example.org/tessera", secret: "\${HOOK_SECRET}", on: [task_failed] }
  - console: {}
  - console: { on: [recovered] }
---
kind: owner
name: analytics
`,
  'schemas/clinical.proto': PATIENT_PROTO,
  'tables/clinical/patients.yaml': `kind: table
name: clinical.patients
owner: clinical-data
schema: schemas/clinical.proto#clinical.Patient
schema_version: 1
freshness: { warn_after: 26h, error_after: 48h }
validations:
  - expect_column_values_to_be_unique: { column: patient_id }
  - expect_column_values_to_match_regex: { column: ssn, regex: "^[0-9]{3}-[0-9]{2}-[0-9]{4}$", mostly: 0.99 }
  - expect_column_values_to_be_between: { column: healthcare_expenses, min_value: 0 }
  - sql: "select * from {{ this }} where death_date < birth_date"
    severity: warn
subscribers: [analytics]
retention: { keep_versions: 30 }
`,
  'tables/analytics/patient_summary.yml': `kind: table
name: analytics.patient_summary
owner: analytics
description: Patients per gender.
`,
  'tasks/ingest_patients.yaml': `kind: task
name: ingest_patients
type: ingestion
target: clinical.patients
source:
  type: csv
  uri: data/patients.csv
  options: { delimiter: ",", header: true, null_values: [""], timestamp_formats: ["%m/%d/%Y"] }
  columns: { Id: patient_id, BIRTHDATE: birth_date }
mode: replace
bad_rows: { action: quarantine, max_fraction: 0.001 }
schedule: "@hourly"
retries: { attempts: 3, backoff: 30s }
timeout: 30m
`,
  'tasks/build_patient_summary.yaml': `kind: task
name: build_patient_summary
type: projection
target: analytics.patient_summary
sql: sql/patient_summary.sql
`,
  'sql/patient_summary.sql': `select gender, count(*) as patients
from clinical.patients
group by gender
`,
  'access/analyst.yaml': `kind: role
name: analyst
members: [group:analytics, user:bob@example.org]
grants:
  - tables: ["analytics.*", "clinical.patients"]
deny_columns: { clinical.patients: [ssn] }
row_filters: { clinical.patients: "state = principal_attr('state')" }
unmask: []
---
kind: principal
name: bob@example.org
groups: [analytics]
attributes: { state: CA }
`,
  // Never read: hidden folders, node_modules and the state folder.
  '.tessera/junk.yaml': 'kind: nonsense\n',
  'node_modules/pkg/x.yaml': 'kind: nonsense\n',
};

const ENV = {
  TESSERA_HASH_KEY: 'hash-key-value',
  SLACK_WEBHOOK_CLINICAL: 'https://hooks.slack.com/services/T000/B000/XXXX',
  PD_ROUTING_KEY: 'pd-routing-key-value',
  SMTP_URL: 'smtp://tessera:smtp-password@mail.example.org:587',
  HOOK_SECRET: 'hook-secret-value',
};

describe('loading the SPEC example repo', () => {
  it('produces the exact definitions with no diagnostics', async () => {
    const root = await writeCatalogRepo(EXAMPLE_REPO);
    const { definitions, diagnostics, secrets } = await loadDefinitions(root, { env: ENV });
    assert.deepEqual(formatted(diagnostics), []);

    assert.deepEqual(definitions.project, {
      name: 'clinical-analytics',
      catalog: `sqlite:${join(root, '.tessera/catalog.db')}`,
      storage: `file:${join(root, '.tessera/warehouse')}`,
      engine: 'duckdb',
      orchestrator: 'local',
      governance: { profile: 'hipaa-safe-harbor', hashKey: 'hash-key-value' },
      notifications: {
        smtp: { url: 'smtp://tessera:smtp-password@mail.example.org:587', from: 'tessera@example.org' },
        pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
        uiUrl: 'https://tessera.example.org',
        reminderEveryMs: 4 * 3_600_000,
      },
      root,
    });

    assert.deepEqual(
      definitions.owners.map((owner) => owner.name),
      ['analytics', 'clinical-data'],
    );
    const owner = definitions.owners[1]!;
    assert.deepEqual(owner.channels, [
      { type: 'slack', webhook: 'https://hooks.slack.com/services/T000/B000/XXXX' },
      { type: 'email', to: ['clinical-data@example.org'] },
      { type: 'pagerduty', routingKey: 'pd-routing-key-value', on: ['task_failed', 'sla_missed'] },
      {
        type: 'webhook',
        url: 'https://hooks.example.org/tessera',
        secret: 'hook-secret-value',
        on: ['task_failed'],
      },
      { type: 'console' },
      { type: 'console', on: ['recovered'] },
    ]);
    assert.deepEqual(owner.at, { file: 'owners/clinical-data.yaml', line: 2, column: 7 });
    assert.deepEqual(secrets.map((secret) => secret.variable).sort(), [
      'HOOK_SECRET',
      'PD_ROUTING_KEY',
      'SLACK_WEBHOOK_CLINICAL',
      'SMTP_URL',
      'TESSERA_HASH_KEY',
    ]);

    const [summary, patients] = definitions.tables;
    assert.equal(summary!.name, 'analytics.patient_summary');
    assert.equal(summary!.description, 'Patients per gender.');
    assert.equal(summary!.schema, undefined);
    assert.equal(patients!.name, 'clinical.patients');
    assert.equal(patients!.description, 'One row per patient known to the platform.');
    assert.equal(patients!.schemaRef, 'schemas/clinical.proto#clinical.Patient');
    assert.deepEqual(patients!.freshness, { warnAfterMs: 26 * 3_600_000, errorAfterMs: 48 * 3_600_000 });
    assert.deepEqual(patients!.retention, { keepVersions: 30 });
    assert.equal(patients!.store, 'raw');
    assert.equal(patients!.schemaVersion, 1);
    assert.deepEqual(patients!.subscribers, ['analytics']);
    assert.deepEqual(
      patients!.validations.map(({ expectation, args, severity, at }) => [
        expectation,
        args,
        severity,
        at!.line,
      ]),
      [
        ['expect_column_values_to_be_unique', { column: 'patient_id' }, 'error', 8],
        [
          'expect_column_values_to_match_regex',
          { column: 'ssn', regex: '^[0-9]{3}-[0-9]{2}-[0-9]{4}$', mostly: 0.99 },
          'error',
          9,
        ],
        ['expect_column_values_to_be_between', { column: 'healthcare_expenses', min_value: 0 }, 'error', 10],
        ['sql', { sql: 'select * from {{ this }} where death_date < birth_date' }, 'warn', 11],
      ],
    );

    const file = 'schemas/clinical.proto';
    const varchar = { kind: 'scalar', sql: 'VARCHAR' } as const;
    const timestamp = { kind: 'scalar', sql: 'TIMESTAMPTZ' } as const;
    assert.deepEqual(patients!.schema, {
      message: 'clinical.Patient',
      file,
      description: 'One row per patient known to the platform.',
      fields: [
        {
          name: 'patient_id',
          number: 1,
          type: varchar,
          nullable: false,
          description: 'Stable identifier from the source EHR.',
          primaryKey: true,
          at: { file, line: 9, column: 10 },
        },
        {
          name: 'ssn',
          number: 2,
          type: varchar,
          nullable: false,
          sensitivity: 'PHI',
          mask: 'HASH',
          at: { file, line: 10, column: 10 },
        },
        {
          name: 'first_name',
          number: 3,
          type: varchar,
          nullable: false,
          sensitivity: 'PHI',
          mask: 'REDACT',
          at: { file, line: 11, column: 10 },
        },
        {
          name: 'birth_date',
          number: 4,
          type: timestamp,
          nullable: false,
          sensitivity: 'PHI',
          mask: 'DATE_YEAR',
          at: { file, line: 12, column: 29 },
        },
        {
          name: 'zip',
          number: 5,
          type: varchar,
          nullable: false,
          sensitivity: 'PHI',
          mask: 'ZIP3',
          at: { file, line: 13, column: 10 },
        },
        {
          name: 'death_date',
          number: 6,
          type: timestamp,
          nullable: true,
          sensitivity: 'PHI',
          mask: 'DATE_YEAR',
          at: { file, line: 14, column: 38 },
        },
        {
          name: 'gender',
          number: 7,
          type: varchar,
          nullable: false,
          allowed: ['F', 'M', 'U'],
          at: { file, line: 15, column: 10 },
        },
        {
          name: 'healthcare_expenses',
          number: 8,
          type: { kind: 'scalar', sql: 'DOUBLE' },
          nullable: false,
          at: { file, line: 16, column: 10 },
        },
      ],
    });

    const [build, ingest] = definitions.tasks;
    assert.deepEqual(build, {
      name: 'build_patient_summary',
      type: 'projection',
      target: 'analytics.patient_summary',
      sql: 'select gender, count(*) as patients\nfrom clinical.patients\ngroup by gender\n',
      sqlFile: 'sql/patient_summary.sql',
      mode: 'replace',
      badRows: { action: 'fail', maxFraction: 0 },
      retries: { attempts: 1, backoffMs: 30_000 },
      dependsOn: [],
      at: { file: 'tasks/build_patient_summary.yaml', line: 2, column: 7 },
    });
    assert.deepEqual(ingest, {
      name: 'ingest_patients',
      type: 'ingestion',
      target: 'clinical.patients',
      source: {
        type: 'csv',
        uri: 'data/patients.csv',
        options: { delimiter: ',', header: true, null_values: [''], timestamp_formats: ['%m/%d/%Y'] },
        columns: { Id: 'patient_id', BIRTHDATE: 'birth_date' },
      },
      mode: 'replace',
      badRows: { action: 'quarantine', maxFraction: 0.001 },
      schedule: { kind: 'cron', expression: '0 * * * *' },
      retries: { attempts: 3, backoffMs: 30_000 },
      timeoutMs: 30 * 60_000,
      dependsOn: [],
      at: { file: 'tasks/ingest_patients.yaml', line: 2, column: 7 },
    });

    assert.deepEqual(definitions.roles, [
      {
        name: 'analyst',
        members: ['group:analytics', 'user:bob@example.org'],
        grants: ['analytics.*', 'clinical.patients'],
        denyColumns: { 'clinical.patients': ['ssn'] },
        rowFilters: { 'clinical.patients': "state = principal_attr('state')" },
        unmask: [],
        at: { file: 'access/analyst.yaml', line: 2, column: 7 },
      },
    ]);
    assert.deepEqual(definitions.principals, [
      {
        name: 'bob@example.org',
        groups: ['analytics'],
        attributes: { state: 'CA' },
        at: { file: 'access/analyst.yaml', line: 11, column: 7 },
      },
    ]);

    const graph = await buildTaskGraph(definitions);
    assert.deepEqual(graph.topologicalOrder(), ['ingest_patients', 'build_patient_summary']);
    assert.deepEqual(graph.upstreamTables('build_patient_summary'), ['clinical.patients']);
    assert.deepEqual(graph.downstreamTables('clinical.patients'), ['analytics.patient_summary']);
  });

  it('passes the exported JSON Schemas, file by file, as an editor would check it', () => {
    const check = jsonSchemaChecker();
    const yamlFiles = Object.entries(EXAMPLE_REPO).filter(
      ([path]) => /\.ya?ml$/.test(path) && !path.startsWith('.') && !path.startsWith('node_modules/'),
    );
    assert.equal(yamlFiles.length, 7);
    for (const [path, text] of yamlFiles) {
      const schemaFile = path === 'tessera.yaml' ? 'tessera.schema.json' : 'tessera-document.schema.json';
      assert.deepEqual(check(schemaFile, text), [], path);
    }
  });

  it('uses defaults and the folder name without tessera.yaml, and env overrides the file', async () => {
    const root = await writeCatalogRepo({ 'owners/o.yaml': 'kind: owner\nname: o\n' });
    const plain = await loadDefinitions(root, { env: {} });
    assert.deepEqual(formatted(plain.diagnostics), []);
    assert.deepEqual(plain.definitions.project, {
      name: root.split('/').pop(),
      catalog: `sqlite:${join(root, '.tessera/catalog.db')}`,
      storage: `file:${join(root, '.tessera/warehouse')}`,
      engine: 'duckdb',
      orchestrator: 'local',
      governance: {},
      notifications: { pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue' },
      root,
    });

    const overridden = await loadDefinitions(root, {
      env: {
        TESSERA_CATALOG_URL: 'postgres://tessera@localhost:5432/catalog',
        TESSERA_STORAGE_URL: 'file:elsewhere/warehouse',
        TESSERA_ENGINE: 'duckdb',
      },
    });
    assert.deepEqual(formatted(overridden.diagnostics), []);
    assert.equal(overridden.definitions.project.catalog, 'postgres://tessera@localhost:5432/catalog');
    assert.equal(overridden.definitions.project.storage, `file:${join(root, 'elsewhere/warehouse')}`);
    assert.equal(overridden.definitions.project.engine, 'duckdb');
  });
});
