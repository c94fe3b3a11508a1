// Selecting tasks as dbt users do: names, globs, tag:, owner:, +upstream, downstream+, --exclude.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTaskGraph, loadDefinitions } from '../../src/definitions/index.ts';
import { NotFoundError, UsageError } from '../../src/diagnostics/errors.ts';
import type { TaskGraph } from '../../src/graph/index.ts';
import type { Definitions } from '../../src/model/index.ts';
import { selectTasks, type RunSelection } from '../../src/orchestrator/task-selection.ts';
import { writeOrchestrationRepo } from './orchestration-fixture.ts';

// ingest_readings → raw.readings → build_daily → build_weekly → build_report (owner finance)
//                                └→ build_high, build_low → build_spread
let definitions: Definitions;
let graph: TaskGraph;

before(async () => {
  const repo = await writeOrchestrationRepo({
    ingestExtra: 'tags: [nightly, raw]',
    extraTables: 'kind: table\nname: report.summary\nowner: finance\n',
    extraTasks: [
      'kind: task',
      'name: build_report',
      'type: projection',
      'target: report.summary',
      'sql: "select total from mart.weekly"',
      'tags: [nightly, finance]',
      '',
    ].join('\n'),
    files: { 'owners/finance.yaml': 'kind: owner\nname: finance\nmembers: [cfo@example.org]\n' },
  });
  const loaded = await loadDefinitions(repo, { cache: false });
  assert.deepEqual(
    loaded.diagnostics.filter((d) => d.severity === 'error'),
    [],
  );
  definitions = loaded.definitions;
  graph = await buildTaskGraph(definitions);
});

function select(selection: Partial<RunSelection>): string[] {
  return selectTasks(definitions, graph, { tasks: [], ...selection });
}

const sorted = (names: string[]) => [...names].sort();

test('a task name selects exactly that task, nothing downstream', () => {
  assert.deepEqual(select({ select: ['build_daily'] }), ['build_daily']);
});

test('a table name selects the task that produces it', () => {
  assert.deepEqual(select({ select: ['mart.spread'] }), ['build_spread']);
});

test('a glob matches table and task names', () => {
  assert.deepEqual(sorted(select({ select: ['mart.*'] })), [
    'build_daily',
    'build_high',
    'build_low',
    'build_spread',
    'build_weekly',
  ]);
  assert.deepEqual(sorted(select({ select: ['build_*w'] })), ['build_low']);
});

test('+name adds everything upstream, in dependency order', () => {
  const order = select({ select: ['+build_spread'] });
  assert.deepEqual(sorted(order), ['build_high', 'build_low', 'build_spread', 'ingest_readings']);
  assert.equal(order[0], 'ingest_readings');
  assert.equal(order.at(-1), 'build_spread');
});

test('name+ adds everything downstream; +name+ both', () => {
  assert.deepEqual(select({ select: ['build_daily+'] }), ['build_daily', 'build_weekly', 'build_report']);
  assert.deepEqual(select({ select: ['+build_weekly+'] }), [
    'ingest_readings',
    'build_daily',
    'build_weekly',
    'build_report',
  ]);
});

test('tag: and owner: select by the tasks tags and the owner of their tables', () => {
  assert.deepEqual(select({ select: ['tag:nightly'] }), ['ingest_readings', 'build_report']);
  assert.deepEqual(select({ select: ['owner:finance'] }), ['build_report']);
  assert.deepEqual(select({ select: ['tag:fin*'] }), ['build_report']);
  assert.equal(select({ select: ['owner:team'] }).length, 6);
});

test('one value may hold several selectors, separated by spaces or commas; flags repeat', () => {
  assert.deepEqual(sorted(select({ select: ['build_high,build_low build_daily'] })), [
    'build_daily',
    'build_high',
    'build_low',
  ]);
  assert.deepEqual(sorted(select({ select: ['build_high', 'build_low'] })), ['build_high', 'build_low']);
});

test('--exclude removes from what is selected, from named tasks and their downstream, or alone from all', () => {
  assert.deepEqual(select({ select: ['build_daily+'], exclude: ['tag:finance'] }), [
    'build_daily',
    'build_weekly',
  ]);
  assert.deepEqual(sorted(select({ tasks: ['ingest_readings'], exclude: ['mart.high+', 'build_daily+'] })), [
    'build_low',
    'ingest_readings',
  ]);
  assert.deepEqual(sorted(select({ exclude: ['mart.*'] })), ['build_report', 'ingest_readings']);
  assert.deepEqual(
    select({}),
    [],
    'no names and no selectors select nothing (a rollback of an unread table)',
  );
  assert.deepEqual(sorted(select({ all: true, exclude: ['+build_weekly'] })), [
    'build_high',
    'build_low',
    'build_report',
    'build_spread',
  ]);
});

test('unknown names are errors with the closest name, all reported at once', () => {
  assert.throws(
    () => select({ select: ['build_dialy', 'tag:nigthly', 'owner:financ'] }),
    (error: unknown) =>
      error instanceof NotFoundError &&
      error.message ===
        '--select build_dialy: unknown task or table build_dialy (did you mean `build_daily`?); ' +
          '--select tag:nigthly: no task has the tag nigthly (did you mean `nightly`?) (tags: finance, nightly, raw); ' +
          '--select owner:financ: unknown owner financ (did you mean `finance`?) (owners: finance, team)',
  );
  assert.throws(
    () => select({ all: true, exclude: ['mart.zz*'] }),
    (error: unknown) =>
      error instanceof NotFoundError && error.message === '--exclude mart.zz*: matches no task or table name',
  );
  assert.throws(
    () => select({ tasks: ['build_dialy'] }),
    (error: unknown) =>
      error instanceof NotFoundError &&
      error.message ===
        'unknown task(s): build_dialy (defined: build_daily, build_high, build_low, build_report, build_spread, build_weekly, ingest_readings) (did you mean `build_daily`?)',
  );
});

test('malformed selectors and an empty result are usage errors that say how to write one', () => {
  assert.throws(
    () => select({ select: ['tga:nightly'] }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message ===
        '--select tga:nightly: unknown selector method `tga:` (did you mean `tag`?); write a task or table name, a glob (`clinical.*`), `tag:NAME` or `owner:NAME`, with `+` before or after for upstream or downstream',
  );
  assert.throws(
    () => select({ select: ['+'] }),
    (error: unknown) =>
      error instanceof UsageError && error.message.startsWith('--select +: not a selector; write a task'),
  );
  assert.throws(
    () => select({ select: ['build_daily'], exclude: ['mart.*'] }),
    (error: unknown) =>
      error instanceof UsageError &&
      error.message === 'nothing left to run: --exclude mart.* removes every selected task; exclude fewer',
  );
});
