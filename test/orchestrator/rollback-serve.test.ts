// With `tessera serve` running, a rollback's downstream runs are queued there, like `tessera run`'s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFiles } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { removeRepo, startServer, writeOrchestrationRepo } from './orchestration-fixture.ts';

test('rollback beside a server queues what reads the table there and waits with --wait', async (t) => {
  const repo = await writeOrchestrationRepo();
  t.after(() => removeRepo(repo));
  const cli = (...args: string[]) => tesseraInProcess(['--repo', repo, ...args]);
  assert.equal((await cli('apply')).code, 0);
  assert.equal((await cli('run', '--all')).code, 0);
  await writeFiles(repo, { 'data/readings.csv': 'id,day,value\nr1,1,1000\n' });
  assert.equal((await cli('run', 'ingest_readings')).code, 0);
  const server = await startServer(t, repo);

  const rollback = await cli('rollback', 'raw.readings', '--to', '1', '--wait');
  assert.equal(rollback.code, 0, rollback.stderr);
  assert.equal(rollback.stderr, `queued 5 run(s) on the server (pid ${server.child.pid}); waiting\n`);
  assert.match(rollback.stdout, /^rolled raw\.readings back to version 1: version 3 \(3 rows\)/);
  for (const task of ['build_daily', 'build_weekly', 'build_high', 'build_low', 'build_spread']) {
    assert.match(rollback.stdout, new RegExp(`${task} +succeeded +upstream:raw.readings@3`));
  }
  const weekly = await cli('query', 'select days, total from mart.weekly', '--format', 'csv');
  assert.equal(weekly.stdout, 'days,total\n2,35\n', 'built by the server from version 1 again');
});
