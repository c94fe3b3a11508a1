// `tessera rollback TABLE --to VERSION` as a user types it: what it prints, and its refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFiles } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { removeRepo, writeOrchestrationRepo } from '../orchestrator/orchestration-fixture.ts';

test('rollback prints the new version and the runs it triggered; mistakes exit 2 and say what to do', async (t) => {
  const repo = await writeOrchestrationRepo();
  t.after(() => removeRepo(repo));
  const cli = (...args: string[]) => tesseraInProcess(['--repo', repo, ...args]);
  assert.equal((await cli('apply')).code, 0);
  assert.equal((await cli('run', '--all')).code, 0);
  await writeFiles(repo, { 'data/readings.csv': 'id,day,value\nr1,1,1000\n' });
  assert.equal((await cli('run', 'ingest_readings')).code, 0);

  const rollback = await cli('rollback', 'raw.readings', '--to', '1');
  assert.equal(rollback.code, 0, rollback.stderr);
  const [first, second] = rollback.stdout.split('\n');
  assert.equal(
    first,
    'rolled raw.readings back to version 1: version 3 (3 rows) lists its files; version 2 stays in the history',
  );
  assert.equal(second, 'triggered downstream (upstream:raw.readings@3):');
  for (const task of ['build_daily', 'build_weekly', 'build_high', 'build_low', 'build_spread']) {
    assert.match(rollback.stdout, new RegExp(`${task} +succeeded +upstream:raw.readings@3`));
  }
  const spread = await cli('query', 'select spread from mart.spread', '--format', 'csv');
  assert.equal(spread.stdout, 'spread\n15\n', 'computed from version 1 again (max 20 - min 5)');

  const runs = await cli('--json', 'runs', '--task', 'ingest_readings', '--limit', '1');
  const [last] = JSON.parse(runs.stdout) as { trigger: string; published: unknown }[];
  assert.equal(last?.trigger, 'rollback:raw.readings@1');
  assert.deepEqual(last?.published, { table: 'raw.readings', version: 3 });

  const cases: [string[], string][] = [
    [
      ['rollback', 'raw.reading', '--to', '1'],
      'error[not_found]: unknown table raw.reading (did you mean `raw.readings`?); `tessera tables` lists them\n',
    ],
    [
      ['rollback', 'raw.readings', '--to', '9'],
      'error[not_found]: table raw.readings has no version 9 (kept: 3, 2, 1); `tessera versions raw.readings` lists them\n',
    ],
    [
      ['rollback', 'raw.readings', '--to', '3'],
      'error[usage]: version 3 is already the current version of raw.readings; nothing to roll back\n',
    ],
    [
      ['rollback', 'raw.readings', '--to', 'two'],
      'error[usage]: --to must be a positive whole number, not two\n',
    ],
  ];
  for (const [args, message] of cases) {
    const refused = await cli(...args);
    assert.equal(refused.code, 2, args.join(' '));
    assert.equal(refused.stderr, message);
  }
  const missing = await cli('rollback', 'raw.readings');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--to <version>' not specified/);
});
