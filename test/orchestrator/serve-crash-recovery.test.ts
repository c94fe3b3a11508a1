// kill -9 of `tessera serve` in the middle of a run: the next start finds the run, retries it as
// the same run, and its table is published exactly once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import {
  closedGate,
  openRepoCatalog,
  removeRepo,
  startServer,
  waitFor,
  writeOrchestrationRepo,
} from './orchestration-fixture.ts';

test('a run interrupted by SIGKILL of the server is retried on restart and publishes exactly once', async (t) => {
  const gate = await closedGate(t);
  const repo = await writeOrchestrationRepo({
    schedule: '{ on: source_change, poll: 200ms }',
    sql: { build_low: gate.lowSql },
  });
  t.after(() => removeRepo(repo));
  const apply = await tesseraInProcess(['--repo', repo, 'apply']);
  assert.equal(apply.code, 0, apply.stderr);
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());

  const first = await startServer(t, repo);
  const slow = await waitFor(
    `build_low to be running (${first.log().slice(-2000)})`,
    async () => (await store.listRuns({ task: 'build_low', status: 'running' }))[0],
    120_000,
    20,
  );
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');
  assert.equal((await store.getRun(slow.id))?.status, 'running', 'the dead server left the run running');
  assert.deepEqual(await store.listVersions('mart.low'), [], 'nothing was published');

  const second = await startServer(t, repo);
  await gate.open();
  const finished = await waitFor(
    `the run to be retried (${second.log().slice(-2000)})`,
    async () => {
      const run = await store.getRun(slow.id);
      return run?.status !== 'running' && run?.status !== 'queued' ? run : undefined;
    },
    180_000,
  );
  assert.equal(finished.status, 'succeeded', finished.error);
  assert.equal(finished.attempt, 1, 'the interrupted attempt is redone, not counted as a failure');
  const versions = await store.listVersions('mart.low');
  assert.deepEqual(
    versions.map((version) => [version.version, version.runId]),
    [[1, slow.id]],
    'published exactly once, by the retried run',
  );
  const log = (await store.readRunLog(slow.id)).map((line) => line.message);
  assert.ok(
    log.some((line) =>
      /^the process running attempt 1 \(.+\) died; queued again as the same attempt$/.test(line),
    ),
    log.join('\n'),
  );
  assert.match(
    second.log(),
    new RegExp(`run ${slow.id} of build_low was running in .+, which died; queued again`),
  );
  assert.equal((await store.listRuns({ task: 'build_low' })).length, 1, 'one logical run');

  await waitFor(
    'the join to run',
    async () => (await store.getCurrentVersion('mart.spread'))?.version === 1,
    120_000,
  );
  await waitFor('the server to be idle', async () => (await store.listActiveRuns()).length === 0, 60_000);
  assert.equal((await store.listVersions('mart.spread')).length, 1);
  assert.equal(
    (await store.listVersions('raw.readings')).length,
    1,
    'the unchanged source did not fire again',
  );
});
