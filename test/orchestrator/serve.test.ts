// `tessera serve` as a user runs it: a child process on a catalog repo, driven by file changes and
// by other `tessera` commands, observed through the catalog.
import assert from 'node:assert/strict';
import { appendFile, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { CatalogStore } from '../../src/catalog/catalog-store.ts';
import { fingerprintSource, serverFilePath, type ServerInfo } from '../../src/orchestrator/index.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import {
  openRepoCatalog,
  PROJECTIONS,
  removeRepo,
  startServer,
  waitFor,
  writeOrchestrationRepo,
} from './orchestration-fixture.ts';

const TABLES = ['raw.readings', ...Object.values(PROJECTIONS).map(({ target }) => target)];

async function currentVersions(store: CatalogStore): Promise<Record<string, number | undefined>> {
  const versions: Record<string, number | undefined> = {};
  for (const table of TABLES) versions[table] = (await store.getCurrentVersion(table))?.version;
  return versions;
}

async function allAt(store: CatalogStore, version: number): Promise<boolean> {
  return Object.values(await currentVersions(store)).every((current) => current === version);
}

async function idle(store: CatalogStore): Promise<boolean> {
  return (await store.listActiveRuns()).length === 0;
}

test('tessera serve: a source change flows down the chain and the diamond, every table publishing once per wave, in order', async (t) => {
  const repo = await writeOrchestrationRepo({ schedule: '{ on: source_change, poll: 200ms }' });
  t.after(() => removeRepo(repo));
  const apply = await tesseraInProcess(['--repo', repo, 'apply']);
  assert.equal(apply.code, 0, apply.stderr);
  const server = await startServer(t, repo);
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());

  // The server never saw the source file: its first poll fires once.
  await waitFor(`the first wave (${server.log().slice(-3000)})`, () => allAt(store, 1), 120_000);
  await waitFor('the first wave to settle', () => idle(store), 60_000);

  await appendFile(join(repo, 'data', 'readings.csv'), 'r4,3,7\n');
  await waitFor(`the second wave (${server.log().slice(-3000)})`, () => allAt(store, 2), 120_000);
  await waitFor('the second wave to settle', () => idle(store), 60_000);
  // Nothing else may fire: the fingerprint the server keeps is the source's as it now is.
  const { fingerprint } = await fingerprintSource(repo, 'data/readings.csv');
  assert.equal((await store.getTaskState('ingest_readings'))?.sourceFingerprint, fingerprint);
  assert.deepEqual(await currentVersions(store), Object.fromEntries(TABLES.map((table) => [table, 2])));

  for (const table of TABLES) {
    assert.equal((await store.listVersions(table)).length, 2, `${table}: one version per wave`);
  }
  for (const [task, { target, reads }] of Object.entries(PROJECTIONS)) {
    const version = (await store.getCurrentVersion(target))!;
    const run = (await store.getRun(version.runId))!;
    assert.equal(run.task, task);
    assert.match(run.trigger, /^upstream:/, `${task} ran because an upstream table published`);
    for (const upstream of reads) {
      const input = (await store.getCurrentVersion(upstream))!;
      assert.ok(
        version.upstream.some((ref) => ref.table === upstream && ref.version === input.version),
        `${task} read ${upstream}@${input.version}`,
      );
      assert.ok(run.startedAt! >= input.publishedAt, `${task} started after ${upstream} published`);
    }
  }
  assert.equal(
    (await store.listRuns({ task: 'build_spread' })).length,
    2,
    'the diamond’s join ran once per wave',
  );
  const ingestRuns = await store.listRuns({ task: 'ingest_readings' });
  assert.deepEqual(
    ingestRuns.map((run) => run.trigger),
    ['source_change', 'source_change'],
  );
  const applied = await store.readDefinitions();
  assert.deepEqual(
    applied.tasks.filter((task) => task.schedule !== undefined).map((task) => task.name),
    ['ingest_readings'],
    'only the ingestion root has a schedule',
  );

  // SIGTERM: a clean stop that takes the server file with it.
  const info = JSON.parse(await readFile(serverFilePath(repo), 'utf8')) as ServerInfo;
  assert.equal(info.pid, server.child.pid);
  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
  await assert.rejects(stat(serverFilePath(repo)), /ENOENT/);
  assert.match(server.log(), /SIGTERM: stopping/);
  assert.match(server.log(), /orchestrator stopped/);
});

test('tessera run against a running server queues the runs there; --wait follows them to the end', async (t) => {
  const repo = await writeOrchestrationRepo();
  t.after(() => removeRepo(repo));
  const apply = await tesseraInProcess(['--repo', repo, 'apply']);
  assert.equal(apply.code, 0, apply.stderr);
  const server = await startServer(t, repo);
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());
  const owner = (JSON.parse(await readFile(serverFilePath(repo), 'utf8')) as ServerInfo).owner;

  const waited = await tesseraInProcess(['--repo', repo, '--json', 'run', 'ingest_readings', '--wait']);
  assert.equal(waited.code, 0, waited.stderr + server.log());
  const runs = JSON.parse(waited.stdout) as { id: string; task: string; status: string }[];
  assert.deepEqual(
    runs.map((run) => [run.task, run.status]),
    [
      ['ingest_readings', 'succeeded'],
      ['build_daily', 'succeeded'],
      ['build_high', 'succeeded'],
      ['build_low', 'succeeded'],
      ['build_spread', 'succeeded'],
      ['build_weekly', 'succeeded'],
    ],
  );
  for (const run of runs) {
    assert.equal((await store.getQueuedRun(run.id))?.queue.owner, owner, `${run.task} ran in the server`);
  }

  const queued = await tesseraInProcess(['--repo', repo, 'run', 'build_high', '--no-downstream']);
  assert.equal(queued.code, 0, queued.stderr);
  assert.match(queued.stdout, /queued on the server/);
  await waitFor(
    'build_high to run again',
    async () => (await store.getCurrentVersion('mart.high'))?.version === 2,
    60_000,
  );
  await waitFor('the server to be idle', () => idle(store), 60_000);
  assert.equal(
    (await store.getCurrentVersion('mart.spread'))?.version,
    1,
    '--no-downstream triggered nothing',
  );
});
