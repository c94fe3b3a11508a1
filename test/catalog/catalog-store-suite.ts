/**
 * The conformance suite every `CatalogStore` passes (SQLite and PostgreSQL alike). Each test gets a
 * fresh, migrated store from `open()` and closes it; `cleanup` runs once after all of them.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import type {
  AccessTokenRecord,
  CatalogStore,
  DefinitionChanges,
  NewVersion,
  TaskLeaseRequest,
} from '../../src/catalog/catalog-store.ts';
import { NotFoundError, TesseraError, UsageError } from '../../src/diagnostics/index.ts';
import type {
  CheckResult,
  Delivery,
  Incident,
  LineageEdge,
  MonitoringEvent,
  QueryAuditEntry,
  Run,
  RunLogLine,
  TableDef,
} from '../../src/model/index.ts';
import {
  changes,
  field,
  ingestionTask,
  ownerDef,
  principalDef,
  projectionTask,
  roleDef,
  tableDef,
} from './definition-builders.ts';

const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const patients = tableDef('clinical.patients', {
  owner: 'clinical-data',
  fields: [field('patient_id', 1, 'VARCHAR', { primaryKey: true }), field('age', 2, 'INTEGER')],
});
const summary = tableDef('analytics.summary', { owner: 'analytics', fields: undefined });
const ingestPatients = ingestionTask('ingest_patients', 'clinical.patients');
const buildSummary = projectionTask(
  'build_summary',
  'analytics.summary',
  'select count(*) as patients from clinical.patients',
);
const summaryLineage: LineageEdge[] = [
  { fromTable: 'clinical.patients', toTable: 'analytics.summary', task: 'build_summary' },
  {
    fromTable: 'clinical.patients',
    fromColumn: 'patient_id',
    toTable: 'analytics.summary',
    toColumn: 'patients',
    task: 'build_summary',
  },
];

/** The two sample tables, their tasks, owners and access, as a first apply writes them. */
function initialChanges(): DefinitionChanges {
  return changes({
    upsertTables: [
      { def: patients, fields: patients.schema!.fields, newSchemaVersion: 1 },
      { def: summary, fields: [] },
    ],
    upsertTasks: [ingestPatients, buildSummary],
    owners: [ownerDef('clinical-data'), ownerDef('analytics')],
    roles: [roleDef('analyst')],
    principals: [principalDef('bob@example.org')],
    lineage: summaryLineage,
    gitCommit: 'abc123',
  });
}

function newVersion(table: string, runId: string, overrides: Partial<NewVersion> = {}): NewVersion {
  return {
    table,
    schemaVersion: 1,
    rowCount: 100,
    bytes: 2048,
    files: [`${table}/v/${runId}/part-0.parquet`],
    runId,
    task: 'ingest_patients',
    upstream: [],
    checks: [],
    ...overrides,
  };
}

function run(id: string, task: string, queuedAt: string, overrides: Partial<Run> = {}): Run {
  return { id, task, status: 'queued', attempt: 1, trigger: 'manual', queuedAt, ...overrides };
}

/** Register node:test tests for `open`'s store under `name`. */
export function runCatalogStoreSuite(
  name: string,
  open: () => Promise<CatalogStore>,
  cleanup?: () => Promise<void>,
): void {
  describe(`CatalogStore conformance: ${name}`, () => {
    let store: CatalogStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });
    if (cleanup) after(cleanup);

    async function registerSampleTables(): Promise<void> {
      await store.applyDefinitions(initialChanges());
    }

    describe('definitions', () => {
      test('a fresh store reads back empty definitions, and migrating again changes nothing', async () => {
        await store.migrate();
        assert.deepEqual(await store.readDefinitions(), {
          tables: [],
          tasks: [],
          owners: [],
          roles: [],
          principals: [],
        });
        assert.deepEqual(await store.listLineage(), []);
      });

      test('applied definitions read back equal, sorted by name', async () => {
        await registerSampleTables();
        const applied = await store.readDefinitions();
        assert.deepEqual(
          applied.tables.map((table) => table.name),
          ['analytics.summary', 'clinical.patients'],
        );
        assert.deepEqual(applied.tasks, [buildSummary, ingestPatients]);
        assert.deepEqual(applied.owners, [ownerDef('analytics'), ownerDef('clinical-data')]);
        assert.deepEqual(applied.roles, [roleDef('analyst')]);
        assert.deepEqual(applied.principals, [principalDef('bob@example.org')]);

        const record = await store.getTable('clinical.patients');
        assert.ok(record);
        assert.equal(record.owner, 'clinical-data');
        assert.equal(record.description, patients.description);
        assert.equal(record.schemaVersion, 1);
        assert.deepEqual(record.fields, patients.schema!.fields);
        assert.deepEqual(record.definition, patients);
        assert.equal(record.currentVersion, undefined);
        assert.match(record.updatedAt, ISO_MILLIS);
        assert.deepEqual(await store.listTables(), applied.tables);
        assert.equal(await store.getTable('clinical.nobody'), undefined);
      });

      test('applying a changed task replaces its definition and keeps the other tasks', async () => {
        await registerSampleTables();
        const changed = projectionTask(
          'build_summary',
          'analytics.summary',
          'select count(*) as patients, max(age) as oldest from clinical.patients',
        );
        await store.applyDefinitions(changes({ upsertTasks: [changed] }));
        assert.deepEqual((await store.readDefinitions()).tasks, [changed, ingestPatients]);
      });

      test('a new table records its first schema version with the git commit; an inferred one records none', async () => {
        await registerSampleTables();
        const history = await store.listSchemaVersions('clinical.patients');
        assert.equal(history.length, 1);
        assert.equal(history[0]!.schemaVersion, 1);
        assert.equal(history[0]!.gitCommit, 'abc123');
        assert.deepEqual(history[0]!.fields, patients.schema!.fields);
        assert.match(history[0]!.appliedAt, ISO_MILLIS);

        const inferred = await store.getTable('analytics.summary');
        assert.equal(inferred?.schemaVersion, 1);
        assert.deepEqual(inferred?.fields, []);
        assert.deepEqual(await store.listSchemaVersions('analytics.summary'), []);
      });

      test('a schema change records a new schema version and replaces the fields', async () => {
        await registerSampleTables();
        const widened = [field('patient_id', 1, 'VARCHAR', { primaryKey: true }), field('age', 2, 'BIGINT')];
        const def: TableDef = { ...patients, schema: { ...patients.schema!, fields: widened } };
        await store.applyDefinitions(
          changes({ upsertTables: [{ def, fields: widened, newSchemaVersion: 2 }], gitCommit: 'def456' }),
        );
        const record = await store.getTable('clinical.patients');
        assert.equal(record?.schemaVersion, 2);
        assert.deepEqual(record?.fields, widened);
        assert.deepEqual(
          (await store.listSchemaVersions('clinical.patients')).map((entry) => [
            entry.schemaVersion,
            entry.gitCommit,
            entry.fields[1]!.type,
          ]),
          [
            [1, 'abc123', { kind: 'scalar', sql: 'INTEGER' }],
            [2, 'def456', { kind: 'scalar', sql: 'BIGINT' }],
          ],
        );
      });

      test('updating a table without a new schema version keeps its schema version and inferred fields', async () => {
        await registerSampleTables();
        const inferredFields = [field('patients', 1, 'BIGINT', { nullable: true })];
        await store.publishVersion(
          newVersion('analytics.summary', 'run-1', { task: 'build_summary', fields: inferredFields }),
        );
        const described = { ...summary, description: 'Patients, counted.' };
        await store.applyDefinitions(changes({ upsertTables: [{ def: described, fields: [] }] }));
        const record = await store.getTable('analytics.summary');
        assert.equal(record?.description, 'Patients, counted.');
        assert.deepEqual(record?.fields, inferredFields);
        assert.equal(record?.schemaVersion, 1);
        assert.equal(record?.currentVersion, 1);
      });

      test('removing tables and tasks forgets them, their schema versions and lineage, but keeps versions', async () => {
        await registerSampleTables();
        await store.publishVersion(newVersion('clinical.patients', 'run-1'));
        await store.applyDefinitions(
          changes({
            removeTables: ['analytics.summary', 'clinical.patients'],
            removeTasks: ['build_summary', 'ingest_patients'],
          }),
        );
        const applied = await store.readDefinitions();
        assert.deepEqual(applied.tables, []);
        assert.deepEqual(applied.tasks, []);
        assert.deepEqual(await store.listSchemaVersions('clinical.patients'), []);
        assert.deepEqual(await store.listLineage(), []);
        assert.deepEqual(
          (await store.listVersions('clinical.patients')).map((version) => version.version),
          [1],
        );
      });

      test('owners, roles and principals are replaced wholesale', async () => {
        await registerSampleTables();
        const renamed = ownerDef('clinical-data', { description: 'Clinical data engineering' });
        await store.applyDefinitions(changes({ owners: [renamed], roles: [], principals: [] }));
        const applied = await store.readDefinitions();
        assert.deepEqual(applied.owners, [renamed]);
        assert.deepEqual(applied.roles, []);
        assert.deepEqual(applied.principals, []);
        assert.equal(applied.tables.length, 2, 'tables are untouched when not named');
        assert.equal(applied.tasks.length, 2, 'tasks are untouched when not named');
      });

      test('an apply that fails part-way writes nothing', async () => {
        await registerSampleTables();
        const visits = tableDef('clinical.visits', { owner: 'clinical-data' });
        await assert.rejects(
          store.applyDefinitions(
            changes({
              upsertTables: [{ def: visits, fields: visits.schema!.fields, newSchemaVersion: 1 }],
              // Two owners with one name violate the primary key after the table was written.
              owners: [ownerDef('dup'), ownerDef('dup')],
            }),
          ),
        );
        assert.equal(await store.getTable('clinical.visits'), undefined);
        assert.deepEqual(
          (await store.readDefinitions()).owners.map((owner) => owner.name),
          ['analytics', 'clinical-data'],
        );
      });
    });

    describe('versions', () => {
      test('versions are numbered 1, 2, 3 per table and the current pointer follows', async () => {
        await registerSampleTables();
        const first = await store.publishVersion(newVersion('clinical.patients', 'run-1'));
        const second = await store.publishVersion(newVersion('clinical.patients', 'run-2'));
        const other = await store.publishVersion(
          newVersion('analytics.summary', 'run-3', { task: 'build_summary' }),
        );
        const third = await store.publishVersion(newVersion('clinical.patients', 'run-4'));
        assert.deepEqual([first.version, second.version, third.version, other.version], [1, 2, 3, 1]);
        assert.equal((await store.getTable('clinical.patients'))?.currentVersion, 3);
        assert.deepEqual(await store.getCurrentVersion('clinical.patients'), third);
        assert.deepEqual(await store.getCurrentVersion('analytics.summary'), other);
      });

      test('a source cursor moves only with the version that read up to it; a replayed publication leaves it', async () => {
        await registerSampleTables();
        assert.equal(await store.getSourceCursor('ingest_patients'), undefined);
        const cursor = { objects: { 'day-1.csv': '"etag-1"' } };
        await store.publishVersion(
          newVersion('clinical.patients', 'run-1', { sourceCursor: { task: 'ingest_patients', cursor } }),
        );
        assert.deepEqual(await store.getSourceCursor('ingest_patients'), cursor);
        const later = { objects: { 'day-1.csv': '"etag-1"', 'day-2.csv': '"etag-2"' } };
        await store.publishVersion(
          newVersion('clinical.patients', 'run-2', {
            sourceCursor: { task: 'ingest_patients', cursor: later },
          }),
        );
        // The same run published again (a retry) is the version already there: its cursor is not re-applied.
        await store.publishVersion(
          newVersion('clinical.patients', 'run-1', { sourceCursor: { task: 'ingest_patients', cursor } }),
        );
        assert.deepEqual(await store.getSourceCursor('ingest_patients'), later);
        // A publication to an unknown table fails whole: no cursor moves without its version.
        await assert.rejects(
          store.publishVersion(
            newVersion('nowhere.table', 'run-9', {
              sourceCursor: { task: 'ingest_nowhere', cursor: { at: 1 } },
            }),
          ),
        );
        assert.equal(await store.getSourceCursor('ingest_nowhere'), undefined);
        assert.equal(await store.clearSourceCursor('ingest_patients'), true);
        assert.equal(await store.clearSourceCursor('ingest_patients'), false);
        assert.equal(await store.getSourceCursor('ingest_patients'), undefined);
      });

      test('a published version reads back with everything it recorded', async () => {
        await registerSampleTables();
        const input = newVersion('analytics.summary', 'run-9', {
          task: 'build_summary',
          schemaVersion: 1,
          rowCount: 5_000_000_000,
          bytes: 12_345_678_901,
          files: ['a.parquet', 'b.parquet'],
          storedMasks: { patients: 'AGE_90_PLUS' },
          gitCommit: 'abc123',
          upstream: [{ table: 'clinical.patients', version: 4 }],
          checks: [
            {
              expectation: 'expect_column_values_to_be_unique',
              args: { column: 'patients' },
              severity: 'error',
              success: true,
              unexpectedCount: 0,
            },
          ],
        });
        const published = await store.publishVersion(input);
        const { fields: _fields, ...recorded } = input;
        assert.deepEqual(published, { ...recorded, version: 1, publishedAt: published.publishedAt });
        assert.match(published.publishedAt, ISO_MILLIS);
        assert.deepEqual(await store.getVersion('analytics.summary', 1), published);
        assert.equal(await store.getVersion('analytics.summary', 2), undefined);
        assert.equal(await store.getCurrentVersion('clinical.patients'), undefined);
      });

      test('a version records which fields it stores masked and how; none given means every field raw', async () => {
        await registerSampleTables();
        const storedMasks = { ssn: 'HASH', name: 'REDACT', birth_date: 'DATE_YEAR' } as const;
        const masked = await store.publishVersion(newVersion('clinical.patients', 'run-1', { storedMasks }));
        const raw = await store.publishVersion(newVersion('clinical.patients', 'run-2'));
        assert.deepEqual(masked.storedMasks, storedMasks);
        assert.deepEqual(raw.storedMasks, {});
        assert.deepEqual((await store.getVersion('clinical.patients', 1))?.storedMasks, storedMasks);
        assert.deepEqual((await store.getCurrentVersion('clinical.patients'))?.storedMasks, {});
        assert.deepEqual(
          (await store.listVersions('clinical.patients')).map((version) => version.storedMasks),
          [{}, storedMasks],
        );
        const at = await store.getVersionAt('clinical.patients', masked.publishedAt);
        assert.deepEqual(at?.storedMasks, at?.version === 1 ? storedMasks : {});
        // A replayed publication returns the first record, not the replay's.
        const replay = await store.publishVersion(newVersion('clinical.patients', 'run-1'));
        assert.deepEqual(replay.storedMasks, storedMasks);
      });

      test('publishing the same run twice returns the first version and publishes nothing new', async () => {
        await registerSampleTables();
        const first = await store.publishVersion(newVersion('clinical.patients', 'run-1'));
        await store.publishVersion(newVersion('clinical.patients', 'run-2'));
        const replay = await store.publishVersion(newVersion('clinical.patients', 'run-1', { rowCount: 7 }));
        assert.deepEqual(replay, first);
        assert.equal((await store.listVersions('clinical.patients')).length, 2);
        assert.equal((await store.getTable('clinical.patients'))?.currentVersion, 2);
      });

      test('publishing to an unregistered table fails with an error naming it', async () => {
        await assert.rejects(
          store.publishVersion(newVersion('clinical.ghosts', 'run-1')),
          (error: unknown) => {
            assert.ok(error instanceof NotFoundError);
            assert.ok(error instanceof TesseraError);
            assert.match(error.message, /clinical\.ghosts.*not registered.*tessera apply/);
            return true;
          },
        );
      });

      test('publishing with fields makes them the table fields', async () => {
        await registerSampleTables();
        const fields = [field('patients', 1, 'BIGINT', { nullable: true })];
        await store.publishVersion(
          newVersion('analytics.summary', 'run-1', { task: 'build_summary', fields }),
        );
        assert.deepEqual((await store.getTable('analytics.summary'))?.fields, fields);
      });

      test('concurrent publishers get distinct consecutive numbers, and one run publishes once', async () => {
        await registerSampleTables();
        const distinct = await Promise.all(
          Array.from({ length: 8 }, (_, index) =>
            store.publishVersion(newVersion('clinical.patients', `run-${index}`)),
          ),
        );
        assert.deepEqual(
          distinct.map((version) => version.version).sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6, 7, 8],
        );
        const replays = await Promise.all(
          Array.from({ length: 4 }, () => store.publishVersion(newVersion('clinical.patients', 'run-same'))),
        );
        assert.deepEqual(
          replays.map((version) => version.version),
          [9, 9, 9, 9],
        );
        assert.equal((await store.listVersions('clinical.patients')).length, 9);
        assert.equal((await store.getTable('clinical.patients'))?.currentVersion, 9);
      });

      test('getVersionAt returns the version current at a timestamp, in any ISO spelling', async () => {
        await registerSampleTables();
        const before = new Date(Date.now() - 60_000).toISOString();
        const first = await store.publishVersion(newVersion('clinical.patients', 'run-1'));
        await sleep(5);
        const between = new Date().toISOString();
        await sleep(5);
        const second = await store.publishVersion(newVersion('clinical.patients', 'run-2'));
        assert.ok(first.publishedAt < between && between < second.publishedAt);

        assert.equal(await store.getVersionAt('clinical.patients', before), undefined);
        assert.equal((await store.getVersionAt('clinical.patients', first.publishedAt))?.version, 1);
        assert.equal((await store.getVersionAt('clinical.patients', between))?.version, 1);
        assert.equal((await store.getVersionAt('clinical.patients', second.publishedAt))?.version, 2);
        assert.equal((await store.getVersionAt('clinical.patients', '2999-01-01'))?.version, 2);
        // `YYYY-MM-DD HH:MM:SS.sss` without a zone is UTC, as in `AT (TIMESTAMP => …)`.
        const spaced = between.replace('T', ' ').replace('Z', '');
        assert.equal((await store.getVersionAt('clinical.patients', spaced))?.version, 1);
        await assert.rejects(store.getVersionAt('clinical.patients', 'yesterday'), UsageError);
      });

      test('listVersions is newest first', async () => {
        await registerSampleTables();
        for (const runId of ['run-1', 'run-2', 'run-3']) {
          await store.publishVersion(newVersion('clinical.patients', runId));
        }
        assert.deepEqual(
          (await store.listVersions('clinical.patients')).map((version) => [version.version, version.runId]),
          [
            [3, 'run-3'],
            [2, 'run-2'],
            [1, 'run-1'],
          ],
        );
        assert.deepEqual(await store.listVersions('analytics.summary'), []);
      });

      test('deleteVersions removes older versions and refuses the current one', async () => {
        await registerSampleTables();
        for (const runId of ['run-1', 'run-2', 'run-3']) {
          await store.publishVersion(newVersion('clinical.patients', runId));
        }
        await assert.rejects(store.deleteVersions('clinical.patients', [1, 3]), (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.match(error.message, /version 3 of clinical\.patients.*current/);
          return true;
        });
        assert.equal((await store.listVersions('clinical.patients')).length, 3, 'nothing was deleted');

        const removed = await store.deleteVersions('clinical.patients', [1, 2, 99]);
        assert.deepEqual(
          removed.map((version) => [version.version, version.files]),
          [
            [2, ['clinical.patients/v/run-2/part-0.parquet']],
            [1, ['clinical.patients/v/run-1/part-0.parquet']],
          ],
        );
        assert.deepEqual(
          (await store.listVersions('clinical.patients')).map((version) => version.version),
          [3],
        );
        assert.equal((await store.getCurrentVersion('clinical.patients'))?.version, 3);
        assert.deepEqual(await store.deleteVersions('clinical.patients', []), []);
        // Numbers are never reused, even after older versions are gone.
        assert.equal((await store.publishVersion(newVersion('clinical.patients', 'run-4'))).version, 4);
      });
    });

    describe('read leases', () => {
      const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

      test('a lease holds the files of its versions until released; an expired one holds nothing', async () => {
        await registerSampleTables();
        await store.publishVersion(newVersion('clinical.patients', 'run-1'));
        await store.publishVersion(
          newVersion('clinical.patients', 'run-2', {
            files: ['clinical.patients/v/run-1/part-0.parquet', 'clinical.patients/v/run-2/part-0.parquet'],
          }),
        );
        const lease = await store.acquireReadLease({
          versions: [
            { table: 'clinical.patients', version: 1 },
            { table: 'clinical.patients', version: 2 },
          ],
          holder: 'test:1',
          expiresAt: inAnHour(),
        });
        assert.deepEqual(lease?.files, [
          'clinical.patients/v/run-1/part-0.parquet',
          'clinical.patients/v/run-2/part-0.parquet',
        ]);
        const now = new Date().toISOString();
        assert.deepEqual([...(await store.leasedFiles(now))].sort(), lease!.files);

        // Expired: nothing held (and the lease is swept); renewing it then fails.
        assert.equal(await store.renewReadLease(lease!.id, new Date(Date.now() - 1000).toISOString()), true);
        assert.deepEqual([...(await store.leasedFiles(new Date().toISOString()))], []);
        assert.equal(await store.renewReadLease(lease!.id, inAnHour()), false);

        const second = await store.acquireReadLease({
          versions: [{ table: 'clinical.patients', version: 2 }],
          holder: 'test:1',
          expiresAt: inAnHour(),
        });
        assert.equal((await store.leasedFiles(new Date().toISOString())).size, 2);
        await store.releaseReadLease(second!.id);
        await store.releaseReadLease('no-such-lease');
        assert.equal((await store.leasedFiles(new Date().toISOString())).size, 0);
      });

      test('no lease is taken on a version that is gone', async () => {
        await registerSampleTables();
        await store.publishVersion(newVersion('clinical.patients', 'run-1'));
        await store.publishVersion(newVersion('clinical.patients', 'run-2'));
        await store.deleteVersions('clinical.patients', [1]);
        const request = (version: number) => ({
          versions: [{ table: 'clinical.patients', version }],
          holder: 'test:1',
          expiresAt: inAnHour(),
        });
        assert.equal(await store.acquireReadLease(request(1)), undefined);
        assert.equal(await store.acquireReadLease(request(7)), undefined);
        assert.equal((await store.leasedFiles(new Date().toISOString())).size, 0, 'nothing half-taken');
        assert.ok(await store.acquireReadLease(request(2)));
      });

      test('a lease and the removal of its version never cross: a taken lease is seen after the removal', async () => {
        await registerSampleTables();
        await store.publishVersion(newVersion('clinical.patients', 'run-0'));
        for (let round = 1; round <= 12; round++) {
          const version = await store.publishVersion(newVersion('clinical.patients', `run-${round}`));
          await store.publishVersion(newVersion('clinical.patients', `run-${round}-next`));
          const file = version.files[0]!;
          const [lease, leasedAfterRemoval] = await Promise.all([
            store.acquireReadLease({
              versions: [{ table: 'clinical.patients', version: version.version }],
              holder: 'test:1',
              expiresAt: inAnHour(),
            }),
            store
              .deleteVersions('clinical.patients', [version.version])
              .then(() => store.leasedFiles(new Date().toISOString())),
          ]);
          if (lease) {
            assert.ok(leasedAfterRemoval.has(file), `round ${round}: a lease on ${file} was missed`);
            await store.releaseReadLease(lease.id);
          }
        }
      });

      test('deferred deletions are recorded once per file, listed per table, and forgotten', async () => {
        const at = '2026-11-26T10:00:00.000Z';
        await store.deferFileDeletions('clinical.patients', ['a.parquet', 'b.parquet'], at);
        await store.deferFileDeletions('clinical.patients', ['a.parquet'], '2026-11-26T11:00:00.000Z');
        await store.deferFileDeletions('analytics.summary', ['c.parquet'], at);
        await store.deferFileDeletions('analytics.summary', [], at);
        assert.deepEqual(await store.listDeferredDeletions('clinical.patients'), ['a.parquet', 'b.parquet']);
        await store.forgetDeferredDeletions(['a.parquet', 'c.parquet']);
        await store.forgetDeferredDeletions([]);
        assert.deepEqual(await store.listDeferredDeletions('clinical.patients'), ['b.parquet']);
        assert.deepEqual(await store.listDeferredDeletions('analytics.summary'), []);
      });
    });

    describe('runs', () => {
      test('a run reads back as created, with timestamps normalized to UTC milliseconds', async () => {
        const created = run('r1', 'ingest_patients', '2026-01-01T10:00:00.000Z', {
          status: 'succeeded',
          trigger: 'upstream:clinical.patients@3',
          startedAt: '2026-01-01T12:00:01+02:00',
          finishedAt: '2026-01-01T10:00:02.500Z',
          published: { table: 'clinical.patients', version: 3 },
          rowsWritten: 5_000_000_000,
          badRows: 2,
        });
        await store.createRun(created);
        assert.deepEqual(await store.getRun('r1'), { ...created, startedAt: '2026-01-01T10:00:01.000Z' });
        assert.equal(await store.getRun('missing'), undefined);
      });

      test('updateRun changes the named fields, clears keys given as undefined, and rejects unknown runs', async () => {
        await store.createRun(run('r1', 'ingest_patients', '2026-01-01T10:00:00.000Z'));
        await store.updateRun('r1', { status: 'running', startedAt: '2026-01-01T10:00:01.000Z' });
        await store.updateRun('r1', {
          status: 'failed',
          finishedAt: '2026-01-01T10:00:05.000Z',
          error: 'source unreadable',
        });
        assert.deepEqual(await store.getRun('r1'), {
          ...run('r1', 'ingest_patients', '2026-01-01T10:00:00.000Z'),
          status: 'failed',
          startedAt: '2026-01-01T10:00:01.000Z',
          finishedAt: '2026-01-01T10:00:05.000Z',
          error: 'source unreadable',
        });

        await store.updateRun('r1', {
          status: 'queued',
          attempt: 2,
          error: undefined,
          finishedAt: undefined,
        });
        const retried = await store.getRun('r1');
        assert.equal(retried?.status, 'queued');
        assert.equal(retried?.attempt, 2);
        assert.equal(retried?.startedAt, '2026-01-01T10:00:01.000Z');
        assert.ok(!('error' in retried!) && !('finishedAt' in retried!), 'cleared fields are absent');

        await store.updateRun('r1', {
          published: { table: 'clinical.patients', version: 1 },
          rowsWritten: 10,
        });
        assert.deepEqual((await store.getRun('r1'))?.published, { table: 'clinical.patients', version: 1 });
        await assert.rejects(store.updateRun('missing', { status: 'failed' }), NotFoundError);
        await assert.rejects(store.updateRun('missing', {}), NotFoundError);
      });

      test("a run's check results, samples of unexpected values included, read back with it and can be cleared", async () => {
        const checks: CheckResult[] = [
          {
            expectation: 'expect_column_values_to_be_in_set',
            args: { column: 'state', value_set: ['CA'] },
            severity: 'error',
            success: false,
            elementCount: 3,
            unexpectedCount: 2,
            unexpectedPercent: 66.67,
            sample: ['NY', null, { a: [1, 'é'] }],
          },
        ];
        await store.createRun(run('r1', 'ingest_patients', '2026-01-01T10:00:00.000Z', { checks }));
        assert.deepEqual((await store.getRun('r1'))?.checks, checks);
        await store.createRun(run('r2', 'ingest_patients', '2026-01-01T11:00:00.000Z'));
        await store.updateRun('r2', { status: 'failed', checks });
        assert.deepEqual((await store.listRuns({ task: 'ingest_patients', limit: 1 }))[0]?.checks, checks);
        await store.updateRun('r2', { checks: undefined });
        assert.ok(!('checks' in (await store.getRun('r2'))!), 'cleared checks are absent');
      });

      test('listRuns is newest first and filters by task, status and limit', async () => {
        await store.createRun(run('r1', 'a', '2026-01-01T10:00:00.000Z', { status: 'succeeded' }));
        await store.createRun(run('r2', 'b', '2026-01-01T11:00:00.000Z', { status: 'failed' }));
        await store.createRun(run('r3', 'a', '2026-01-01T12:00:00.000Z', { status: 'running' }));
        await store.createRun(run('r0', 'a', '2026-01-01T09:00:00.000Z', { status: 'failed' }));
        const ids = async (filter?: Parameters<CatalogStore['listRuns']>[0]) =>
          (await store.listRuns(filter)).map((entry) => entry.id);
        assert.deepEqual(await ids(), ['r3', 'r2', 'r1', 'r0']);
        assert.deepEqual(await ids({ task: 'a' }), ['r3', 'r1', 'r0']);
        assert.deepEqual(await ids({ status: 'failed' }), ['r2', 'r0']);
        assert.deepEqual(await ids({ task: 'a', status: 'failed' }), ['r0']);
        assert.deepEqual(await ids({ limit: 2 }), ['r3', 'r2']);
        assert.deepEqual(await ids({ task: 'c' }), []);
      });

      test('run logs read back in append order, per run', async () => {
        const line = (runId: string, message: string, at: string): RunLogLine => ({
          runId,
          at,
          level: 'info',
          message,
        });
        await store.createRun(run('r1', 'a', '2026-01-01T10:00:00.000Z'));
        await store.createRun(run('r2', 'b', '2026-01-01T10:00:00.000Z'));
        await store.appendRunLog([
          line('r1', 'staging', '2026-01-01T10:00:01.000Z'),
          line('r2', 'other run', '2026-01-01T10:00:01.000Z'),
          line('r1', 'conforming', '2026-01-01T10:00:02.000Z'),
        ]);
        // A later append whose clock reads earlier still comes after: order is append order.
        await store.appendRunLog([
          { ...line('r1', 'publishing', '2026-01-01T09:59:59.000Z'), level: 'warn' },
        ]);
        await store.appendRunLog([]);
        assert.deepEqual(await store.readRunLog('r1'), [
          line('r1', 'staging', '2026-01-01T10:00:01.000Z'),
          line('r1', 'conforming', '2026-01-01T10:00:02.000Z'),
          { ...line('r1', 'publishing', '2026-01-01T09:59:59.000Z'), level: 'warn' },
        ]);
        assert.deepEqual(
          (await store.readRunLog('r2')).map((entry) => entry.message),
          ['other run'],
        );
        assert.deepEqual(await store.readRunLog('r3'), []);
      });
    });

    describe('run queue', () => {
      const firstQueued = (active: { run: Run }[]) =>
        active.find((entry) => entry.run.status === 'queued')?.run.id;

      test('enqueueRun records a queued run with its queue state; a dedupe key merges only while queued', async () => {
        const first = await store.enqueueRun(run('q1', 'build_summary', '2026-01-01T10:00:00.000Z'), {
          dedupeKey: 'build_summary',
          notBefore: '2026-01-01T12:00:00.050+02:00',
          wave: 'w1',
        });
        assert.equal(first.created, true);
        assert.deepEqual(first.queued, {
          run: run('q1', 'build_summary', '2026-01-01T10:00:00.000Z'),
          queue: {
            dedupeKey: 'build_summary',
            notBefore: '2026-01-01T10:00:00.050Z',
            wave: 'w1',
            cancelRequested: false,
            downstream: true,
          },
        });
        assert.deepEqual(await store.getQueuedRun('q1'), first.queued);
        assert.deepEqual(await store.getRun('q1'), first.queued.run);

        const merged = await store.enqueueRun(run('q2', 'build_summary', '2026-01-01T10:00:01.000Z'), {
          dedupeKey: 'build_summary',
        });
        assert.equal(merged.created, false);
        assert.equal(merged.queued.run.id, 'q1');
        assert.equal(await store.getRun('q2'), undefined);

        const other = await store.enqueueRun(run('q3', 'ingest_patients', '2026-01-01T10:00:02.000Z'), {
          downstream: false,
        });
        assert.equal(other.created, true);
        assert.equal(other.queued.queue.downstream, false);

        await store.claimRun('host:1:a', () => 'q1');
        const afterClaim = await store.enqueueRun(run('q4', 'build_summary', '2026-01-01T10:00:03.000Z'), {
          dedupeKey: 'build_summary',
        });
        assert.equal(afterClaim.created, true, 'a claimed run no longer absorbs new requests');
        await assert.rejects(
          store.enqueueRun(run('q5', 'a', '2026-01-01T10:00:00.000Z', { status: 'running' }), {}),
          /queued/,
        );
      });

      test('listActiveRuns lists queued and running runs oldest first; getQueuedRun reads any run', async () => {
        await store.createRun(run('done', 'a', '2026-01-01T09:00:00.000Z', { status: 'succeeded' }));
        await store.enqueueRun(run('late', 'b', '2026-01-01T11:00:00.000Z'), {});
        await store.enqueueRun(run('early', 'a', '2026-01-01T10:00:00.000Z'), {});
        await store.claimRun('host:1:a', (active) => active.find((entry) => entry.run.id === 'late')?.run.id);
        const active = await store.listActiveRuns();
        assert.deepEqual(
          active.map((entry) => [entry.run.id, entry.run.status]),
          [
            ['early', 'queued'],
            ['late', 'running'],
          ],
        );
        assert.equal((await store.getQueuedRun('done'))?.run.status, 'succeeded');
        assert.equal(await store.getQueuedRun('missing'), undefined);
      });

      test('claimRun starts the chosen run for its owner, and concurrent claimers never get the same run', async () => {
        for (let index = 0; index < 6; index++) {
          await store.enqueueRun(run(`c${index}`, `task_${index}`, `2026-01-01T10:00:0${index}.000Z`), {});
        }
        assert.equal(await store.claimRun('nobody', () => undefined), undefined);
        const claims = await Promise.all(
          Array.from({ length: 8 }, (_, index) => store.claimRun(`host:${index}:x`, firstQueued)),
        );
        const claimed = claims.filter((claim) => claim !== undefined);
        assert.equal(claimed.length, 6);
        assert.equal(new Set(claimed.map((claim) => claim.run.id)).size, 6);
        for (const claim of claimed) {
          assert.equal(claim.run.status, 'running');
          assert.match(claim.run.startedAt ?? '', ISO_MILLIS);
          assert.match(claim.queue.owner ?? '', /^host:\d:x$/);
          assert.equal(claim.queue.heartbeatAt, claim.run.startedAt);
        }
        await assert.rejects(
          store.claimRun('x', () => 'c0'),
          /not a queued run/,
        );
      });

      test('heartbeats, cancellation requests and requeueing respect status and owner', async () => {
        await store.enqueueRun(run('h1', 'a', '2026-01-01T10:00:00.000Z'), {});
        await store.enqueueRun(run('h2', 'b', '2026-01-01T10:00:01.000Z'), {});
        const claimed = await store.claimRun('me', (active) => active.find((e) => e.run.id === 'h1')?.run.id);
        await sleep(5);
        assert.equal(await store.requestRunCancel('h2'), false, 'a queued run is not running');
        assert.deepEqual(await store.heartbeatRuns('me', ['h1', 'h2']), []);
        const beat = await store.getQueuedRun('h1');
        assert.ok(beat!.queue.heartbeatAt! > claimed!.queue.heartbeatAt!, 'the heartbeat moved');
        assert.deepEqual(await store.heartbeatRuns('someone-else', ['h1']), []);
        assert.equal((await store.getQueuedRun('h1'))!.queue.heartbeatAt, beat!.queue.heartbeatAt);

        assert.equal(await store.requestRunCancel('h1'), true);
        assert.deepEqual(await store.heartbeatRuns('me', ['h1']), ['h1']);
        assert.deepEqual(await store.heartbeatRuns('me', []), []);

        assert.equal(await store.requeueRun('h1', { attempt: 2 }, 'someone-else'), false);
        assert.equal(
          await store.requeueRun(
            'h1',
            { attempt: 2, notBefore: '2026-01-01T10:05:00Z', error: 'boom' },
            'me',
          ),
          true,
        );
        const requeued = await store.getQueuedRun('h1');
        assert.equal(requeued?.run.status, 'queued');
        assert.equal(requeued?.run.attempt, 2);
        assert.equal(requeued?.run.error, 'boom');
        assert.equal(requeued?.queue.notBefore, '2026-01-01T10:05:00.000Z');
        assert.equal(requeued?.queue.owner, undefined);
        assert.equal(requeued?.queue.heartbeatAt, undefined);
        assert.equal(requeued?.queue.cancelRequested, false);
        assert.equal(await store.requeueRun('h1', {}), false, 'a queued run is not requeued');

        // A failed attempt is requeued for its retry, by its owner.
        await store.claimRun('me', (active) => active.find((e) => e.run.id === 'h1')?.run.id);
        await store.updateRun('h1', { status: 'failed', finishedAt: '2026-01-01T10:06:00Z', error: 'again' });
        assert.equal(await store.requeueRun('h1', { attempt: 3, notBefore: undefined }, 'me'), true);
        const retried = await store.getQueuedRun('h1');
        assert.equal(retried?.run.status, 'queued');
        assert.equal(retried?.run.attempt, 3);
        assert.equal(retried?.run.error, 'again', 'the last error stays until the next attempt ends');
        assert.ok(!('finishedAt' in retried!.run) && !('notBefore' in retried!.queue));

        await store.createRun(run('h3', 'c', '2026-01-01T10:00:02.000Z', { status: 'succeeded' }));
        assert.equal(await store.requeueRun('h3', {}), false, 'a succeeded run is never requeued');
      });

      test('finishQueuedRun ends only runs that never started', async () => {
        await store.enqueueRun(run('f1', 'a', '2026-01-01T10:00:00.000Z'), {});
        await store.enqueueRun(run('f2', 'b', '2026-01-01T10:00:01.000Z'), {});
        await store.claimRun('me', (active) => active.find((e) => e.run.id === 'f2')?.run.id);
        assert.equal(await store.finishQueuedRun('f1', 'skipped', 'upstream task x failed'), true);
        assert.equal(await store.finishQueuedRun('f2', 'cancelled', 'cancelled'), false);
        assert.equal(await store.finishQueuedRun('f1', 'cancelled', 'again'), false);
        const skipped = await store.getRun('f1');
        assert.equal(skipped?.status, 'skipped');
        assert.equal(skipped?.error, 'upstream task x failed');
        assert.match(skipped?.finishedAt ?? '', ISO_MILLIS);
        assert.equal((await store.getRun('f2'))?.status, 'running');
      });

      test('task states are created, changed and cleared field by field', async () => {
        assert.equal(await store.getTaskState('ingest_patients'), undefined);
        assert.deepEqual(await store.listTaskStates(), []);
        const paused = await store.updateTaskState('ingest_patients', {
          pausedAt: '2026-01-01T12:00:00+02:00',
        });
        assert.equal(paused.pausedAt, '2026-01-01T10:00:00.000Z');
        assert.match(paused.updatedAt, ISO_MILLIS);
        await store.updateTaskState('ingest_patients', { sourceFingerprint: 'abc' });
        await store.updateTaskState('build_summary', { sourceFingerprint: 'def' });
        const resumed = await store.updateTaskState('ingest_patients', { pausedAt: undefined });
        assert.equal(resumed.pausedAt, undefined);
        assert.equal(resumed.sourceFingerprint, 'abc');
        assert.ok(!('pausedAt' in resumed), 'cleared fields are absent');
        assert.deepEqual(
          (await store.listTaskStates()).map((state) => [state.task, state.sourceFingerprint]),
          [
            ['build_summary', 'def'],
            ['ingest_patients', 'abc'],
          ],
        );
      });
    });

    describe('task leases', () => {
      const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, seconds)).toISOString();
      const request = (owner: string, runId: string, overrides: Partial<TaskLeaseRequest> = {}) => ({
        task: 'ingest_patients',
        owner,
        runId,
        now: at(0),
        expiresAt: at(30),
        ...overrides,
      });

      test('one holder per task: taken when free or expired, refused while held, idempotent for its holder', async () => {
        const first = await store.acquireTaskLease(request('host:1:a', 'run-1'));
        assert.deepEqual(first, {
          acquired: true,
          lease: {
            task: 'ingest_patients',
            owner: 'host:1:a',
            runId: 'run-1',
            acquiredAt: at(0),
            expiresAt: at(30),
          },
        });
        assert.equal((await store.acquireTaskLease(request('host:1:a', 'run-1'))).acquired, true, 'again');

        const refused = await store.acquireTaskLease(request('host:2:b', 'run-2', { now: at(29) }));
        assert.equal(refused.acquired, false);
        assert.deepEqual(!refused.acquired && [refused.holder.owner, refused.holder.runId], [
          'host:1:a',
          'run-1',
        ]);
        const sameOwnerOtherRun = await store.acquireTaskLease(request('host:1:a', 'run-3', { now: at(1) }));
        assert.equal(
          sameOwnerOtherRun.acquired,
          false,
          'a second run of the task, even from the same process',
        );

        // Renewal moves the expiry; a lease of another owner or run is not renewed.
        assert.deepEqual(await store.renewTaskLeases('host:1:a', ['run-1', 'run-9'], at(60)), ['run-1']);
        assert.deepEqual(await store.renewTaskLeases('host:2:b', ['run-1'], at(90)), []);
        assert.equal(
          (await store.acquireTaskLease(request('host:2:b', 'run-2', { now: at(45) }))).acquired,
          false,
        );

        // Expired (its holder stopped renewing): taken over; the old holder can neither renew nor release it.
        const takeover = await store.acquireTaskLease(
          request('host:2:b', 'run-2', { now: at(60), expiresAt: at(120) }),
        );
        assert.equal(takeover.acquired, true);
        assert.deepEqual(await store.renewTaskLeases('host:1:a', ['run-1'], at(200)), []);
        assert.equal(await store.releaseTaskLease('run-1', 'host:1:a'), false);

        // A holder known to be dead is replaced before expiry.
        const replaced = await store.acquireTaskLease(
          request('host:3:c', 'run-4', { now: at(61), expiresAt: at(130), replacing: 'host:2:b' }),
        );
        assert.equal(replaced.acquired, true);
        assert.deepEqual(
          (await store.listTaskLeases()).map((lease) => [
            lease.task,
            lease.owner,
            lease.runId,
            lease.expiresAt,
          ]),
          [['ingest_patients', 'host:3:c', 'run-4', at(130)]],
        );

        assert.equal(await store.releaseTaskLease('run-4', 'host:3:c'), true);
        assert.deepEqual(await store.listTaskLeases(), []);
        assert.equal(
          (await store.acquireTaskLease(request('host:1:a', 'run-5', { now: at(62) }))).acquired,
          true,
        );
      });

      test('concurrent takers of one task: exactly one gets it; other tasks are independent', async () => {
        const now = new Date().toISOString();
        const later = new Date(Date.now() + 60_000).toISOString();
        const outcomes = await Promise.all(
          Array.from({ length: 12 }, (_, index) =>
            store.acquireTaskLease({
              task: index < 10 ? 'build_summary' : `other_${index}`,
              owner: `host:${index}:x`,
              runId: `run-${index}`,
              now,
              expiresAt: later,
            }),
          ),
        );
        const winners = outcomes.slice(0, 10).filter((outcome) => outcome.acquired);
        assert.equal(winners.length, 1);
        const winner = winners[0]!.acquired ? winners[0]!.lease : undefined;
        for (const outcome of outcomes.slice(0, 10)) {
          const holder = outcome.acquired ? outcome.lease : outcome.holder;
          assert.deepEqual(holder, winner, 'every loser is told who won');
        }
        assert.ok(outcomes.slice(10).every((outcome) => outcome.acquired));
      });

      test('claimRun with a lease skips tasks leased elsewhere and takes the lease with the claim', async () => {
        const later = new Date(Date.now() + 60_000).toISOString();
        await store.enqueueRun(run('l1', 'ingest_patients', '2026-01-01T10:00:00.000Z'), {});
        await store.enqueueRun(run('l2', 'build_summary', '2026-01-01T10:00:01.000Z'), {});
        await store.acquireTaskLease({
          task: 'ingest_patients',
          owner: 'cli:1:z',
          runId: 'cli-run',
          expiresAt: later,
        });
        let seen: string[] = [];
        const claimed = await store.claimRun(
          'server:2:y',
          (active, leased) => {
            seen = [...leased];
            return active.find((entry) => entry.run.status === 'queued' && !leased.has(entry.run.task))?.run
              .id;
          },
          { expiresAt: later },
        );
        assert.deepEqual(seen, ['ingest_patients']);
        assert.equal(claimed?.run.id, 'l2');
        const leases = await store.listTaskLeases();
        assert.deepEqual(
          leases.map((lease) => [lease.task, lease.owner, lease.runId]),
          [
            ['build_summary', 'server:2:y', 'l2'],
            ['ingest_patients', 'cli:1:z', 'cli-run'],
          ],
        );
        // A chooser that names a run whose task is leased elsewhere claims nothing: the run stays queued.
        assert.equal(await store.claimRun('server:2:y', () => 'l1', { expiresAt: later }), undefined);
        assert.equal((await store.getRun('l1'))?.status, 'queued');
      });
    });

    describe('access tokens and query audit', () => {
      const token = (
        id: string,
        createdAt: string,
        extra: Partial<AccessTokenRecord> = {},
      ): AccessTokenRecord => ({
        id,
        principal: 'bob@example.org',
        tokenHash: `hash-of-${id}`,
        createdAt,
        ...extra,
      });

      test('tokens are found by hash, listed newest first, and revoked once', async () => {
        await store.createAccessToken(
          token('t1', '2026-11-01T00:00:00Z', { expiresAt: '2026-12-01T00:00:00+00:00' }),
        );
        await store.createAccessToken(
          token('t2', '2026-11-02T00:00:00.000Z', { principal: 'carol@example.org' }),
        );
        assert.deepEqual(await store.findAccessToken('hash-of-t1'), {
          id: 't1',
          principal: 'bob@example.org',
          tokenHash: 'hash-of-t1',
          createdAt: '2026-11-01T00:00:00.000Z',
          expiresAt: '2026-12-01T00:00:00.000Z',
        });
        assert.equal(await store.findAccessToken('no-such-hash'), undefined);
        assert.deepEqual(
          (await store.listAccessTokens()).map((record) => record.id),
          ['t2', 't1'],
        );

        assert.equal(await store.revokeAccessToken('t1', '2026-11-03T00:00:00Z'), true);
        assert.equal(
          await store.revokeAccessToken('t1', '2026-11-04T00:00:00Z'),
          true,
          'revoking again is fine',
        );
        assert.equal((await store.findAccessToken('hash-of-t1'))?.revokedAt, '2026-11-03T00:00:00.000Z');
        assert.equal(await store.revokeAccessToken('nope', '2026-11-03T00:00:00Z'), false);
        assert.equal((await store.findAccessToken('hash-of-t2'))?.revokedAt, undefined);
      });

      test('two tokens cannot share a hash', async () => {
        await store.createAccessToken(token('t1', '2026-11-01T00:00:00Z'));
        await assert.rejects(
          store.createAccessToken({ ...token('t2', '2026-11-01T00:00:00Z'), tokenHash: 'hash-of-t1' }),
        );
      });

      test('audit entries round-trip, newest first, filtered by principal and limited', async () => {
        const entry = (id: string, at: string, extra: Partial<QueryAuditEntry> = {}): QueryAuditEntry => ({
          id,
          at,
          principal: 'bob@example.org',
          sql: 'select ssn from clinical.patients',
          outcome: 'allowed',
          tables: ['clinical.patients'],
          columns: [{ table: 'clinical.patients', column: 'ssn' }],
          masks: [{ table: 'clinical.patients', column: 'ssn', mask: 'HASH' }],
          rowFilters: [{ table: 'clinical.patients', filter: "state = principal_attr('state')" }],
          rowsReturned: 51,
          durationMs: 12,
          ...extra,
        });
        const allowed = entry('a1', '2026-11-01T00:00:00.000Z', { tokenId: 'tok1' });
        const refused: QueryAuditEntry = {
          ...entry('a2', '2026-11-01T00:00:01Z', { principal: 'dave@example.org', outcome: 'refused' }),
          reason: 'table clinical.patients not found',
          tables: [],
          columns: [],
          masks: [],
          rowFilters: [],
        };
        delete refused.rowsReturned;
        const later = entry('a3', '2026-11-01T00:00:02.000Z', { rowsReturned: 0 });
        for (const record of [allowed, refused, later]) await store.recordQueryAudit(record);

        const all = await store.listQueryAudit();
        assert.deepEqual(
          all.map((record) => record.id),
          ['a3', 'a2', 'a1'],
        );
        assert.deepEqual(all[2], allowed);
        assert.deepEqual(all[1], { ...refused, at: '2026-11-01T00:00:01.000Z' });
        assert.equal(all[0]!.rowsReturned, 0, 'zero rows is recorded, not dropped');
        assert.deepEqual(
          (await store.listQueryAudit({ principal: 'bob@example.org' })).map((record) => record.id),
          ['a3', 'a1'],
        );
        assert.deepEqual(
          (await store.listQueryAudit({ limit: 1 })).map((record) => record.id),
          ['a3'],
        );
      });
    });

    describe('catalog keys', () => {
      test('a key is generated once: concurrent first calls and later calls return the same 256-bit key', async () => {
        const firstCalls = await Promise.all([1, 2, 3, 4].map(() => store.catalogKey('hash')));
        const key = firstCalls[0]!;
        assert.match(key, /^[0-9a-f]{64}$/);
        assert.deepEqual(firstCalls, [key, key, key, key]);
        assert.equal(await store.catalogKey('hash'), key);
        assert.notEqual(await store.catalogKey('other'), key);
        assert.equal(await store.catalogKey('hash'), key);
      });

      test('two fresh catalogs never share a key', async () => {
        const other = await open();
        try {
          const [mine, theirs] = await Promise.all([store.catalogKey('hash'), other.catalogKey('hash')]);
          assert.notEqual(mine, theirs);
        } finally {
          await other.close();
        }
      });
    });

    describe('lineage', () => {
      test('apply stores lineage and replaceTaskLineage replaces only that task’s edges', async () => {
        await registerSampleTables();
        assert.deepEqual(await store.listLineage(), [summaryLineage[0], summaryLineage[1]]);

        const otherEdge: LineageEdge = {
          fromTable: 'clinical.patients',
          toTable: 'analytics.other',
          task: 'other',
        };
        await store.replaceTaskLineage('other', [otherEdge]);
        const refined: LineageEdge[] = [
          {
            fromTable: 'clinical.patients',
            fromColumn: 'age',
            toTable: 'analytics.summary',
            toColumn: 'mean_age',
            task: 'build_summary',
          },
        ];
        await store.replaceTaskLineage('build_summary', refined);
        const edges = await store.listLineage();
        assert.equal(edges.length, 2);
        assert.ok(edges.some((edge) => edge.task === 'other'));
        assert.deepEqual(
          edges.filter((edge) => edge.task === 'build_summary'),
          refined,
        );
        assert.ok(
          !('fromColumn' in edges.find((edge) => edge.task === 'other')!),
          'table-level edges have no columns',
        );

        await store.replaceTaskLineage('build_summary', []);
        assert.deepEqual(await store.listLineage(), [otherEdge]);
      });

      test('apply replaces the lineage of the tasks it names and keeps the others', async () => {
        await registerSampleTables();
        const otherEdge: LineageEdge = {
          fromTable: 'clinical.patients',
          toTable: 'analytics.other',
          task: 'other',
        };
        await store.replaceTaskLineage('other', [otherEdge]);
        const tableLevel = [summaryLineage[0]!];
        await store.applyDefinitions(changes({ upsertTasks: [buildSummary], lineage: tableLevel }));
        assert.deepEqual(await store.listLineage(), [...tableLevel, otherEdge]);
      });

      test('one apply of more rows than a statement may bind stores them all, and removes them all', async () => {
        // 14,000 edges × 5 columns = 70,000 parameters: past SQLite's 32,766 and PostgreSQL's 65,535.
        const count = 14_000;
        const tasks = Array.from({ length: count }, (_, index) =>
          projectionTask(`build_${index}`, `mart.t${index}`, 'select 1 as one'),
        );
        const edges: LineageEdge[] = tasks.map((task, index) => ({
          fromTable: `raw.t${index}`,
          fromColumn: 'id',
          toTable: task.target,
          toColumn: 'id',
          task: task.name,
        }));
        const owners = Array.from({ length: count }, (_, index) => ownerDef(`team_${index}`));
        await store.applyDefinitions(changes({ upsertTasks: tasks, lineage: edges, owners }));
        assert.equal((await store.listLineage()).length, count);
        const applied = await store.readDefinitions();
        assert.equal(applied.tasks.length, count);
        assert.equal(applied.owners.length, count);

        await store.applyDefinitions(changes({ removeTasks: tasks.map((task) => task.name) }));
        assert.deepEqual(await store.listLineage(), []);
        assert.deepEqual((await store.readDefinitions()).tasks, []);
      });
    });

    describe('monitoring', () => {
      const failure = (id: string, at: string, runId = 'r1'): MonitoringEvent => ({
        id,
        kind: 'task_failed',
        severity: 'error',
        table: 'clinical.patients',
        task: 'ingest_patients',
        runId,
        attempt: 1,
        cause: 'clinical.patients not published: column DOB missing in data/patients.csv',
        incidentKey: 'task:ingest_patients:task_failed',
        at,
      });
      const incident = (id: string, at: string): Incident => ({
        id,
        key: 'task:ingest_patients:task_failed',
        kind: 'task_failed',
        severity: 'error',
        table: 'clinical.patients',
        task: 'ingest_patients',
        cause: 'clinical.patients not published: column DOB missing in data/patients.csv',
        status: 'open',
        openedAt: at,
        notifiedAt: at,
        eventCount: 1,
      });
      const delivery = (id: string, incidentId: string, eventId: string, at: string): Delivery => ({
        id,
        incidentId,
        eventId,
        phase: 'opened',
        kind: 'task_failed',
        owner: 'clinical-data',
        table: 'clinical.patients',
        cause: 'clinical.patients not published: column DOB missing in data/patients.csv',
        channelIndex: 0,
        channelType: 'email',
        status: 'pending',
        attempts: 0,
        createdAt: at,
      });

      test('a run outcome and its events commit together; a failing update writes neither', async () => {
        await store.createRun(run('r1', 'ingest_patients', '2026-01-01T10:00:00.000Z'));
        await store.updateRun('r1', { status: 'failed', error: 'boom' }, [
          failure('e1', '2026-01-01T10:00:05Z'),
        ]);
        assert.equal((await store.getRun('r1'))?.status, 'failed');
        assert.deepEqual(await store.listPendingEvents(), [failure('e1', '2026-01-01T10:00:05.000Z')]);

        await assert.rejects(
          store.updateRun('missing', { status: 'failed' }, [failure('e2', '2026-01-01T10:00:06Z')]),
          NotFoundError,
        );
        assert.equal(await store.getEvent('e2'), undefined);
      });

      test('settling opens one incident per key, once per event, and joins later events to it', async () => {
        await store.recordEvents([
          failure('e1', '2026-01-01T10:00:00Z'),
          failure('e2', '2026-01-01T10:01:00Z'),
        ]);
        const opened = incident('i1', '2026-01-01T10:00:01.000Z');
        const settled = await store.settleEvent({
          eventId: 'e1',
          processedAt: '2026-01-01T10:00:01Z',
          change: { action: 'open', incident: opened },
          deliveries: [delivery('d1', 'i1', 'e1', '2026-01-01T10:00:01.000Z')],
        });
        assert.equal(settled, 'settled');
        // A second settlement of the same event (another process) writes nothing.
        assert.equal(
          await store.settleEvent({
            eventId: 'e1',
            processedAt: '2026-01-01T10:00:02Z',
            change: { action: 'open', incident: incident('i-dup', '2026-01-01T10:00:02.000Z') },
            deliveries: [delivery('d-dup', 'i-dup', 'e1', '2026-01-01T10:00:02.000Z')],
          }),
          'already-settled',
        );
        // Opening the same key again joins the open incident and sends nothing.
        assert.equal(
          await store.settleEvent({
            eventId: 'e2',
            processedAt: '2026-01-01T10:01:01Z',
            change: { action: 'open', incident: incident('i2', '2026-01-01T10:01:01.000Z') },
            deliveries: [delivery('d2', 'i2', 'e2', '2026-01-01T10:01:01.000Z')],
          }),
          'joined-open-incident',
        );
        assert.deepEqual(await store.listIncidents(), [{ ...opened, eventCount: 2 }]);
        assert.deepEqual(
          (await store.listDeliveries()).map((entry) => entry.id),
          ['d1'],
        );
        assert.deepEqual(await store.listPendingEvents(), []);
        assert.deepEqual(
          (await store.listEvents({ incidentId: 'i1' })).map((event) => event.id),
          ['e2', 'e1'],
        );
        assert.equal((await store.findOpenIncident(opened.key))?.id, 'i1');

        await store.recordEvents([
          { ...failure('e3', '2026-01-01T11:00:00Z'), kind: 'recovered', severity: 'info' },
        ]);
        await store.settleEvent({
          eventId: 'e3',
          processedAt: '2026-01-01T11:00:01Z',
          change: { action: 'resolve', incidentIds: ['i1'], resolvedAt: '2026-01-01T11:00:01Z' },
          deliveries: [],
        });
        assert.equal(await store.findOpenIncident(opened.key), undefined);
        assert.deepEqual(await store.listIncidents({ status: 'resolved' }), [
          { ...opened, eventCount: 2, status: 'resolved', resolvedAt: '2026-01-01T11:00:01.000Z' },
        ]);
      });

      test('a delivery is claimed by one sender at a time; a lapsed claim is taken over; attempts are recorded', async () => {
        await store.recordEvents([failure('e1', '2026-01-01T10:00:00Z')]);
        await store.settleEvent({
          eventId: 'e1',
          processedAt: '2026-01-01T10:00:01Z',
          change: { action: 'open', incident: incident('i1', '2026-01-01T10:00:01.000Z') },
          deliveries: [delivery('d1', 'i1', 'e1', '2026-01-01T10:00:01.000Z')],
        });
        const now = '2026-01-01T10:00:02.000Z';
        const first = await store.claimDueDeliveries(now, 'a', '2026-01-01T10:01:00.000Z', 10);
        assert.deepEqual(
          first.map((entry) => entry.id),
          ['d1'],
        );
        assert.deepEqual(await store.claimDueDeliveries(now, 'b', '2026-01-01T10:01:00.000Z', 10), []);
        // `a` died: once its claim lapses, `b` takes the delivery over.
        const later = '2026-01-01T10:02:00.000Z';
        assert.deepEqual(
          (await store.claimDueDeliveries(later, 'b', '2026-01-01T10:03:00.000Z', 10)).map(
            (entry) => entry.id,
          ),
          ['d1'],
        );
        await store.recordDeliveryAttempt('d1', {
          ok: false,
          at: later,
          error: 'SMTP 451 try later',
          retryAt: '2026-01-01T10:05:00.000Z',
        });
        assert.deepEqual(
          await store.claimDueDeliveries('2026-01-01T10:04:00.000Z', 'b', '2026-01-01T10:06:00Z', 10),
          [],
        );
        const retried = await store.claimDueDeliveries(
          '2026-01-01T10:05:00.000Z',
          'b',
          '2026-01-01T10:06:00Z',
          10,
        );
        assert.equal(retried[0]?.attempts, 1);
        await store.recordDeliveryAttempt('d1', { ok: true, at: '2026-01-01T10:05:01Z' });
        const [delivered] = await store.listDeliveries();
        assert.equal(delivered?.status, 'delivered');
        assert.equal(delivered?.attempts, 2);
        assert.equal(delivered?.deliveredAt, '2026-01-01T10:05:01.000Z');
        assert.equal(delivered?.lastError, undefined);
        assert.deepEqual(
          await store.claimDueDeliveries('2026-01-02T00:00:00Z', 'c', '2026-01-02T00:01:00Z', 10),
          [],
        );
      });

      test('a reminder is queued once even when two processes try', async () => {
        await store.recordEvents([failure('e1', '2026-01-01T10:00:00Z')]);
        await store.settleEvent({
          eventId: 'e1',
          processedAt: '2026-01-01T10:00:01Z',
          change: { action: 'open', incident: incident('i1', '2026-01-01T10:00:01.000Z') },
          deliveries: [],
        });
        const remind = (id: string): Promise<boolean> =>
          store.remindIncident('i1', '2026-01-01T10:00:01.000Z', '2026-01-01T14:00:01Z', [
            { ...delivery(id, 'i1', 'e1', '2026-01-01T14:00:01.000Z'), phase: 'reminder' },
          ]);
        assert.equal(await remind('r1'), true);
        assert.equal(await remind('r2'), false);
        assert.deepEqual(
          (await store.listDeliveries()).map((entry) => [entry.id, entry.phase]),
          [['r1', 'reminder']],
        );
        assert.equal((await store.getIncident('i1'))?.notifiedAt, '2026-01-01T14:00:01.000Z');
      });

      test('subscriptions are added, replaced and removed', async () => {
        await store.subscribe({
          table: 'analytics.summary',
          owner: 'ops',
          createdAt: '2026-01-01T10:00:00Z',
        });
        await store.subscribe({
          table: 'analytics.summary',
          owner: 'ops',
          events: ['upstream_failed', 'recovered'],
          createdAt: '2026-01-01T11:00:00Z',
        });
        await store.subscribe({
          table: 'clinical.patients',
          owner: 'ops',
          createdAt: '2026-01-01T10:00:00Z',
        });
        assert.deepEqual(await store.listSubscriptions('analytics.summary'), [
          {
            table: 'analytics.summary',
            owner: 'ops',
            events: ['upstream_failed', 'recovered'],
            createdAt: '2026-01-01T10:00:00.000Z',
          },
        ]);
        assert.equal(await store.unsubscribe('analytics.summary', 'ops'), true);
        assert.equal(await store.unsubscribe('analytics.summary', 'ops'), false);
        assert.deepEqual(
          (await store.listSubscriptions()).map((entry) => entry.table),
          ['clinical.patients'],
        );
      });
    });

    describe('git sync', () => {
      test('a fresh catalog has no sync state', async () => {
        assert.deepEqual(await store.readSyncStatus(), {});
      });

      test('the active and newest commits read back, each as last recorded', async () => {
        await store.recordSyncSeen('/srv/catalog.git#main', 'c1', '2026-11-01T00:00:00Z');
        await store.recordSyncActivated('c1', '2026-11-01T00:00:01Z');
        await store.recordSyncSeen('/srv/catalog.git#main', 'c2', '2026-11-01T00:00:30Z');
        assert.deepEqual(await store.readSyncStatus(), {
          source: '/srv/catalog.git#main',
          seenCommit: 'c2',
          seenAt: '2026-11-01T00:00:30.000Z',
          activeCommit: 'c1',
          activatedAt: '2026-11-01T00:00:01.000Z',
        });
      });

      test('a refusal is recorded with the events telling of it; the last one is shown', async () => {
        const refusal = (commit: string, refusedAt: string) => ({
          commit,
          authorName: 'Ada',
          authorEmail: 'ada@example.org',
          reason: 'schemas/patients.proto:3:1: error proto-syntax: illegal token',
          refusedAt,
        });
        const event: MonitoringEvent = {
          id: 'e-sync',
          kind: 'sync_refused',
          severity: 'error',
          cause: 'commit c3 refused',
          incidentKey: 'sync:c3',
          at: '2026-11-01T00:01:00.000Z',
          recipients: { owners: ['clinical-data'], emails: ['ada@example.org'] },
        };
        await store.recordSyncRefusal(refusal('c2', '2026-11-01T00:00:00Z'), []);
        await store.recordSyncRefusal(refusal('c3', '2026-11-01T00:01:00Z'), [event]);
        assert.deepEqual(
          (await store.readSyncStatus()).lastRefusal,
          refusal('c3', '2026-11-01T00:01:00.000Z'),
        );
        assert.deepEqual(await store.getEvent('e-sync'), event);
      });

      test('every definition records the commit of the apply that last changed it', async () => {
        await registerSampleTables();
        const changedSummary = tableDef('analytics.summary', {
          owner: 'analytics',
          fields: undefined,
          description: 'changed',
        });
        await store.applyDefinitions(
          changes({
            upsertTables: [{ def: changedSummary, fields: [] }],
            owners: [ownerDef('clinical-data'), { ...ownerDef('analytics'), members: ['new@example.org'] }],
            roles: [roleDef('analyst')],
            principals: [principalDef('bob@example.org')],
            gitCommit: 'def456',
          }),
        );
        assert.equal((await store.getTable('clinical.patients'))?.gitCommit, 'abc123');
        assert.equal((await store.getTable('analytics.summary'))?.gitCommit, 'def456');
      });
    });
  });
}
