import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import { PostgresCatalogStore } from '../../src/catalog/postgres-catalog-store.ts';
import { UsageError } from '../../src/diagnostics/index.ts';
import { requireService } from '../support/services.ts';
import { runCatalogStoreSuite } from './catalog-store-suite.ts';
import { changes, tableDef } from './definition-builders.ts';
import { postgresSchemaTemplate } from './migrated-catalog-templates.ts';

const url = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const address = new URL(url).host;

const postgres = await requireService(`PostgreSQL at ${address}`, async () => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => {});
  }
});

/**
 * Every store gets its own schema, so tests never see each other's rows; all are dropped at the end.
 * The suite's stores get empty migrated schemas made from one migrated template (a closed store's
 * schema emptied, or a clone); the tests below migrate fresh schemas.
 */
const schemas: string[] = [];
function freshSchema(): string {
  const schema = `tessera_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

async function dropSchemas(): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const schema of schemas.splice(0)) await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL catalog store', { skip: postgres.skip }, () => {
  const template = postgresSchemaTemplate(url);
  runCatalogStoreSuite(
    'PostgreSQL',
    () => template.open(),
    () => template.cleanup(),
  );

  describe('PostgresCatalogStore', () => {
    after(dropSchemas);

    test('two stores on one schema (two processes) publish concurrently without gaps or duplicates', async () => {
      const schemaUrl = `${url}?schema=${freshSchema()}`;
      const [first, second] = await Promise.all([openCatalogStore(schemaUrl), openCatalogStore(schemaUrl)]);
      try {
        const table = tableDef('clinical.patients');
        await first.applyDefinitions(
          changes({ upsertTables: [{ def: table, fields: table.schema!.fields, newSchemaVersion: 1 }] }),
        );
        const publish = (store: typeof first, runId: string) =>
          store.publishVersion({
            table: 'clinical.patients',
            schemaVersion: 1,
            rowCount: 1,
            bytes: 1,
            files: [],
            runId,
            task: 'ingest_patients',
            upstream: [],
            checks: [],
          });
        const published = await Promise.all(
          Array.from({ length: 20 }, (_, index) => publish(index % 2 ? first : second, `run-${index % 10}`)),
        );
        // Ten distinct runs, each published by both stores: ten versions, and both stores agree on each.
        const byRun = new Map<string, number>();
        for (const version of published) {
          assert.equal(byRun.get(version.runId) ?? version.version, version.version);
          byRun.set(version.runId, version.version);
        }
        assert.deepEqual(
          [...byRun.values()].sort((a, b) => a - b),
          [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        );
        assert.equal((await second.getTable('clinical.patients'))?.currentVersion, 10);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    test('two stores on one fresh schema (two processes) end up with one hash key', async () => {
      const schemaUrl = `${url}?schema=${freshSchema()}`;
      const [first, second] = await Promise.all([openCatalogStore(schemaUrl), openCatalogStore(schemaUrl)]);
      try {
        const keys = await Promise.all(
          [first, second, first, second].map((store) => store.catalogKey('hash')),
        );
        assert.equal(new Set(keys).size, 1);
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    test('the catalog lives only in the named schema', async () => {
      const schema = freshSchema();
      const store = await openCatalogStore(`${url}?schema=${schema}`);
      await store.close();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ table_name: string }>(
          'select table_name from information_schema.tables where table_schema = $1 order by table_name',
          [schema],
        );
        assert.ok(rows.some((row) => row.table_name === 'versions'));
        assert.ok(rows.some((row) => row.table_name === 'kysely_migration'));
      } finally {
        await client.end();
      }
    });

    test('a schema name that is not a plain identifier is refused', () => {
      assert.throws(() => new PostgresCatalogStore({ url, schema: 'x"; drop table y; --' }), UsageError);
    });
  });
});
