// Read-only catalog commands (`tables`, `show`, `versions`, `lineage`) open the catalog alone: they
// answer from what was applied while the repo's definitions have errors, which commands that change
// or run anything still refuse. And they start light: only tessera.yaml and the catalog store.
// What they answer is checked in-process (`main()`, no TypeScript loader per call); what `tables`
// loads is checked on the real executable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFiles, writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { tesseraRecordingModules } from '../support/module-recording-cli.ts';

const repoFiles = {
  'tessera.yaml': 'name: inventory\n',
  'owners/ops.yaml': 'kind: owner\nname: ops\nmembers: [ops@example.org]\n',
  'schemas/ops.proto': `syntax = "proto3";
package ops;
import "tessera/options.proto";

message Item {
  string sku = 1 [(tessera.field) = { primary_key: true }];
  int64 count = 2;
}
`,
  'tables/items.yaml': `kind: table
name: ops.items
owner: ops
description: Items on hand.
schema: schemas/ops.proto#ops.Item
---
kind: table
name: ops.totals
owner: ops
`,
  'tasks/tasks.yaml': `kind: task
name: load_items
type: ingestion
target: ops.items
source: { type: csv, uri: incoming/items.csv }
---
kind: task
name: build_totals
type: projection
target: ops.totals
sql: select count(*) as items from ops.items
`,
  'incoming/items.csv': 'sku,count\nA,1\nB,2\n',
};

test('tables, show and lineage answer from the catalog while the repo has a broken definition', async () => {
  const repo = await writeRepo(repoFiles);
  const apply = await tesseraInProcess(['apply'], { cwd: repo });
  assert.equal(apply.code, 0, apply.stdout + apply.stderr);
  await writeFiles(repo, { 'tables/broken.yaml': 'kind: table\nname: ops.broken\nowner: nobody\n' });

  const plan = await tesseraInProcess(['plan'], { cwd: repo });
  assert.equal(plan.code, 2, 'a command that needs the definitions refuses them');
  assert.match(plan.stderr, /nobody/);

  const tables = await tesseraInProcess(['--json', 'tables'], { cwd: repo });
  assert.equal(tables.code, 0, tables.stderr);
  assert.deepEqual(
    (JSON.parse(tables.stdout) as { name: string }[]).map((table) => table.name),
    ['ops.items', 'ops.totals'],
  );
  const search = await tesseraInProcess(['--json', 'tables', '--search', 'ON HAND'], { cwd: repo });
  assert.deepEqual(
    (JSON.parse(search.stdout) as { name: string }[]).map((table) => table.name),
    ['ops.items'],
  );

  const show = await tesseraInProcess(['show', 'ops.items'], { cwd: repo });
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /none published yet/);

  const lineage = await tesseraInProcess(['--json', 'lineage', 'ops.totals', '--upstream'], { cwd: repo });
  assert.equal(lineage.code, 0, lineage.stderr);
  assert.deepEqual(JSON.parse(lineage.stdout), {
    table: 'ops.totals',
    upstream: [{ fromTable: 'ops.items', toTable: 'ops.totals', task: 'build_totals' }],
    downstream: [],
  });
});

test('a read-only command on an unknown table is not_found, and a broken tessera.yaml still stops it', async () => {
  const repo = await writeRepo(repoFiles);
  assert.equal((await tesseraInProcess(['apply'], { cwd: repo })).code, 0);
  const missing = await tesseraInProcess(['versions', 'ops.nothing'], { cwd: repo });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^error\[not_found\]: table ops\.nothing not found/);

  await writeFiles(repo, { 'tessera.yaml': 'name: inventory\ncatalog: mysql://nowhere\n' });
  const tables = await tesseraInProcess(['tables'], { cwd: repo });
  assert.equal(tables.code, 2, tables.stdout);
  assert.match(tables.stderr, /`catalog` must be `sqlite:PATH`/);
});

/** What `tessera tables` must not load: the whole platform, the definitions loader, engines, zod, pg. */
const NOT_FOR_READING = [
  /\/src\/platform\.ts$/,
  /\/src\/definitions\/definitions-loader\.ts$/,
  /\/src\/(orchestrator|runner|engines|read-path|governance|sql)\//,
  /\/node_modules\/(@duckdb|zod|pg|protobufjs)\//,
];

test('tables loads the catalog store alone: not the platform, the definitions, an engine, zod or pg', async () => {
  const repo = await writeRepo(repoFiles);
  assert.equal((await tesseraInProcess(['apply'], { cwd: repo })).code, 0);
  const result = await tesseraRecordingModules(['tables'], { cwd: repo });
  const modules = result.modules;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /ops\.items/);
  assert.ok(
    modules.some((url) => url.endsWith('/src/platform/catalog-browser.ts')),
    'the hook saw the catalog browser load (else this test proves nothing)',
  );
  assert.deepEqual(
    [...new Set(modules.filter((url) => NOT_FOR_READING.some((pattern) => pattern.test(url))))],
    [],
  );
});
