// An empty source never replaces a table with nothing; for append and merge it is "nothing new".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import type { Run } from '../../src/model/index.ts';
import { writeFiles, writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

function repoWith(
  mode: string,
  taskExtra = '',
  source = '{ type: csv, uri: items.csv }',
): Record<string, string> {
  return {
    'tessera.yaml': 'name: empties\n',
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
---
kind: table
name: ops.totals
owner: ops
`,
    'tasks/t.yaml': `kind: task
name: load_items
type: ingestion
target: ops.items
source: ${source}
mode: ${mode}
${taskExtra}---
kind: task
name: sum_items
type: projection
target: ops.totals
sql: select count(*) as n, sum(qty) as qty from ops.items
`,
  };
}

async function applied(files: Record<string, string>): Promise<string> {
  const repo = await writeRepo(files);
  const platform = await Platform.open({ repo });
  await platform.apply();
  await platform.close();
  return repo;
}

/** Write the source file(s) and run the ingestion and its downstream, as `tessera run load_items` does. */
async function load(repo: string, files: Record<string, string>): Promise<Run[]> {
  await writeFiles(repo, files);
  const platform = await Platform.open({ repo });
  try {
    return await platform.run({ tasks: ['load_items'] });
  } finally {
    await platform.close();
  }
}

async function inspect<T>(repo: string, look: (platform: Platform) => Promise<T>): Promise<T> {
  const platform = await Platform.open({ repo });
  try {
    return await look(platform);
  } finally {
    await platform.close();
  }
}

test('replace with a header-only CSV fails saying the source was empty; the previous version stays current and readable', async () => {
  const repo = await applied(repoWith('replace'));
  assert.equal((await load(repo, { 'items.csv': 'id,qty\na,1\nb,2\n' }))[0]!.status, 'succeeded');

  const [run, downstream] = await load(repo, { 'items.csv': 'id,qty\n' });
  assert.equal(run!.status, 'failed');
  assert.match(
    run!.error ?? '',
    /source items\.csv of task load_items was empty \(no rows\).*ops\.items version 1 stays current.*set allow_empty: true on task load_items/,
  );
  assert.equal(downstream!.task, 'sum_items');
  assert.equal(downstream!.status, 'skipped');

  await inspect(repo, async (platform) => {
    assert.equal((await internalsOf(platform).store.getCurrentVersion('ops.items'))?.version, 1);
    assert.equal((await internalsOf(platform).store.listVersions('ops.items')).length, 1);
    assert.deepEqual((await platform.query('select id, qty from ops.items order by id')).rows, [
      { id: 'a', qty: 1 },
      { id: 'b', qty: 2 },
    ]);
    assert.equal(
      existsSync(internalsOf(platform).storage.localPath(`ops/items/${run!.id}`)),
      false,
      'nothing staged remains',
    );
  });
});

for (const [what, json] of [
  ['an empty JSON array', '[]\n'],
  ['an empty JSON object', '{}\n'],
]) {
  test(`replace with ${what} fails the same way, even before any version exists`, async () => {
    const repo = await applied(repoWith('replace', '', '{ type: json, uri: items.json }'));
    const [run] = await load(repo, { 'items.json': json! });
    assert.equal(run!.status, 'failed');
    assert.match(
      run!.error ?? '',
      /source items\.json of task load_items was empty.*ops\.items has no version yet/,
    );
    assert.equal(
      await inspect(repo, (platform) => internalsOf(platform).store.getCurrentVersion('ops.items')),
      undefined,
    );
  });
}

test('allow_empty: true lets replace publish an empty version', async () => {
  const repo = await applied(repoWith('replace', 'allow_empty: true\n'));
  await load(repo, { 'items.csv': 'id,qty\na,1\n' });
  const [run, downstream] = await load(repo, { 'items.csv': 'id,qty\n' });
  assert.equal(run!.status, 'succeeded', run!.error);
  assert.deepEqual(run!.published, { table: 'ops.items', version: 2 });
  assert.equal(run!.rowsWritten, 0);
  assert.equal(downstream!.status, 'succeeded');
  await inspect(repo, async (platform) => {
    assert.deepEqual((await platform.query('select id from ops.items')).rows, []);
    assert.deepEqual((await platform.query('select n from ops.totals')).rows, [{ n: 0 }]);
  });
});

test("allow_empty with JSON that has no records publishes an empty version with the schema's columns", async () => {
  const repo = await applied(repoWith('replace', 'allow_empty: true\n', '{ type: json, uri: items.json }'));
  const [run] = await load(repo, { 'items.json': '[]\n' });
  assert.equal(run!.status, 'succeeded', run!.error);
  assert.equal(run!.rowsWritten, 0);
  await inspect(repo, async (platform) => {
    const result = await platform.query('select id, qty from ops.items');
    assert.deepEqual(result.rows, []);
    assert.deepEqual(
      result.columns.map((column) => column.name),
      ['id', 'qty'],
    );
  });
});

for (const mode of ['append', 'merge']) {
  test(`${mode} with an empty file ends skipped with the reason, publishes nothing and runs nothing downstream`, async () => {
    const repo = await applied(repoWith(mode));
    await load(repo, { 'items.csv': 'id,qty\na,1\n' });
    const [run, downstream] = await load(repo, { 'items.csv': 'id,qty\n' });
    assert.equal(run!.status, 'skipped');
    assert.match(run!.error ?? '', /nothing new: the source items\.csv of task load_items was empty/);
    assert.equal(run!.published, undefined);
    assert.equal(downstream!.status, 'skipped');
    assert.match(downstream!.error ?? '', /upstream task load_items/);
    await inspect(repo, async (platform) => {
      assert.equal((await internalsOf(platform).store.listVersions('ops.items')).length, 1);
      assert.equal((await internalsOf(platform).store.listVersions('ops.totals')).length, 1);
      assert.equal((await internalsOf(platform).store.getRun(run!.id))?.status, 'skipped');
      assert.deepEqual((await platform.query('select id, qty from ops.items')).rows, [{ id: 'a', qty: 1 }]);
    });
  });
}

test('tessera run: nothing new is not a failure (exit 0); an empty replace is (exit 1)', async () => {
  const repo = await applied(repoWith('append'));
  await writeFiles(repo, { 'items.csv': 'id,qty\n' });
  const skipped = await tesseraInProcess(['--repo', repo, 'run', 'load_items']);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stdout, /load_items \(skipped\): nothing new/);

  await writeFiles(repo, repoWith('replace'));
  assert.equal((await tesseraInProcess(['--repo', repo, 'apply'])).code, 0);
  const failed = await tesseraInProcess(['--repo', repo, 'run', 'load_items']);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /was empty/);
});
