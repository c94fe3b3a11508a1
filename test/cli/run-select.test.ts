// `tessera run --select/--exclude` on a catalog repo: what runs, and the messages for what does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { writeOrchestrationRepo } from '../orchestrator/orchestration-fixture.ts';

test('run --select runs exactly the selection, with + for upstream, and --exclude leaves tasks out', async () => {
  const repo = await writeOrchestrationRepo({ ingestExtra: 'tags: [nightly]' });
  assert.equal((await tesseraInProcess(['apply'], { cwd: repo })).code, 0);

  const run = await tesseraInProcess(
    ['run', '--select', '+mart.spread', '--exclude', 'build_low', '--json'],
    { cwd: repo },
  );
  assert.equal(run.code, 1, 'a run failed');
  const runs = JSON.parse(run.stdout) as { task: string; status: string }[];
  assert.deepEqual(
    runs.map((entry) => `${entry.task}:${entry.status}`),
    ['ingest_readings:succeeded', 'build_high:succeeded', 'build_spread:failed'],
    'mart.low was never published, so the spread fails; nothing else runs',
  );

  const tagged = await tesseraInProcess(['run', '-s', 'tag:nightly,build_low', '--json'], { cwd: repo });
  assert.equal(tagged.code, 0, tagged.stderr);
  assert.deepEqual(
    (JSON.parse(tagged.stdout) as { task: string }[]).map((entry) => entry.task),
    ['ingest_readings', 'build_low'],
  );
});

test('run --select with an unknown name exits 2 and suggests the closest name', async () => {
  const repo = await writeOrchestrationRepo();
  assert.equal((await tesseraInProcess(['apply'], { cwd: repo })).code, 0);
  const typo = await tesseraInProcess(['run', '--select', 'mart.dialy+'], { cwd: repo });
  assert.equal(typo.code, 2);
  assert.equal(
    typo.stderr,
    'error[not_found]: --select mart.dialy+: unknown task or table mart.dialy (did you mean `mart.daily`?)\n',
  );
  const nothing = await tesseraInProcess(['run'], { cwd: repo });
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /name at least one task, or pass --all, --select or --exclude/);
});
