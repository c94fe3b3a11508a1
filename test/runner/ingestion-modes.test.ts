// Append, merge and replace across versions, retention, and a failed check keeping the last good version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HeldReadLease } from '../../src/catalog/index.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { writeFiles, writeRepo } from '../support/cli.ts';

function repoWith(mode: string, extra = ''): Record<string, string> {
  return {
    'tessera.yaml': 'name: modes\n',
    'owners/o.yaml': 'kind: owner\nname: ops\n',
    'schemas/s.proto': `syntax = "proto3";
package ops;
import "tessera/options.proto";
message Item {
  string id = 1 [(tessera.field) = { primary_key: true }];
  int64 qty = 2;
}
`,
    'tables/t.yaml': `kind: table
name: ops.items
owner: ops
schema: schemas/s.proto#ops.Item
retention: { keep_versions: 2 }
validations:
  - expect_column_values_to_be_between: { column: qty, min_value: 0 }
${extra}`,
    'tasks/t.yaml': `kind: task
name: load_items
type: ingestion
target: ops.items
source: { type: csv, uri: items.csv }
mode: ${mode}
`,
  };
}

async function load(repo: string, csv: string): Promise<{ status: string; error?: string }> {
  await writeFiles(repo, { 'items.csv': csv });
  const platform = await Platform.open({ repo });
  try {
    const [run] = await platform.run({ tasks: ['load_items'] });
    return run!;
  } finally {
    await platform.close();
  }
}

async function rows(repo: string, sql = 'select id, qty from ops.items order by id'): Promise<unknown[]> {
  const platform = await Platform.open({ repo });
  try {
    return (await platform.query(sql)).rows;
  } finally {
    await platform.close();
  }
}

async function applied(files: Record<string, string>): Promise<string> {
  const repo = await writeRepo(files);
  const platform = await Platform.open({ repo });
  await platform.apply();
  await platform.close();
  return repo;
}

test('append adds rows to the previous version without rewriting its files', async () => {
  const repo = await applied(repoWith('append'));
  assert.equal((await load(repo, 'id,qty\na,1\nb,2\n')).status, 'succeeded');
  assert.equal((await load(repo, 'id,qty\nc,3\n')).status, 'succeeded');
  assert.deepEqual(await rows(repo), [
    { id: 'a', qty: 1 },
    { id: 'b', qty: 2 },
    { id: 'c', qty: 3 },
  ]);
  const platform = await Platform.open({ repo });
  const [second, first] = await internalsOf(platform).store.listVersions('ops.items');
  await platform.close();
  assert.deepEqual(
    second!.files.slice(0, first!.files.length),
    first!.files,
    'version 2 reuses version 1 files',
  );
});

test('merge upserts on the primary key', async () => {
  const repo = await applied(repoWith('merge'));
  await load(repo, 'id,qty\na,1\nb,2\n');
  assert.equal((await load(repo, 'id,qty\nb,20\nc,30\n')).status, 'succeeded');
  assert.deepEqual(await rows(repo), [
    { id: 'a', qty: 1 },
    { id: 'b', qty: 20 },
    { id: 'c', qty: 30 },
  ]);
});

test('a merge run quarantines beside its version file, and retention deletes its quarantine with it', async () => {
  const files = repoWith('merge');
  files['tasks/t.yaml'] += 'bad_rows: { action: quarantine, max_fraction: 0.5 }\n';
  const repo = await applied(files);
  for (const qty of [1, 2, 3]) {
    assert.equal((await load(repo, `id,qty\na,${qty}\nb,${qty}\nbad,lots\n`)).status, 'succeeded');
  }
  const platform = await Platform.open({ repo });
  const versions = await internalsOf(platform).store.listVersions('ops.items');
  const table = join(repo, '.tessera', 'warehouse', 'ops', 'items');
  await platform.close();
  const kept = versions.map((version) => version.files[0]!.split('/').slice(-2, -1)[0]!).sort();
  assert.deepEqual(
    (await readdir(table)).sort(),
    kept,
    'the expired run folder is gone, quarantine included',
  );
  for (const folder of kept) {
    assert.deepEqual((await readdir(join(table, folder))).sort(), [
      'part-0.parquet',
      'part-0.quarantine.parquet',
    ]);
  }
});

test('retention keeps keep_versions versions and deletes only unreferenced files', async () => {
  const repo = await applied(repoWith('replace'));
  for (const qty of [1, 2, 3]) assert.equal((await load(repo, `id,qty\na,${qty}\n`)).status, 'succeeded');
  const platform = await Platform.open({ repo });
  const versions = await internalsOf(platform).store.listVersions('ops.items');
  assert.deepEqual(
    versions.map((version) => version.version),
    [3, 2],
  );
  const storage = internalsOf(platform).storage;
  await platform.close();
  for (const version of versions)
    for (const file of version.files) assert.ok(existsSync(storage.localPath(file)));
  assert.deepEqual(await rows(repo, 'select qty from ops.items at (version => 2)'), [{ qty: 2 }]);
  await assert.rejects(rows(repo, 'select qty from ops.items at (version => 1)'), /not found/);
});

test('retention leaves the files a reader elsewhere still reads, and deletes them once it is done', async () => {
  const repo = await applied(repoWith('replace'));
  for (const qty of [1, 2]) assert.equal((await load(repo, `id,qty\na,${qty}\n`)).status, 'succeeded');
  // Another reader of the same catalog (as another process would be) holds version 1.
  const reader = await Platform.open({ repo });
  try {
    const lease = await HeldReadLease.acquire(internalsOf(reader).store, [
      { table: 'ops.items', version: 1 },
    ]);
    assert.ok(lease);
    const [file] = lease.files;
    const path = internalsOf(reader).storage.localPath(file!);

    assert.equal((await load(repo, 'id,qty\na,3\n')).status, 'succeeded');
    assert.deepEqual(
      (await internalsOf(reader).store.listVersions('ops.items')).map((version) => version.version),
      [3, 2],
      'version 1 is no longer listed',
    );
    assert.ok(existsSync(path), 'but its file stays while it is read');
    const session = await (await internalsOf(reader).engine()).openSession();
    try {
      assert.deepEqual((await session.query(`select qty from read_parquet('${path}')`)).rows, [{ qty: 1 }]);
    } finally {
      session.close();
    }
    const [run] = await internalsOf(reader).store.listRuns({ limit: 1 });
    const log = (await internalsOf(reader).store.readRunLog(run!.id)).map((line) => line.message).join('\n');
    assert.match(log, /1 file\(s\) still being read; deleted by a later run/);
    assert.deepEqual(await internalsOf(reader).store.listDeferredDeletions('ops.items'), [file]);

    await lease.release();
    const version2 = (await internalsOf(reader).store.getVersion('ops.items', 2))!;
    assert.equal((await load(repo, 'id,qty\na,4\n')).status, 'succeeded');
    assert.equal(existsSync(path), false, 'deleted by the next run once released');
    assert.equal(existsSync(internalsOf(reader).storage.localPath(version2.files[0]!)), false);
    assert.deepEqual(await internalsOf(reader).store.listDeferredDeletions('ops.items'), []);
  } finally {
    await reader.close();
  }
});

test('a failed error check publishes nothing, removes the staged files and names the check', async () => {
  const repo = await applied(repoWith('replace'));
  await load(repo, 'id,qty\na,1\n');
  const run = await load(repo, 'id,qty\na,-5\n');
  assert.equal(run.status, 'failed');
  assert.match(run.error ?? '', /expect_column_values_to_be_between on qty/);
  assert.deepEqual(await rows(repo), [{ id: 'a', qty: 1 }]);
  const platform = await Platform.open({ repo });
  const [failed] = await internalsOf(platform).store.listRuns({ status: 'failed' });
  const staged = internalsOf(platform).storage.localPath(`ops/items/${failed!.id}`);
  await platform.close();
  assert.equal(existsSync(staged), false, 'the failed run left no files behind');
});

test('a warn check publishes and records the failure on the version', async () => {
  const repo = await applied(
    repoWith('replace', '  - sql: "select * from {{ this }} where qty > 100"\n    severity: warn\n'),
  );
  const run = await load(repo, 'id,qty\na,500\n');
  assert.equal(run.status, 'succeeded');
  const platform = await Platform.open({ repo });
  const current = await internalsOf(platform).store.getCurrentVersion('ops.items');
  await platform.close();
  const warned = current!.checks.find((check) => check.expectation === 'sql');
  assert.equal(warned?.success, false);
  assert.equal(warned?.severity, 'warn');
  assert.equal(warned?.unexpectedCount, 1);
});

test('check runs the validations against the current version and publishes nothing', async () => {
  const repo = await applied(repoWith('replace'));
  await load(repo, 'id,qty\na,1\nb,200\n');
  await writeFiles(repo, {
    'tables/t.yaml': repoWith('replace')['tables/t.yaml']!.replace(
      'min_value: 0',
      'min_value: 0, max_value: 100',
    ),
  });
  const platform = await Platform.open({ repo });
  try {
    const { version, checks } = await platform.check('ops.items');
    assert.equal(version.version, 1);
    const between = checks.find((check) => check.expectation === 'expect_column_values_to_be_between');
    assert.equal(between?.success, false);
    assert.equal(between?.unexpectedCount, 1);
    assert.equal((await internalsOf(platform).store.listVersions('ops.items')).length, 1);
  } finally {
    await platform.close();
  }
});
