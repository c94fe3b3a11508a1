import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import { runCatalogStoreSuite } from './catalog-store-suite.ts';
import { changes, tableDef } from './definition-builders.ts';
import { sqliteFileTemplate } from './migrated-catalog-templates.ts';

// Each test's catalog file is a copy of one migrated template; the tests below migrate fresh files.
const template = sqliteFileTemplate(mkdtempSync(join(tmpdir(), 'tessera-sqlite-catalog-')));
runCatalogStoreSuite(
  'SQLite file',
  () => template.open(),
  () => template.cleanup(),
);

runCatalogStoreSuite('SQLite in memory', () => openCatalogStore('sqlite::memory:'));

describe('SqliteCatalogStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-sqlite-catalog-processes-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('openCatalogStore creates the parent folders of the database file and uses WAL', async () => {
    const path = join(dir, 'nested', 'deeper', 'catalog.db');
    const store = await openCatalogStore(`sqlite:${path}`);
    await store.close();
    const database = new Database(path, { readonly: true });
    assert.equal(database.pragma('journal_mode', { simple: true }), 'wal');
    database.close();
    const reopened = await openCatalogStore(`sqlite:${path}`);
    assert.deepEqual((await reopened.readDefinitions()).tables, []);
    await reopened.close();
  });

  test('two stores on one fresh catalog file asking for the hash key at once end up with one key', async () => {
    const path = join(dir, 'keys', 'catalog.db');
    // Opened one after the other: better-sqlite3 blocks the event loop while it waits for a lock,
    // so two connections migrating at once in one process would wait for each other.
    const first = await openCatalogStore(`sqlite:${path}`);
    const second = await openCatalogStore(`sqlite:${path}`);
    try {
      const keys = await Promise.all([first, second, first, second].map((store) => store.catalogKey('hash')));
      assert.equal(new Set(keys).size, 1);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  test('three processes migrating and publishing to one file at once number versions without gaps', async () => {
    const path = join(dir, 'shared', 'catalog.db');
    const setup = await openCatalogStore(`sqlite:${path}`);
    const table = tableDef('clinical.patients');
    await setup.applyDefinitions(
      changes({ upsertTables: [{ def: table, fields: table.schema!.fields, newSchemaVersion: 1 }] }),
    );
    await setup.close();

    const publisher = fileURLToPath(new URL('./sqlite-publisher.fixture.ts', import.meta.url));
    const publishes = 60;
    await Promise.all(['a', 'b', 'c'].map((name) => runProcess(publisher, [path, name, String(publishes)])));

    const store = await openCatalogStore(`sqlite:${path}`);
    const versions = await store.listVersions('clinical.patients');
    await store.close();
    assert.equal(versions.length, 3 * publishes);
    assert.deepEqual(
      versions.map((version) => version.version),
      Array.from({ length: 3 * publishes }, (_, index) => 3 * publishes - index),
    );
    assert.equal(new Set(versions.map((version) => version.runId)).size, 3 * publishes);
  });
});

function runProcess(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${script} ${args.join(' ')} exited ${code}: ${stderr}`)),
    );
  });
}
