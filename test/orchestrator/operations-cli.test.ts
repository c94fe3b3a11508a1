// The operations commands without a server: pause/resume persist in the catalog, backfill runs a
// task and its downstream in-process, cancel explains what it did, and mistakes exit 2.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { openRepoCatalog, removeRepo, writeOrchestrationRepo } from './orchestration-fixture.ts';

test('pause, resume, backfill and cancel from the command line', async (t) => {
  const repo = await writeOrchestrationRepo();
  t.after(() => removeRepo(repo));
  const apply = await tesseraInProcess(['--repo', repo, 'apply']);
  assert.equal(apply.code, 0, apply.stderr);

  const paused = await tesseraInProcess(['--repo', repo, 'pause', 'build_weekly']);
  assert.equal(paused.code, 0, paused.stderr);
  assert.match(paused.stdout, /^paused build_weekly/);
  const unknown = await tesseraInProcess(['--repo', repo, 'pause', 'build_monthly']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown task build_monthly \(defined: build_daily, /);

  const backfill = await tesseraInProcess(['--repo', repo, '--json', 'backfill', 'ingest_readings']);
  assert.equal(backfill.code, 0, backfill.stderr);
  const runs = JSON.parse(backfill.stdout) as { id: string; task: string; status: string; trigger: string }[];
  assert.deepEqual(
    runs.map((run) => run.task).sort(),
    ['build_daily', 'build_high', 'build_low', 'build_spread', 'build_weekly', 'ingest_readings'],
    'a task and everything downstream of it (pausing stops triggers, not runs asked for by name)',
  );
  assert.ok(runs.every((run) => run.status === 'succeeded' && run.trigger === 'backfill'));

  const resumed = await tesseraInProcess(['--repo', repo, 'resume', 'build_weekly']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const store = await openRepoCatalog(repo);
  t.after(() => store.close());
  assert.equal((await store.getTaskState('build_weekly'))?.pausedAt, undefined);

  const cancelled = await tesseraInProcess(['--repo', repo, 'cancel', runs[0]!.id]);
  assert.equal(cancelled.code, 0, cancelled.stderr);
  assert.match(cancelled.stdout, /already ended \(succeeded\); nothing to cancel/);
  const missing = await tesseraInProcess(['--repo', repo, 'cancel', 'no-such-run']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /run no-such-run not found/);
});
