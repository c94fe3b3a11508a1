import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { runTask } from '../../src/runner/index.ts';
import { writeRepo } from '../support/cli.ts';

const REPO = {
  'tessera.yaml': 'name: unexpected\n',
  'owners/o.yaml': 'kind: owner\nname: ops\n',
  'schemas/s.proto': `syntax = "proto3";
package ops;
import "tessera/options.proto";
message Item {
  string id = 1 [(tessera.field) = { primary_key: true }];
  int64 qty = 2;
}
`,
  'tables/t.yaml': 'kind: table\nname: ops.items\nowner: ops\nschema: schemas/s.proto#ops.Item\n',
  'tasks/t.yaml':
    'kind: task\nname: load_items\ntype: ingestion\ntarget: ops.items\nsource: { type: csv, uri: items.csv }\n',
  'items.csv': 'id,qty\na,1\n',
};

test('a bug inside a run fails the run with a one-line log entry and no stack trace', async () => {
  const repo = await writeRepo(REPO);
  const platform = await Platform.open({ repo });
  try {
    await platform.apply();
    const context = await internalsOf(platform).runContext();
    // The real local storage, broken the way a bug would break it: a plain Error, not a TesseraError.
    const storage = Object.create(context.storage) as typeof context.storage;
    storage.commitFile = () => Promise.reject(new Error('storage exploded'));
    const run = await runTask({ ...context, storage }, 'load_items');

    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /storage exploded/);
    const log = await internalsOf(platform).store.readRunLog(run.id);
    const text = log.map((line) => line.message).join('\n');
    assert.match(text, /unexpected error, a bug in Tessera .*storage exploded/);
    assert.doesNotMatch(text, /\n\s+at /, 'no stack frame in the run log');
    assert.doesNotMatch(text, /task-runner\.ts/, 'no source location in the run log');
    assert.equal(
      await internalsOf(platform).store.getCurrentVersion('ops.items'),
      undefined,
      'nothing published',
    );
  } finally {
    await platform.close();
  }
});
