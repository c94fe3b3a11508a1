// Rolling a table back: a new version listing an older version's files, retention that keeps them,
// downstream triggered, the run and the audit entry recorded, and refusals that say what to do.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { NotFoundError, UsageError } from '../../src/diagnostics/errors.ts';
import { writeFiles, writeRepo } from '../support/cli.ts';

const PROTO = (extra = '') => `syntax = "proto3";
package lab;
import "tessera/options.proto";

// One measurement.
message Result {
  string sample_id = 1 [(tessera.field) = { primary_key: true }];
  int64 value = 2;${extra}
}
`;

const TABLES = (schemaVersion = '') => `kind: table
name: lab.results
owner: lab
schema: schemas/lab.proto#lab.Result
retention: { keep_versions: 2 }${schemaVersion}
---
kind: table
name: lab.total
owner: lab
`;

async function labRepo(): Promise<string> {
  return writeRepo({
    'tessera.yaml': 'name: lab\n',
    'owners/lab.yaml': 'kind: owner\nname: lab\nmembers: [lab@example.org]\n',
    'schemas/lab.proto': PROTO(),
    'tables/lab.yaml': TABLES(),
    'tasks/lab.yaml': `kind: task
name: load_results
type: ingestion
target: lab.results
source: { type: csv, uri: data/results.csv }
---
kind: task
name: build_total
type: projection
target: lab.total
sql: select count(*) as samples, sum(value) as total from lab.results
`,
    'data/results.csv': 'sample_id,value\nS1,1\n',
  });
}

async function open(t: TestContext, repo: string): Promise<Platform> {
  const platform = await Platform.open({ repo });
  t.after(() => platform.close());
  await platform.apply();
  return platform;
}

/** Publish one version of lab.results per CSV content, each followed by build_total. */
async function publish(platform: Platform, repo: string, contents: string[]): Promise<void> {
  for (const content of contents) {
    await writeFiles(repo, { 'data/results.csv': `sample_id,value\n${content}` });
    const runs = await platform.run({ tasks: ['load_results'] });
    assert.ok(
      runs.every((run) => run.status === 'succeeded'),
      JSON.stringify(runs),
    );
  }
}

test('rollback publishes a new version with the old files, keeps them through retention and triggers downstream', async (t) => {
  const repo = await labRepo();
  const platform = await open(t, repo);
  await publish(platform, repo, ['S1,1\n', 'S1,10\nS2,20\n', 'S1,100\nS2,200\nS3,300\n']);
  const { store, storage } = internalsOf(platform);
  const before = await store.listVersions('lab.results');
  assert.deepEqual(
    before.map((version) => version.version),
    [3, 2],
    'keep_versions: 2 removed version 1',
  );
  const [v3, v2] = before as [(typeof before)[0], (typeof before)[0]];

  const outcome = await platform.rollback('lab.results', 2, { principal: 'ops@example.org' });
  assert.equal(outcome.from, 3);
  assert.equal(outcome.version.version, 4);
  assert.deepEqual(outcome.version.files, v2.files, 'the same files: nothing copied');
  assert.equal(outcome.version.rowCount, 2);
  assert.equal(outcome.run.status, 'succeeded');
  assert.equal(outcome.run.task, 'load_results');
  assert.equal(outcome.run.trigger, 'rollback:lab.results@2');
  assert.deepEqual(outcome.run.published, { table: 'lab.results', version: 4 });

  // Retention (keep 2) dropped version 2 from the history, but its files are version 4's now.
  const after = await store.listVersions('lab.results');
  assert.deepEqual(
    after.map((version) => version.version),
    [4, 3],
  );
  for (const file of v2.files) assert.ok(existsSync(storage.localPath(file)), `${file} is kept`);
  for (const file of v3.files) assert.ok(existsSync(storage.localPath(file)), `${file} is kept`);

  const results = await platform.query('select sample_id, value from lab.results order by 1');
  assert.deepEqual(results.rows, [
    { sample_id: 'S1', value: 10 },
    { sample_id: 'S2', value: 20 },
  ]);

  assert.equal(outcome.downstream.ended, true);
  assert.deepEqual(
    outcome.downstream.runs.map((run) => `${run.task} ${run.status} ${run.trigger}`),
    ['build_total succeeded upstream:lab.results@4'],
  );
  const total = await platform.query('select samples, total from lab.total');
  assert.deepEqual(total.rows, [{ samples: 2, total: 30 }]);

  const log = await platform.catalog.runLog(outcome.run.id);
  assert.deepEqual(
    log.map((line) => line.message),
    [
      `rollback of lab.results from version 3 to version 2 (2 rows, published ${v2.publishedAt} by run ${v2.runId})`,
      'published lab.results version 4: the files of version 2, nothing copied',
      'retention: removed version(s) 2 of lab.results',
    ],
  );
  const [audited] = await platform.auditLog({ principal: 'ops@example.org' });
  assert.equal(audited?.sql, 'tessera rollback lab.results --to 2');
  assert.equal(audited?.outcome, 'allowed');
  assert.deepEqual(audited?.tables, ['lab.results']);

  // Rolling forward again is a rollback too: version 3's files come back as version 5.
  const forward = await platform.rollback('lab.results', 3);
  assert.deepEqual(forward.version.files, v3.files);
  for (const file of v2.files) assert.ok(existsSync(storage.localPath(file)), 'version 4 still lists it');
});

test('rollback refuses an unknown table or version, the current version and another schema version', async (t) => {
  const repo = await labRepo();
  const first = await open(t, repo);
  await publish(first, repo, ['S1,1\n', 'S1,2\n']);

  const refusals: [string, number, typeof NotFoundError | typeof UsageError, string][] = [
    [
      'lab.result',
      1,
      NotFoundError,
      'unknown table lab.result (did you mean `lab.results`?); `tessera tables` lists them',
    ],
    [
      'lab.results',
      7,
      NotFoundError,
      'table lab.results has no version 7 (kept: 2, 1); `tessera versions lab.results` lists them',
    ],
    [
      'lab.results',
      2,
      UsageError,
      'version 2 is already the current version of lab.results; nothing to roll back',
    ],
  ];
  for (const [table, version, kind, message] of refusals) {
    await assert.rejects(first.rollback(table, version), (error: unknown) => {
      assert.ok(error instanceof kind, String(error));
      assert.equal((error as Error).message, message);
      return true;
    });
  }
  const audited = await first.auditLog({ limit: 3 });
  assert.deepEqual(
    audited.map((entry) => [entry.outcome, entry.reason]),
    refusals.map(([, , , message]) => ['refused', message]).reverse(),
  );
  await first.close();

  // A new schema version: versions written with the old one no longer fit.
  await writeFiles(repo, {
    'schemas/lab.proto': PROTO('\n  optional string unit = 3;'),
    'tables/lab.yaml': TABLES('\nschema_version: 2'),
    'data/results.csv': 'sample_id,value,unit\nS1,3,mg\n',
  });
  const second = await open(t, repo);
  await publish(second, repo, ['S1,3\n']);
  await assert.rejects(second.rollback('lab.results', 2), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(
      error.message,
      'cannot roll lab.results back to version 2: it was written with schema version 1 and the table now has ' +
        'schema version 2; roll back to a version of schema version 2 (`tessera versions lab.results`), or ' +
        'revert the schema change and apply it',
    );
    return true;
  });
  const { store } = internalsOf(second);
  assert.equal((await store.getCurrentVersion('lab.results'))?.version, 3, 'nothing was published');
});

test('a table whose schema is inferred is not rolled back to files without its current columns', async (t) => {
  const repo = await labRepo();
  const first = await open(t, repo);
  await publish(first, repo, ['S1,1\n']);
  await first.close();
  const tasks = await readFile(join(repo, 'tasks/lab.yaml'), 'utf8');
  await writeFiles(repo, {
    'tasks/lab.yaml': tasks.replace('sum(value) as total', 'sum(value) as total, max(value) as top'),
  });
  const second = await open(t, repo);
  await publish(second, repo, ['S1,2\n']);
  await assert.rejects(second.rollback('lab.total', 1), (error: unknown) => {
    assert.ok(error instanceof UsageError);
    assert.equal(
      error.message,
      "cannot roll lab.total back to version 1: its files lack column(s) top that the table has now (its schema is inferred from the projection's SQL); roll back to a newer version",
    );
    return true;
  });
});
