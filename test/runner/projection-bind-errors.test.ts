// A projection that fails to bind at run time (its SQL changed under an applied catalog) names the
// place in its own .sql file, as `tessera validate` does, not a position in the SQL the runner
// rewrote to read the versions' files.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { runTask } from '../../src/runner/index.ts';
import { writeRepo } from '../support/cli.ts';

const repoFiles = {
  'tessera.yaml': 'name: inventory\n',
  'owners/ops.yaml': 'kind: owner\nname: ops\nmembers: [ops@example.org]\n',
  'schemas/ops.proto': `syntax = "proto3";
package ops;
import "tessera/options.proto";

message Item {
  string sku = 1 [(tessera.field) = { primary_key: true }];
  string display_name = 2;
}
`,
  'tables/tables.yaml': `kind: table
name: ops.items
owner: ops
schema: schemas/ops.proto#ops.Item
---
kind: table
name: ops.names
owner: ops
`,
  'tasks/tasks.yaml': `kind: task
name: load_items
type: ingestion
target: ops.items
source: { type: csv, uri: incoming/items.csv }
---
kind: task
name: build_names
type: projection
target: ops.names
sql: sql/names.sql
`,
  'sql/names.sql': 'select sku,\n  display_name as name\nfrom ops.items\n',
  'incoming/items.csv': 'sku,display_name\nA,Apple\n',
};

test('a bind error at run time is reported at its line and column in the .sql file', async () => {
  const repo = await writeRepo(repoFiles);
  const platform = await Platform.open({ repo });
  try {
    await platform.apply();
    const [loaded] = await platform.run({ tasks: ['load_items'], downstream: false });
    assert.equal(loaded?.status, 'succeeded', loaded?.error);
    const context = await internalsOf(platform).runContext();
    const edited = (sql: string, sqlFile?: string) => ({
      ...context,
      definitions: {
        ...context.definitions,
        tasks: context.definitions.tasks.map((task) =>
          task.name === 'build_names' ? { ...task, sql, sqlFile } : task,
        ),
      },
    });
    const fromFile = await runTask(
      edited('select sku,\n  p.displayname as name\nfrom ops.items p\n', 'sql/names.sql'),
      'build_names',
    );
    assert.equal(fromFile.status, 'failed');
    assert.equal(
      fromFile.error,
      'task build_names: sql/names.sql:2:3: Binder Error: Table "p" does not have a column named "displayname"',
    );
    const inline = await runTask(edited('select sku, nme from ops.items'), 'build_names');
    assert.equal(
      inline.error,
      'task build_names: tasks/tasks.yaml (its `sql`, line 1, column 13): Binder Error: Referenced column "nme" not found in FROM clause!',
    );
  } finally {
    await platform.close();
    await rm(repo, { recursive: true, force: true });
  }
});
