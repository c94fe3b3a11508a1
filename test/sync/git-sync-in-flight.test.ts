// Applying a pushed commit under `serve --watch-git` lets the runs in flight finish first: the
// scheduler stops taking runs, the running one publishes, then the commit is applied and serve
// continues on the new definitions. A projection held at a gate (a named pipe its SQL reads) is the
// run in flight, for exactly as long as the test keeps the gate closed.
import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import { Platform } from '../../src/platform.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { closedGate, waitFor, writeOrchestrationRepo } from '../orchestrator/orchestration-fixture.ts';
import { makeGitWorld } from './git-fixture.ts';

/** Every file below `folder` (path → content), hidden folders left out. */
async function filesOf(folder: string): Promise<Record<string, string>> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  const files: Record<string, string> = {};
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = relative(folder, join(entry.parentPath, entry.name));
    if (path.split('/').some((part) => part.startsWith('.'))) continue;
    files[path] = await readFile(join(folder, path), 'utf8');
  }
  return files;
}

test('a commit pushed while a run is in flight is applied once that run has published', async (t) => {
  const gate = await closedGate(t);
  const template = await writeOrchestrationRepo({ sql: { build_low: gate.lowSql } });
  const world = await makeGitWorld(await filesOf(template));
  await rm(template, { recursive: true, force: true });
  const platform = await Platform.open({ repo: world.repo });
  await platform.apply();
  const clock = new ManualClock();
  const log: string[] = [];
  const server = await platform.serve({
    concurrency: 1,
    debounceMs: 0,
    clock,
    log: (line) => log.push(line),
    watchGit: { source: `${world.remote}#main`, pollMs: 24 * 3_600_000 },
  });
  const store = await openCatalogStore(`sqlite:${join(world.repo, '.tessera', 'catalog.db')}`);
  t.after(async () => {
    await gate.open();
    await server.stop(0);
    await store.close();
    await world.close();
  });
  await server.sync!.idle();

  // Queue the ingestion on the server; its downstream build_low then waits at the gate.
  const client = await Platform.open({ repo: world.repo });
  await client.runOrQueue({ tasks: ['ingest_readings'] });
  await client.close();
  const inFlight = await waitFor('build_low to be running', async () => {
    await clock.advance(250); // the server's queue poll
    return (await store.listRuns({ task: 'build_low', status: 'running' }))[0];
  });

  const pushed = await world.push(
    { 'tables/extra.yaml': 'kind: table\nname: mart.extra\nowner: team\n' },
    'mart.extra: a table filled later',
  );
  server.sync!.request();
  await waitFor('the sync to wait for the run in flight', async () =>
    log.some((line) => line.includes('waiting for runs in flight')),
  );
  assert.equal((await store.getTable('mart.extra')) ?? 'not yet', 'not yet');
  assert.equal((await store.getRun(inFlight.id))?.status, 'running');

  await gate.open();
  await server.sync!.idle();
  const finished = await store.getRun(inFlight.id);
  assert.equal(finished?.status, 'succeeded', finished?.error);
  assert.equal((await store.getCurrentVersion('mart.low'))?.runId, inFlight.id, 'the run published');
  assert.ok(!log.some((line) => line.includes('requeued')), 'finished, not requeued for the next start');
  assert.equal((await store.getTable('mart.extra'))?.gitCommit, pushed);
  assert.equal((await store.readSyncStatus()).activeCommit, pushed);
});
