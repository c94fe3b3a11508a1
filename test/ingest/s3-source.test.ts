// `uri: s3://…` sources against a real S3-compatible server (s3rver): incremental append by ETag,
// a changed object refused, --full-refresh, bad rows named by object, and `on: source_change`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { PausedTasks } from '../../src/orchestrator/paused-tasks.ts';
import { ScheduleClock } from '../../src/orchestrator/schedule-clock.ts';
import { fingerprintSource } from '../../src/orchestrator/source-fingerprint.ts';
import type { Run, TaskDef } from '../../src/model/index.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { writeRepo } from '../support/cli.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startS3Server, type S3TestServer } from '../support/s3-server.ts';

const BUCKET = 'exports';
let s3: S3TestServer;

before(async () => {
  s3 = await startS3Server([BUCKET]);
});
after(async () => {
  await s3.close();
});

function repoFiles(options: { mode: string; uri: string; badRows?: string; schedule?: string }) {
  return {
    'tessera.yaml': `name: shop\ns3: { endpoint: "${s3.endpoint}", region: us-east-1, path_style: true }\n`,
    'owners/o.yaml': 'kind: owner\nname: sales\n',
    'schemas/s.proto': `syntax = "proto3";
package shop;
import "tessera/options.proto";
message Order {
  string order_id = 1 [(tessera.field) = { primary_key: true }];
  double amount = 2;
}
`,
    'tables/t.yaml': 'kind: table\nname: shop.orders\nowner: sales\nschema: schemas/s.proto#shop.Order\n',
    'tasks/t.yaml': `kind: task
name: ingest_orders
type: ingestion
target: shop.orders
source: { type: csv, uri: "${options.uri}" }
mode: ${options.mode}
${options.badRows ? `bad_rows: ${options.badRows}\n` : ''}${options.schedule ? `schedule: ${options.schedule}\n` : ''}`,
  };
}

async function appliedRepo(files: Record<string, string>): Promise<string> {
  const repo = await writeRepo(files);
  const applied = await tesseraInProcess(['--repo', repo, 'apply']);
  assert.equal(applied.code, 0, applied.stderr);
  return repo;
}

async function run(repo: string, ...flags: string[]): Promise<{ code: number; run: Run; log: string[] }> {
  const result = await tesseraInProcess(['--repo', repo, '--json', 'run', 'ingest_orders', ...flags]);
  const [only] = JSON.parse(result.stdout) as Run[];
  const platform = await Platform.open({ repo });
  try {
    const log = (await internalsOf(platform).store.readRunLog(only!.id)).map((line) => line.message);
    return { code: result.code, run: only!, log };
  } finally {
    await platform.close();
  }
}

async function rows(repo: string): Promise<unknown[]> {
  const result = await tesseraInProcess([
    '--repo',
    repo,
    'query',
    'select order_id, amount from shop.orders order by order_id',
    '--format',
    'json',
  ]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as unknown[];
}

describe('an s3:// source with mode: append', () => {
  const prefix = 'append';
  const uri = `s3://${BUCKET}/${prefix}/orders-*.csv`;
  let repo: string;
  before(async () => {
    repo = await appliedRepo(repoFiles({ mode: 'append', uri }));
  });
  after(() => rm(repo, { recursive: true, force: true }));

  test('two exports arriving on different days: the second run reads only the new object', async () => {
    await s3.put(BUCKET, `${prefix}/orders-2026-12-01.csv`, 'order_id,amount\no1,10.5\no2,20\n');
    // Beside the glob: never read.
    await s3.put(BUCKET, `${prefix}/README.txt`, 'not data');
    await s3.put(BUCKET, `${prefix}/archive/orders-2026-11-30.csv`, 'order_id,amount\nold,1\n');
    const first = await run(repo);
    assert.equal(first.run.status, 'succeeded', first.run.error);
    assert.ok(first.log.includes(`1 object matches ${uri}; reading all of them`), first.log.join('\n'));
    assert.ok(
      first.log.includes(`reading 1 csv file: s3://${BUCKET}/${prefix}/orders-2026-12-01.csv`),
      first.log.join('\n'),
    );

    await s3.put(BUCKET, `${prefix}/orders-2026-12-02.csv`, 'order_id,amount\no3,30\n');
    const second = await run(repo);
    assert.equal(second.run.status, 'succeeded', second.run.error);
    assert.equal(second.run.rowsWritten, 3);
    assert.ok(
      second.log.includes(`2 objects match ${uri}; reading the 1 new (1 read before)`),
      second.log.join('\n'),
    );
    assert.ok(
      second.log.includes(`reading 1 csv file: s3://${BUCKET}/${prefix}/orders-2026-12-02.csv`),
      second.log.join('\n'),
    );
    assert.deepEqual(await rows(repo), [
      { order_id: 'o1', amount: 10.5 },
      { order_id: 'o2', amount: 20 },
      { order_id: 'o3', amount: 30 },
    ]);

    const third = await run(repo);
    assert.equal(third.code, 0);
    assert.equal(third.run.status, 'skipped');
    assert.equal(
      third.run.error,
      `nothing new: no object matching ${uri} is new since the last run (2 objects read before)`,
    );
  });

  test('an object changed after it was read fails the run, naming it; --full-refresh reads everything again', async () => {
    const key = `${prefix}/orders-2026-12-01.csv`;
    const platform = await Platform.open({ repo });
    const cursor = (await internalsOf(platform).store.getSourceCursor('ingest_orders')) as {
      objects: Record<string, string>;
    };
    await platform.close();
    const before = cursor.objects[key]!;
    const changed = 'order_id,amount\no1,11\no2,20\n';
    await s3.put(BUCKET, key, changed);

    const refused = await run(repo);
    assert.equal(refused.code, 1);
    assert.equal(refused.run.status, 'failed');
    // A single-part upload's ETag is the MD5 of its content, quoted.
    const after = `"${createHash('md5').update(changed).digest('hex')}"`;
    assert.equal(
      refused.run.error,
      `task ingest_orders: s3://${BUCKET}/${key} (ETag ${before} when read, ${after} now) changed after it was read; ` +
        'mode: append reads each object once and cannot take back the rows it appended. ' +
        'To take changes, set mode: merge (upsert on the primary key) or mode: replace on task ingest_orders (tasks/t.yaml); ' +
        'to read every object again into a fresh version, run `tessera run ingest_orders --full-refresh`',
    );
    assert.equal((await rows(repo)).length, 3, 'the previous version stays current');

    const refreshed = await run(repo, '--full-refresh');
    assert.equal(refreshed.run.status, 'succeeded', refreshed.run.error);
    assert.ok(
      refreshed.log.includes(
        'no cursor (the first run, or --full-refresh): the version holds every object read, replacing the rows appended before',
      ),
      refreshed.log.join('\n'),
    );
    assert.deepEqual(await rows(repo), [
      { order_id: 'o1', amount: 11 },
      { order_id: 'o2', amount: 20 },
      { order_id: 'o3', amount: 30 },
    ]);
    // Incremental again from the refreshed cursor.
    await s3.put(BUCKET, `${prefix}/orders-2026-12-03.csv`, 'order_id,amount\no4,40\n');
    const next = await run(repo);
    assert.equal(next.run.rowsWritten, 4, next.run.error);
  });
});

test('bad rows are named by their object and line, not by the staged copy', async (t) => {
  const uri = `s3://${BUCKET}/bad/*.csv`;
  const repo = await appliedRepo(repoFiles({ mode: 'replace', uri }));
  t.after(() => rm(repo, { recursive: true, force: true }));
  await s3.put(BUCKET, 'bad/a.csv', 'order_id,amount\na1,1\n');
  await s3.put(BUCKET, 'bad/b.csv', 'order_id,amount\nb1,2\nb2,two\n');
  const failed = await run(repo);
  assert.equal(failed.run.status, 'failed');
  assert.equal(
    failed.run.error,
    `task ingest_orders: 1 bad row of 3, and bad_rows.action is fail:\n  s3://${BUCKET}/bad/b.csv:3: column amount: value "two" is not a number`,
  );
});

test('the quarantine keeps each bad row with its object as the file', async (t) => {
  const uri = `s3://${BUCKET}/quarantined/*.csv`;
  const repo = await appliedRepo(repoFiles({ mode: 'replace', uri, badRows: '{ action: quarantine }' }));
  t.after(() => rm(repo, { recursive: true, force: true }));
  await s3.put(BUCKET, 'quarantined/q.csv', 'order_id,amount\nq1,1\nq2,two\n');
  const quarantined = await run(repo);
  assert.equal(quarantined.run.status, 'succeeded', quarantined.run.error);
  const platform = await Platform.open({ repo });
  t.after(() => platform.close());
  const { store, storage } = internalsOf(platform);
  const version = (await store.getCurrentVersion('shop.orders'))!;
  const quarantineFile = storage.localPath(version.files[0]!).replace(/\.parquet$/, '.quarantine.parquet');
  const session = await (await internalsOf(platform).engine()).openSession();
  try {
    const found = await session.query(
      `SELECT file, line, "column", value FROM read_parquet('${quarantineFile}')`,
    );
    assert.deepEqual(found.rows, [
      { file: `s3://${BUCKET}/quarantined/q.csv`, line: 3, column: 'amount', value: 'two' },
    ]);
  } finally {
    session.close();
  }
});

test('replace and merge read every matching object on each run', async (t) => {
  const uri = `s3://${BUCKET}/merged/*.csv`;
  const repo = await appliedRepo(repoFiles({ mode: 'merge', uri }));
  t.after(() => rm(repo, { recursive: true, force: true }));
  await s3.put(BUCKET, 'merged/1.csv', 'order_id,amount\nm1,1\nm2,2\n');
  assert.equal((await run(repo)).run.status, 'succeeded');
  await s3.put(BUCKET, 'merged/1.csv', 'order_id,amount\nm1,100\nm2,2\n');
  await s3.put(BUCKET, 'merged/2.csv', 'order_id,amount\nm3,3\n');
  const second = await run(repo);
  assert.equal(second.run.status, 'succeeded', second.run.error);
  assert.ok(second.log.includes(`2 objects match ${uri}; reading all of them`), second.log.join('\n'));
  assert.deepEqual(await rows(repo), [
    { order_id: 'm1', amount: 100 },
    { order_id: 'm2', amount: 2 },
    { order_id: 'm3', amount: 3 },
  ]);
});

test('no object matching the uri fails the run, naming what was listed', async (t) => {
  const repo = await appliedRepo(repoFiles({ mode: 'append', uri: `s3://${BUCKET}/none/*.csv` }));
  t.after(() => rm(repo, { recursive: true, force: true }));
  const failed = await run(repo);
  assert.equal(
    failed.run.error,
    `task ingest_orders: no object matches source uri \`s3://${BUCKET}/none/*.csv\` (listed s3://${BUCKET}/none/)`,
  );
  const missing = await appliedRepo(repoFiles({ mode: 'replace', uri: 's3://no-such-bucket/x/*.csv' }));
  t.after(() => rm(missing, { recursive: true, force: true }));
  assert.equal(
    (await run(missing)).run.error,
    `task ingest_orders: cannot list s3://no-such-bucket/x/: NoSuchBucket: The specified bucket does not exist; check the bucket in the uri and \`s3.endpoint\` (${s3.endpoint}) in tessera.yaml`,
  );
});

test('on: source_change fires when a new object arrives, and not for objects it has seen', async (t) => {
  const uri = `s3://${BUCKET}/watched/*.csv`;
  const repo = await appliedRepo(
    repoFiles({ mode: 'append', uri, schedule: '{ on: source_change, poll: 1m }' }),
  );
  t.after(() => rm(repo, { recursive: true, force: true }));
  await s3.put(BUCKET, 'watched/1.csv', 'order_id,amount\nw1,1\n');
  const platform = await Platform.open({ repo });
  t.after(() => platform.close());
  const { store } = internalsOf(platform);
  const fired: string[] = [];
  const logged: string[] = [];
  const start = async (clock: ManualClock) => {
    const schedules = new ScheduleClock(
      platform.definitions,
      store,
      new PausedTasks(store),
      {
        fire: async (task: TaskDef, trigger) => void fired.push(`${task.name}:${trigger}`),
        log: (line) => logged.push(line),
      },
      clock,
    );
    await schedules.start();
    return schedules;
  };
  const clock = new ManualClock();
  const schedules = await start(clock);
  t.after(() => schedules.stop());
  assert.deepEqual(fired, ['ingest_orders:source_change'], logged.join('\n'));
  assert.ok(logged.includes(`watching ${uri} for ingest_orders every 1m`), logged.join('\n'));

  await s3.put(BUCKET, 'watched/2.csv', 'order_id,amount\nw2,2\n');
  await clock.advance(60_000);
  await waitFor(() => fired.length === 2);
  assert.deepEqual(fired, ['ingest_orders:source_change', 'ingest_orders:source_change']);
  const now = await fingerprintSource(repo, uri, platform.definitions.project.s3);
  assert.deepEqual(now.files, [`s3://${BUCKET}/watched/1.csv`, `s3://${BUCKET}/watched/2.csv`]);
  await waitFor(
    async () => (await store.getTaskState('ingest_orders'))?.sourceFingerprint === now.fingerprint,
  );

  // Another server starting on the same catalog has seen these objects: its first poll does not fire.
  const restarted = await start(new ManualClock());
  t.after(() => restarted.stop());
  assert.equal(fired.length, 2, logged.join('\n'));
});

/** Poll `condition` (I/O on loopback) until it holds; fails after 20 s. */
async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
