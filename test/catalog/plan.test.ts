import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { applyDefinitions } from '../../src/catalog/apply.ts';
import type { CatalogStore } from '../../src/catalog/catalog-store.ts';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import { canonicalDefinition, sameDefinition } from '../../src/catalog/canonical-definition.ts';
import { formatPlan, planChanges, type Plan, type SchemaChange } from '../../src/catalog/plan.ts';
import { ApplyRefusedError } from '../../src/diagnostics/index.ts';
import type { Definitions, FieldDef, FieldType, LineageEdge, TableDef } from '../../src/model/index.ts';
import {
  at,
  definitions,
  field,
  ingestionTask,
  ownerDef,
  principalDef,
  projectionTask,
  roleDef,
  tableDef,
} from './definition-builders.ts';

const baseFields = [
  field('patient_id', 1, 'VARCHAR', { primaryKey: true }),
  field('age', 2, 'INTEGER'),
  field('zip', 3, 'VARCHAR', { sensitivity: 'PHI', mask: 'ZIP3' }),
];

function patientsTable(fields: FieldDef[] = baseFields, extra: Partial<TableDef> = {}): TableDef {
  return tableDef('clinical.patients', {
    owner: 'clinical-data',
    subscribers: ['compliance'],
    fields,
    ...extra,
  });
}

function repo(overrides: Partial<Omit<Definitions, 'project'>> = {}): Definitions {
  return definitions({
    owners: [ownerDef('clinical-data'), ownerDef('analytics'), ownerDef('compliance')],
    tables: [
      patientsTable(),
      tableDef('analytics.summary', { owner: 'analytics', subscribers: ['finance'], fields: undefined }),
    ],
    tasks: [
      ingestionTask('ingest_patients', 'clinical.patients'),
      projectionTask(
        'build_summary',
        'analytics.summary',
        'select count(*) as patients from clinical.patients',
      ),
    ],
    roles: [roleDef('analyst')],
    principals: [principalDef('bob@example.org')],
    ...overrides,
  });
}

/** `repo()` with the patients table's fields (and optionally its declaration) replaced. */
function withPatients(fields: FieldDef[], extra: Partial<TableDef> = {}): Definitions {
  const base = repo();
  return {
    ...base,
    tables: base.tables.map((t) => (t.name === 'clinical.patients' ? patientsTable(fields, extra) : t)),
  };
}

const downstream: Record<string, string[]> = {
  'clinical.patients': ['analytics.summary'],
};
const planOptions = { downstreamTables: (table: string) => downstream[table] ?? [] };

const summaryLineage: LineageEdge[] = [
  { fromTable: 'clinical.patients', toTable: 'analytics.summary', task: 'build_summary' },
];

function replaceField(name: string, replacement: Partial<FieldDef>): FieldDef[] {
  return baseFields.map((f) => (f.name === name ? { ...f, ...replacement } : f));
}

function schemaChangeOf(plan: Plan, table = 'clinical.patients'): SchemaChange {
  const change = plan.schemaChanges.find((entry) => entry.table === table);
  assert.ok(change, `expected a schema change for ${table}`);
  return change;
}

describe('planChanges and applyDefinitions', () => {
  let store: CatalogStore;
  beforeEach(async () => {
    store = await openCatalogStore('sqlite::memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  async function plan(defs: Definitions): Promise<Plan> {
    return planChanges(defs, await store.readDefinitions(), planOptions);
  }

  async function apply(defs: Definitions, gitCommit = 'c0ffee'): Promise<Plan> {
    const planned = await plan(defs);
    await applyDefinitions(store, defs, planned, { lineage: summaryLineage, gitCommit });
    return planned;
  }

  describe('first apply', () => {
    test('everything is added and declared tables get their declared schema version', async () => {
      const defs = repo();
      defs.tables[0] = patientsTable(baseFields, { schemaVersion: 3 });
      const planned = await apply(defs);
      assert.deepEqual(planned.tables, {
        added: ['analytics.summary', 'clinical.patients'],
        changed: [],
        removed: [],
      });
      assert.deepEqual(planned.tasks.added, ['build_summary', 'ingest_patients']);
      assert.deepEqual(planned.owners.added, ['analytics', 'clinical-data', 'compliance']);
      assert.deepEqual(planned.roles.added, ['analyst']);
      assert.deepEqual(planned.principals.added, ['bob@example.org']);
      assert.equal(planned.isEmpty, false);
      assert.deepEqual(planned.refusals, []);
      assert.deepEqual(planned.impact, [], 'nothing existing is affected by additions');

      const [patientsChange, ...others] = planned.schemaChanges;
      assert.deepEqual(others, [], 'the inferred table has no schema change');
      assert.equal(patientsChange!.fromVersion, undefined);
      assert.equal(patientsChange!.toVersion, 3);
      assert.deepEqual(
        patientsChange!.changes.map((change) => [change.field, change.kind]),
        [
          ['patient_id', 'added'],
          ['age', 'added'],
          ['zip', 'added'],
        ],
      );

      const patients = await store.getTable('clinical.patients');
      assert.equal(patients?.schemaVersion, 3);
      assert.deepEqual(patients?.fields, baseFields);
      assert.deepEqual(
        (await store.listSchemaVersions('clinical.patients')).map((entry) => [
          entry.schemaVersion,
          entry.gitCommit,
        ]),
        [[3, 'c0ffee']],
      );
      const summary = await store.getTable('analytics.summary');
      assert.deepEqual(summary?.fields, [], 'an inferred table has no fields until its first run');
      assert.deepEqual(await store.listLineage(), summaryLineage);
    });

    test('applying the same definitions again plans nothing and writes nothing', async () => {
      await apply(repo());
      const before = await store.readDefinitions();
      const second = await apply(repo());
      assert.equal(second.isEmpty, true);
      assert.deepEqual(second.schemaChanges, []);
      assert.deepEqual(second.impact, []);
      assert.equal(formatPlan(second), 'No changes: the catalog matches the definitions.\n');
      assert.deepEqual(await store.readDefinitions(), before, 'not even updatedAt moved');
    });

    test('moving definitions within their files is not a change', async () => {
      await apply(repo());
      const moved = repo();
      const shift = <T extends { at: { file: string; line: number; column: number } }>(def: T): T => ({
        ...def,
        at: at(def.at.file, def.at.line + 40),
      });
      moved.tables = moved.tables.map((table) => ({
        ...shift(table),
        ...(table.schema
          ? {
              schema: {
                ...table.schema,
                fields: table.schema.fields.map((f) => ({ ...f, at: at('x.proto', 99) })),
              },
            }
          : {}),
      }));
      moved.tasks = moved.tasks.map(shift);
      moved.owners = moved.owners.map(shift);
      moved.roles = moved.roles.map(shift);
      moved.principals = moved.principals.map(shift);
      assert.equal((await plan(moved)).isEmpty, true);
    });

    test('a table whose fields were inferred by a run stays unchanged on the next plan', async () => {
      await apply(repo());
      await store.publishVersion({
        table: 'analytics.summary',
        schemaVersion: 1,
        rowCount: 1,
        bytes: 10,
        files: ['a.parquet'],
        runId: 'run-1',
        task: 'build_summary',
        upstream: [],
        checks: [],
        fields: [field('patients', 1, 'BIGINT', { nullable: true })],
      });
      assert.equal((await plan(repo())).isEmpty, true);
      await apply(repo());
      assert.equal((await store.getTable('analytics.summary'))?.fields.length, 1);
    });
  });

  describe('classification', () => {
    test('added, changed and removed definitions of every kind', async () => {
      const first = repo({
        tables: [...repo().tables, tableDef('legacy.patients', { owner: 'clinical-data' })],
        tasks: [...repo().tasks, ingestionTask('ingest_legacy', 'legacy.patients')],
        owners: [...repo().owners, ownerDef('retired')],
        roles: [roleDef('analyst'), roleDef('auditor')],
        principals: [principalDef('bob@example.org'), principalDef('eve@example.org')],
      });
      await apply(first);

      const next = repo({
        tables: [
          patientsTable(baseFields, { owner: 'analytics', description: 'Everyone we treat.' }),
          repo().tables[1]!,
          tableDef('clinical.visits', { owner: 'clinical-data' }),
        ],
        tasks: [
          ingestionTask('ingest_patients', 'clinical.patients', { mode: 'merge' }),
          projectionTask('build_summary', 'analytics.summary', 'select count(*) as n from clinical.patients'),
          ingestionTask('ingest_visits', 'clinical.visits'),
        ],
        owners: [
          ownerDef('clinical-data', { members: ['alice@example.org'] }),
          ownerDef('analytics'),
          ownerDef('compliance'),
        ],
        roles: [roleDef('analyst', { grants: ['analytics.*', 'clinical.patients'] }), roleDef('steward')],
        principals: [principalDef('bob@example.org', { attributes: { state: 'NY' } })],
      });
      const planned = await plan(next);
      assert.deepEqual(planned.tables, {
        added: ['clinical.visits'],
        changed: [
          {
            name: 'clinical.patients',
            changes: [
              'description: The clinical.patients table. → Everyone we treat.',
              'owner: clinical-data → analytics',
            ],
          },
        ],
        removed: ['legacy.patients'],
      });
      assert.deepEqual(planned.tasks, {
        added: ['ingest_visits'],
        changed: [
          { name: 'build_summary', changes: ['sql changed'] },
          { name: 'ingest_patients', changes: ['mode: replace → merge'] },
        ],
        removed: ['ingest_legacy'],
      });
      assert.deepEqual(planned.owners, {
        added: [],
        changed: [
          {
            name: 'clinical-data',
            changes: ['members: ["clinical-data@example.org"] → ["alice@example.org"]'],
          },
        ],
        removed: ['retired'],
      });
      assert.deepEqual(planned.roles, {
        added: ['steward'],
        changed: [
          { name: 'analyst', changes: ['grants: ["analytics.*"] → ["analytics.*","clinical.patients"]'] },
        ],
        removed: ['auditor'],
      });
      assert.deepEqual(planned.principals, {
        added: [],
        changed: [{ name: 'bob@example.org', changes: ['attributes: {"state":"CA"} → {"state":"NY"}'] }],
        removed: ['eve@example.org'],
      });

      await applyDefinitions(store, next, planned, { lineage: summaryLineage });
      const applied = await store.readDefinitions();
      assert.deepEqual(
        applied.tables.map((table) => [table.name, table.owner]),
        [
          ['analytics.summary', 'analytics'],
          ['clinical.patients', 'analytics'],
          ['clinical.visits', 'clinical-data'],
        ],
      );
      assert.deepEqual(
        applied.tasks.map((task) => task.name),
        ['build_summary', 'ingest_patients', 'ingest_visits'],
      );
      assert.equal(applied.tasks.find((task) => task.name === 'ingest_patients')?.mode, 'merge');
      assert.deepEqual(
        applied.roles.map((role) => role.name),
        ['analyst', 'steward'],
      );
      assert.equal((await plan(next)).isEmpty, true);
    });
  });

  describe('schema changes', () => {
    beforeEach(async () => {
      await apply(repo());
    });

    const breakingCases: { name: string; fields: FieldDef[]; kind: string; detail: RegExp }[] = [
      {
        name: 'removing a field',
        fields: baseFields.filter((f) => f.name !== 'zip'),
        kind: 'removed',
        detail: /removed/,
      },
      {
        name: 'narrowing a type (INTEGER → VARCHAR)',
        fields: replaceField('age', { type: { kind: 'scalar', sql: 'VARCHAR' } }),
        kind: 'type_changed',
        detail: /INTEGER → VARCHAR: not every INTEGER value fits/,
      },
      {
        name: 'narrowing a type (INTEGER → FLOAT)',
        fields: replaceField('age', { type: { kind: 'scalar', sql: 'FLOAT' } }),
        kind: 'type_changed',
        detail: /INTEGER → FLOAT/,
      },
      {
        name: 'reusing a field number for another name',
        fields: [...baseFields.filter((f) => f.name !== 'zip'), field('postcode', 3, 'VARCHAR')],
        kind: 'number_reused',
        detail: /number 3 belonged to field `zip`/,
      },
      {
        name: 'making a nullable field NOT NULL',
        fields: baseFields,
        kind: 'nullability_changed',
        detail: /now NOT NULL/,
      },
      {
        name: 'restricting allowed values',
        fields: replaceField('zip', { allowed: ['02139'] }),
        kind: 'type_changed',
        detail: /now restricted to 02139/,
      },
    ];

    for (const { name, fields, kind, detail } of breakingCases) {
      test(`${name} is breaking and refused without a schema_version bump`, async () => {
        if (kind === 'nullability_changed') {
          // Start from a nullable zip so that the repo's NOT NULL zip tightens it.
          await apply(withPatients(replaceField('zip', { nullable: true })));
        }
        const applied = await store.getTable('clinical.patients');
        const planned = await plan(withPatients(fields));
        const change = schemaChangeOf(planned);
        assert.equal(change.breaking, true);
        const breaking = change.changes.filter((entry) => entry.breaking);
        assert.ok(
          breaking.some((entry) => entry.kind === kind && detail.test(entry.detail)),
          `expected a breaking ${kind} matching ${detail}, got ${JSON.stringify(change.changes)}`,
        );
        assert.equal(planned.refusals.length, 1);
        assert.match(
          planned.refusals[0]!,
          /table clinical\.patients \(tables\/clinical\.patients\.yaml:1:1\): breaking/,
        );
        assert.match(
          planned.refusals[0]!,
          new RegExp(`raise schema_version to ${applied!.schemaVersion + 1}`),
        );

        await assert.rejects(
          applyDefinitions(store, withPatients(fields), planned, { lineage: [] }),
          (error: unknown) => error instanceof ApplyRefusedError && error.reasons.length === 1,
        );
        assert.deepEqual(
          await store.getTable('clinical.patients'),
          applied,
          'a refused apply writes nothing',
        );
      });
    }

    test('a breaking change with a raised schema_version is accepted and recorded as a new schema version', async () => {
      const fields = baseFields.filter((f) => f.name !== 'zip');
      const bumped = withPatients(fields, { schemaVersion: 2 });
      const planned = await plan(bumped);
      assert.deepEqual(planned.refusals, []);
      assert.deepEqual(schemaChangeOf(planned), {
        table: 'clinical.patients',
        fromVersion: 1,
        toVersion: 2,
        breaking: true,
        versionRaised: true,
        changes: [
          {
            field: 'zip',
            kind: 'removed',
            breaking: true,
            detail: 'removed (was VARCHAR NOT NULL = 3); readers of `zip` break',
          },
        ],
      });
      await applyDefinitions(store, bumped, planned, { lineage: [], gitCommit: 'beef' });
      const record = await store.getTable('clinical.patients');
      assert.equal(record?.schemaVersion, 2);
      assert.deepEqual(record?.fields, fields);
      assert.deepEqual(
        (await store.listSchemaVersions('clinical.patients')).map((entry) => [
          entry.schemaVersion,
          entry.gitCommit,
          entry.fields.length,
        ]),
        [
          [1, 'c0ffee', 3],
          [2, 'beef', 2],
        ],
      );
      assert.equal((await plan(bumped)).isEmpty, true, 'applying twice changes nothing');
    });

    const widenings: { name: string; from: FieldType; to: FieldType }[] = [
      {
        name: 'INTEGER → BIGINT',
        from: { kind: 'scalar', sql: 'INTEGER' },
        to: { kind: 'scalar', sql: 'BIGINT' },
      },
      {
        name: 'FLOAT → DOUBLE',
        from: { kind: 'scalar', sql: 'FLOAT' },
        to: { kind: 'scalar', sql: 'DOUBLE' },
      },
      {
        name: 'UINTEGER → UBIGINT',
        from: { kind: 'scalar', sql: 'UINTEGER' },
        to: { kind: 'scalar', sql: 'UBIGINT' },
      },
      {
        name: 'UINTEGER → BIGINT',
        from: { kind: 'scalar', sql: 'UINTEGER' },
        to: { kind: 'scalar', sql: 'BIGINT' },
      },
      {
        name: 'DECIMAL(10,2) → DECIMAL(14,2)',
        from: { kind: 'decimal', precision: 10, scale: 2 },
        to: { kind: 'decimal', precision: 14, scale: 2 },
      },
      {
        name: 'an enum gaining a value',
        from: { kind: 'enum', name: 'Gender', values: ['F', 'M'] },
        to: { kind: 'enum', name: 'Gender', values: ['F', 'M', 'U'] },
      },
      {
        name: 'a list of INTEGER → a list of BIGINT',
        from: { kind: 'list', element: { kind: 'scalar', sql: 'INTEGER' } },
        to: { kind: 'list', element: { kind: 'scalar', sql: 'BIGINT' } },
      },
    ];

    for (const { name, from, to } of widenings) {
      test(`widening ${name} is not breaking and records the next schema version`, async () => {
        // Reach the starting type through a major bump, then keep the declared version where it is.
        await apply(withPatients(replaceField('age', { type: from }), { schemaVersion: 10 }));
        const planned = await plan(withPatients(replaceField('age', { type: to }), { schemaVersion: 10 }));
        const change = schemaChangeOf(planned);
        assert.equal(change.breaking, false);
        assert.deepEqual(
          change.changes.map((entry) => [entry.field, entry.kind, entry.breaking]),
          [['age', 'type_changed', false]],
        );
        assert.match(change.changes[0]!.detail, /widening/);
        assert.equal(change.fromVersion, 10);
        assert.equal(change.toVersion, 11);
        assert.deepEqual(planned.refusals, []);
      });
    }

    const narrowings: { name: string; from: FieldType; to: FieldType }[] = [
      {
        name: 'DECIMAL(10,2) → DECIMAL(10,1)',
        from: { kind: 'decimal', precision: 10, scale: 2 },
        to: { kind: 'decimal', precision: 10, scale: 1 },
      },
      {
        name: 'an enum losing a value',
        from: { kind: 'enum', name: 'Gender', values: ['F', 'M', 'U'] },
        to: { kind: 'enum', name: 'Gender', values: ['F', 'M'] },
      },
      {
        name: 'BIGINT → INTEGER',
        from: { kind: 'scalar', sql: 'BIGINT' },
        to: { kind: 'scalar', sql: 'INTEGER' },
      },
      {
        name: 'UBIGINT → BIGINT',
        from: { kind: 'scalar', sql: 'UBIGINT' },
        to: { kind: 'scalar', sql: 'BIGINT' },
      },
    ];

    for (const { name, from, to } of narrowings) {
      test(`${name} is breaking`, async () => {
        await apply(withPatients(replaceField('age', { type: from }), { schemaVersion: 10 }));
        const planned = await plan(withPatients(replaceField('age', { type: to }), { schemaVersion: 10 }));
        const change = schemaChangeOf(planned);
        assert.equal(planned.refusals.length, 1);
        assert.equal(change.breaking, true);
        assert.deepEqual(
          change.changes.map((entry) => [entry.field, entry.kind, entry.breaking]),
          [['age', 'type_changed', true]],
        );
      });
    }

    test('additions, NOT NULL → nullable and annotation changes are not breaking and are applied', async () => {
      const fields = [
        ...replaceField('zip', {
          nullable: true,
          sensitivity: undefined,
          mask: undefined,
          description: 'ZIP code',
        }),
        field('email', 4, 'VARCHAR', { nullable: true }),
      ];
      const planned = await apply(withPatients(fields));
      const change = schemaChangeOf(planned);
      assert.equal(change.breaking, false);
      assert.deepEqual(
        change.changes.map((entry) => [entry.field, entry.kind, entry.breaking]),
        [
          ['zip', 'nullability_changed', false],
          ['zip', 'annotation_changed', false],
          ['email', 'added', false],
        ],
      );
      assert.match(change.changes[1]!.detail, /sensitivity PHI → none; mask ZIP3 → none/);
      assert.equal(change.toVersion, 2);
      const record = await store.getTable('clinical.patients');
      assert.equal(record?.schemaVersion, 2);
      assert.deepEqual(
        record?.fields.map((f) => f.name),
        ['patient_id', 'age', 'zip', 'email'],
      );
      assert.equal((await plan(withPatients(fields))).isEmpty, true);
    });

    test('a non-breaking change takes the declared schema_version when it is higher', async () => {
      const fields = [...baseFields, field('email', 4, 'VARCHAR', { nullable: true })];
      const change = schemaChangeOf(await apply(withPatients(fields, { schemaVersion: 5 })));
      assert.equal(change.toVersion, 5);
      assert.equal((await store.getTable('clinical.patients'))?.schemaVersion, 5);
    });

    test('raising schema_version alone records a new schema version with the same fields', async () => {
      const planned = await apply(withPatients(baseFields, { schemaVersion: 2 }));
      assert.deepEqual(schemaChangeOf(planned), {
        table: 'clinical.patients',
        fromVersion: 1,
        toVersion: 2,
        breaking: false,
        versionRaised: true,
        changes: [],
      });
      assert.deepEqual(
        (await store.listSchemaVersions('clinical.patients')).map((entry) => entry.schemaVersion),
        [1, 2],
      );
    });

    test('after non-breaking versions, a breaking change needs schema_version above the applied one', async () => {
      await apply(withPatients([...baseFields, field('email', 4, 'VARCHAR', { nullable: true })]));
      // Applied schema version is now 2 while the declared one is still 1; declaring 2 is not enough.
      const removal = withPatients(baseFields, { schemaVersion: 2 });
      const planned = await plan(removal);
      assert.equal(planned.refusals.length, 1);
      assert.match(planned.refusals[0]!, /raise schema_version to 3 \(above the applied 2\)/);
      const accepted = await apply(withPatients(baseFields, { schemaVersion: 3 }));
      assert.equal(schemaChangeOf(accepted).toVersion, 3);
    });

    test('a refused plan writes none of its other changes either', async () => {
      const defs = withPatients(baseFields.filter((f) => f.name !== 'age'));
      defs.owners = [...defs.owners, ownerDef('newcomer')];
      const planned = await plan(defs);
      assert.equal(planned.refusals.length, 1);
      await assert.rejects(applyDefinitions(store, defs, planned, { lineage: [] }), ApplyRefusedError);
      assert.ok(!(await store.readDefinitions()).owners.some((owner) => owner.name === 'newcomer'));
    });
  });

  describe('impact', () => {
    test('a changed or removed table lists its downstream tables and every owner and subscriber to notify', async () => {
      const first = repo({
        tables: [
          ...repo().tables,
          tableDef('legacy.visits', { owner: 'retired-team', subscribers: ['auditors'] }),
        ],
      });
      await apply(first);
      const next = withPatients([...baseFields, field('email', 4, 'VARCHAR', { nullable: true })]);
      const planned = await plan(next);
      assert.deepEqual(planned.impact, [
        {
          table: 'clinical.patients',
          downstream: ['analytics.summary'],
          owners: ['analytics', 'clinical-data', 'compliance', 'finance'],
        },
        { table: 'legacy.visits', downstream: [], owners: ['auditors', 'retired-team'] },
      ]);
    });
  });

  describe('formatPlan', () => {
    test('shows additions, changes, removals, breaking field changes, impact and refusals', async () => {
      await apply(
        repo({ tables: [...repo().tables, tableDef('legacy.visits', { owner: 'clinical-data' })] }),
      );
      const next = withPatients([
        ...baseFields.filter((f) => f.name !== 'zip'),
        field('email', 4, 'VARCHAR'),
      ]);
      next.tables.push(tableDef('clinical.visits', { owner: 'clinical-data' }));
      next.tasks = next.tasks.filter((task) => task.name !== 'build_summary');
      const text = formatPlan(await plan(next));
      assert.match(text, /^Tables\n/);
      assert.match(text, /\n {2}\+ clinical\.visits {2}\(schema version 1, 1 field\)\n/);
      assert.match(
        text,
        /\n {2}~ clinical\.patients\n {6}schema version 1 → 2 \(2 field changes, BREAKING, refused\)\n/,
      );
      assert.match(text, /\n {10}\+ email: VARCHAR NOT NULL = 4\n/);
      assert.match(
        text,
        /\n {10}- zip: removed \(was VARCHAR NOT NULL = 3\); readers of `zip` break {2}BREAKING\n/,
      );
      assert.match(text, /\n {2}- legacy\.visits\n/);
      assert.match(text, /\nTasks\n {2}- build_summary\n/);
      assert.match(
        text,
        /\nDownstream impact\n {2}clinical\.patients\n {6}downstream: analytics\.summary\n {6}notify: analytics, clinical-data, compliance, finance\n/,
      );
      assert.match(
        text,
        /\nRefused: apply will not proceed\n {2}! table clinical\.patients .*raise schema_version to 2/,
      );
      assert.match(
        text,
        /\nPlan: 1 to add, 1 to change, 2 to remove\. 1 breaking schema change\. Apply refused: 1 problem to fix\.\n$/,
      );
    });
  });

  describe('lineage', () => {
    test('apply writes the lineage of added and changed tasks and keeps refined lineage of unchanged ones', async () => {
      const ingestEdge: LineageEdge = {
        fromTable: 'external',
        toTable: 'clinical.patients',
        task: 'ingest_patients',
      };
      await apply(repo());
      const refined: LineageEdge[] = [
        {
          fromTable: 'clinical.patients',
          fromColumn: 'patient_id',
          toTable: 'analytics.summary',
          toColumn: 'patients',
          task: 'build_summary',
        },
      ];
      await store.replaceTaskLineage('build_summary', refined);

      const next = repo({
        tasks: [ingestionTask('ingest_patients', 'clinical.patients', { mode: 'append' }), repo().tasks[1]!],
      });
      await applyDefinitions(store, next, await plan(next), { lineage: [...summaryLineage, ingestEdge] });
      assert.deepEqual(await store.listLineage(), [...refined, ingestEdge]);
    });
  });
});

describe('sameDefinition', () => {
  const asWritten = (value: unknown) => JSON.stringify(canonicalDefinition(value));

  test('agrees with comparing the canonical JSON, on values that differ only in what JSON drops', () => {
    const pairs: [unknown, unknown][] = [
      [
        { a: 1, b: [1, 2] },
        { b: [1, 2], a: 1 },
      ],
      [
        { a: 1, at: at('x.yaml', 3) },
        { a: 1, at: at('y.yaml', 9) },
      ],
      [{ a: 1, at: 'not a location' }, { a: 1 }],
      [{ a: undefined, b: () => 1 }, {}],
      [
        [undefined, () => 1],
        [null, null],
      ],
      [
        [1, , 3],
        [1, null, 3],
      ], // a hole
      [{ n: Number.NaN }, { n: null }],
      [{ n: -0 }, { n: 0 }],
      [{ d: new Date(0) }, { d: {} }],
      [{ a: [1, 2] }, { a: { 0: 1, 1: 2 } }],
      [{ a: '1' }, { a: 1 }],
      [{ a: [1, 2] }, { a: [1, 2, undefined] }],
      [{ a: { b: 1 } }, { a: { b: 1, c: null } }],
      [null, undefined],
      ['x', { x: 1 }],
    ];
    for (const [a, b] of pairs) {
      assert.equal(sameDefinition(a, b), asWritten(a) === asWritten(b), `${asWritten(a)} vs ${asWritten(b)}`);
    }
    assert.deepEqual(
      pairs.map(([a, b]) => sameDefinition(a, b)),
      [true, true, false, true, true, true, true, true, true, false, false, false, false, false, false],
    );
  });
});
