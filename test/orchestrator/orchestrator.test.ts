// The orchestrator in-process on a real catalog repo (SQLite, DuckDB, Parquet): triggers, the
// diamond, debouncing, retries, timeouts, skipping, pause/resume, cancel, backfill and recovery.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { CatalogStore } from '../../src/catalog/catalog-store.ts';
import type { Run } from '../../src/model/index.ts';
import {
  enqueueSelection,
  Orchestrator,
  pauseTask,
  resumeTask,
  type OrchestratorOptions,
} from '../../src/orchestrator/index.ts';
import { runTask } from '../../src/runner/index.ts';
import type { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import {
  openAppliedPlatform,
  PROJECTIONS,
  READINGS_CSV,
  closedGate,
  removeRepo,
  waitFor,
  writeOrchestrationRepo,
  type RepoOptions,
} from './orchestration-fixture.ts';
import { ManualClock } from '../support/manual-clock.ts';

interface Setup {
  repo: string;
  platform: Platform;
  store: CatalogStore;
  orchestrator: Orchestrator;
}

async function setUp(
  t: TestContext,
  repoOptions: RepoOptions = {},
  options: OrchestratorOptions = {},
): Promise<Setup> {
  const repo = await writeOrchestrationRepo(repoOptions);
  const platform = await openAppliedPlatform(repo);
  const orchestrator = new Orchestrator(internalsOf(platform), {
    heartbeatMs: 100,
    pollMs: 50,
    schedules: false,
    ...options,
  });
  t.after(async () => {
    await orchestrator.stop(10_000);
    await platform.close();
    await removeRepo(repo);
  });
  return { repo, platform, store: internalsOf(platform).store, orchestrator };
}

async function runsOf(store: CatalogStore, task: string): Promise<Run[]> {
  return (await store.listRuns({ task })).reverse();
}

async function versionNumbers(store: CatalogStore, table: string): Promise<number[]> {
  return (await store.listVersions(table)).map((version) => version.version).reverse();
}

/**
 * With a `ManualClock`: wait until nothing is queued or running, moving the clock to the next due
 * time whenever every queued run is only waiting for it (a debounce window or a backoff).
 */
async function settle(orchestrator: Orchestrator, clock: ManualClock): Promise<void> {
  await waitFor(
    'the orchestrator to settle',
    async () => {
      const active = await orchestrator.queue.active();
      if (active.length === 0)
        return orchestrator.whenIdle(0).then(
          () => true,
          () => false,
        );
      const dueAt = active.map(({ run, queue }) =>
        run.status === 'queued' && queue.notBefore ? Date.parse(queue.notBefore) : -Infinity,
      );
      const earliest = Math.min(...dueAt);
      if (earliest > clock.now()) await clock.advance(earliest - clock.now());
      return false;
    },
    60_000,
    10,
  );
}

/** Run the whole graph once from the root and wait until it settles. */
async function firstWave({ orchestrator }: Setup): Promise<void> {
  await orchestrator.enqueue({ task: 'ingest_readings', trigger: 'manual' });
  await orchestrator.whenIdle(60_000);
}

describe('Orchestrator', () => {
  test('a publication triggers every reader at once; the diamond joins once per wave, after both branches', async (t) => {
    const setup = await setUp(t);
    await setup.orchestrator.start();
    await firstWave(setup);
    await firstWave(setup);
    const { store } = setup;

    for (const [task, { target }] of Object.entries(PROJECTIONS)) {
      const runs = await runsOf(store, task);
      assert.deepEqual(
        runs.map((run) => run.status),
        ['succeeded', 'succeeded'],
        `${task} ran once per wave`,
      );
      assert.ok(
        runs.every((run) => run.trigger.startsWith('upstream:')),
        `${task} only ever runs on publication`,
      );
      assert.deepEqual(await versionNumbers(store, target), [1, 2]);
    }
    const spread = (await store.listVersions('mart.spread'))[0]!;
    assert.deepEqual(
      [...spread.upstream].sort((a, b) => a.table.localeCompare(b.table)),
      [
        { table: 'mart.high', version: 2 },
        { table: 'mart.low', version: 2 },
      ],
      'the join read the new versions of both branches',
    );
    const [spreadRun] = (await runsOf(store, 'build_spread')).slice(-1);
    for (const branch of ['build_high', 'build_low']) {
      const [branchRun] = (await runsOf(store, branch)).slice(-1);
      assert.ok(
        spreadRun!.startedAt! >= branchRun!.finishedAt!,
        `build_spread started after ${branch} ended`,
      );
    }
  });

  test('a burst of upstream publications within the debounce window makes one run', async (t) => {
    const clock = new ManualClock();
    const setup = await setUp(t, {}, { debounceMs: 1500, clock });
    const { orchestrator, store } = setup;
    await orchestrator.start();
    await orchestrator.enqueue({ task: 'ingest_readings', trigger: 'manual' });
    await settle(orchestrator, clock);

    // Two separate requests: the second branch is only queued after the first one published, so
    // nothing but the debounce window keeps the join from starting in between.
    await orchestrator.enqueue({ task: 'build_high', trigger: 'manual' });
    const ended = async (task: string) =>
      (await store.listRuns({ task })).filter((run) => run.status === 'succeeded').length === 2;
    await waitFor('the second build_high run to end', () => ended('build_high'), 30_000, 10);
    await clock.advance(1499);
    await orchestrator.enqueue({ task: 'build_low', trigger: 'manual' });
    await waitFor('the second build_low run to end', () => ended('build_low'), 30_000, 10);
    assert.deepEqual(
      (await store.listRuns({ task: 'build_spread', status: 'queued' })).map((run) => run.trigger),
      ['upstream:mart.high@2'],
      'the join waits out its window, 1 ms short of it',
    );
    await clock.advance(1500);
    await settle(orchestrator, clock);

    const spreadRuns = await runsOf(store, 'build_spread');
    assert.equal(spreadRuns.length, 2, 'one run for the first wave, one for the burst');
    const burstRun = spreadRuns[1]!;
    assert.equal(burstRun.trigger, 'upstream:mart.high@2');
    const log = (await store.readRunLog(burstRun.id)).map((line) => line.message);
    assert.ok(log.includes('also triggered by upstream:mart.low@2'), log.join('\n'));
    const upstream = (await store.getCurrentVersion('mart.spread'))!.upstream;
    assert.deepEqual(
      [...upstream].sort((a, b) => a.table.localeCompare(b.table)).map((ref) => ref.version),
      [2, 2],
    );
  });

  test('a failed attempt is retried after its backoff as the same run, and publishes once', async (t) => {
    const clock = new ManualClock();
    const setup = await setUp(
      t,
      { withoutSource: true, ingestExtra: 'retries: { attempts: 3, backoff: 1s }' },
      { clock },
    );
    const { orchestrator, store, repo } = setup;
    await orchestrator.start();
    const { queued } = await orchestrator.enqueue({
      task: 'ingest_readings',
      trigger: 'manual',
      downstream: false,
    });

    await waitFor(
      'the second attempt to be queued',
      async () => {
        const run = await store.getRun(queued.run.id);
        return run?.status === 'queued' && run.attempt === 2;
      },
      30_000,
      20,
    );
    await mkdir(join(repo, 'data'), { recursive: true });
    await writeFile(join(repo, 'data', 'readings.csv'), READINGS_CSV);
    await clock.advance(999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await store.getRun(queued.run.id))?.status, 'queued', 'the retry waits for its backoff');
    await clock.advance(1);
    await settle(orchestrator, clock);

    const run = (await store.getRun(queued.run.id))!;
    assert.equal(run.status, 'succeeded');
    assert.equal(run.attempt, 2);
    assert.equal(run.error, undefined, 'the first attempt’s error is cleared by the success');
    const versions = await store.listVersions('raw.readings');
    assert.deepEqual(
      versions.map((version) => version.runId),
      [queued.run.id],
    );
    const log = await store.readRunLog(run.id);
    const retryLine = log.find((line) => line.message === 'attempt 1 of 3 failed; attempt 2 in 1s');
    assert.ok(retryLine, log.map((line) => line.message).join('\n'));
    const secondStart = log.filter((line) => line.message.startsWith(`run ${run.id} of ingest_readings`))[1];
    assert.ok(secondStart, 'the second attempt logged its start');
    assert.equal(
      (await store.listRuns({ task: 'build_daily' })).length,
      0,
      'downstream: false triggers nothing',
    );
  });

  test('a task that fails on every attempt ends failed and everything downstream is skipped with the reason', async (t) => {
    const setup = await setUp(t, {
      withoutSource: true,
      ingestExtra: 'retries: { attempts: 2, backoff: 100ms }',
    });
    const { orchestrator, store } = setup;
    await orchestrator.start();
    const { queued } = await orchestrator.enqueue({ task: 'ingest_readings', trigger: 'manual' });
    await orchestrator.whenIdle(60_000);

    const failed = (await store.getRun(queued.run.id))!;
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempt, 2);
    assert.match(failed.error ?? '', /no file matches source uri `data\/readings.csv`/);
    for (const task of Object.keys(PROJECTIONS)) {
      const runs = await runsOf(store, task);
      assert.deepEqual(
        runs.map((run) => run.status),
        ['skipped'],
        task,
      );
      assert.match(
        runs[0]!.error ?? '',
        new RegExp(
          `^skipped: upstream task ingest_readings failed \\(run ${queued.run.id}\\): .*no file matches`,
        ),
      );
    }
    assert.equal((await store.listVersions('raw.readings')).length, 0);
  });

  test('a run over its timeout fails with "timed out after …" and publishes nothing', async (t) => {
    // Every run takes longer than 1 ms: what matters is that it stops and publishes nothing.
    const setup = await setUp(t, { ingestExtra: 'timeout: 1ms' });
    const { orchestrator, store } = setup;
    await orchestrator.start();
    const { queued } = await orchestrator.enqueue({ task: 'ingest_readings', trigger: 'manual' });
    await orchestrator.whenIdle(60_000);

    const run = (await store.getRun(queued.run.id))!;
    assert.equal(run.status, 'failed');
    assert.equal(run.error, 'timed out after 1ms');
    const log = (await store.readRunLog(run.id)).map((line) => line.message);
    assert.ok(
      log.some((line) => line.startsWith('timed out after 1ms: stopping at the next statement')),
      log.join('\n'),
    );
    assert.equal((await store.listVersions('raw.readings')).length, 0);
    assert.equal((await runsOf(store, 'build_daily'))[0]?.status, 'skipped');
  });

  test('pause stops triggers and cancels triggered runs; resume catches up on what was missed', async (t) => {
    const setup = await setUp(t);
    const { orchestrator, store, platform } = setup;
    const triggered = await orchestrator.queue.enqueue({
      task: 'build_weekly',
      trigger: 'upstream:mart.daily@7',
    });
    const cancelled = await pauseTask(store, platform.definitions, 'build_weekly');
    assert.deepEqual(
      cancelled.map((run) => run.id),
      [triggered.queued.run.id],
    );
    assert.equal((await store.getRun(triggered.queued.run.id))?.status, 'cancelled');
    assert.match((await store.getRun(triggered.queued.run.id))?.error ?? '', /paused/);

    await orchestrator.start();
    await firstWave(setup);
    assert.deepEqual(await versionNumbers(store, 'mart.daily'), [1]);
    assert.deepEqual(await versionNumbers(store, 'mart.weekly'), [], 'a paused task is not triggered');
    assert.equal((await store.getTaskState('build_weekly'))?.pausedAt !== undefined, true);

    await resumeTask(store, platform.definitions, 'build_weekly');
    await waitFor(
      'build_weekly to catch up',
      async () => (await store.getCurrentVersion('mart.weekly'))?.version === 1,
      30_000,
      50,
    );
    await orchestrator.whenIdle(30_000);
    const runs = (await runsOf(store, 'build_weekly')).filter((run) => run.status !== 'cancelled');
    assert.deepEqual(
      runs.map((run) => [run.status, run.trigger]),
      [['succeeded', 'upstream:mart.daily@1']],
    );
  });

  test('a run whose task lease another process took over stops before publishing', async (t) => {
    const gate = await closedGate(t);
    const log: string[] = [];
    const setup = await setUp(t, { sql: { build_low: gate.lowSql } }, { log: (line) => log.push(line) });
    const { orchestrator, store } = setup;
    await orchestrator.start();
    await orchestrator.enqueue({ task: 'ingest_readings', trigger: 'manual', downstream: false });
    await orchestrator.whenIdle(60_000);
    await orchestrator.enqueue({ task: 'build_low', trigger: 'manual', downstream: false });
    const slow = await waitFor(
      'build_low to be running',
      async () => (await store.listRuns({ task: 'build_low', status: 'running' }))[0],
      60_000,
      20,
    );
    const [lease] = await store.listTaskLeases();
    assert.deepEqual(
      [lease?.task, lease?.owner, lease?.runId],
      ['build_low', orchestrator.owner.id, slow.id],
    );

    // Another process takes the task over (as if this server's heartbeats had stopped reaching the catalog).
    const takeover = await store.acquireTaskLease({
      task: 'build_low',
      owner: 'elsewhere:1:aa',
      runId: 'other-run',
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      replacing: orchestrator.owner.id,
    });
    assert.equal(takeover.acquired, true);
    await waitFor('the heartbeat to see the lease lost', async () =>
      log.some((line) => line.includes(`run ${slow.id} of build_low: lost the task lease; stopping`)),
    );
    await gate.open();
    await orchestrator.whenIdle(60_000);

    const run = (await store.getRun(slow.id))!;
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /lost the lease of task build_low/);
    assert.equal((await store.listVersions('mart.low')).length, 0, 'nothing published');
    assert.deepEqual(
      (await store.listTaskLeases()).map((held) => held.owner),
      ['elsewhere:1:aa'],
      "the other process's lease is left alone",
    );
  });

  test('cancel ends a queued run at once and stops a running one before it publishes; downstream is skipped', async (t) => {
    const gate = await closedGate(t);
    const log: string[] = [];
    const setup = await setUp(t, { sql: { build_low: gate.lowSql } }, { log: (line) => log.push(line) });
    const { orchestrator, store } = setup;
    const waiting = await orchestrator.queue.enqueue({ task: 'build_weekly', trigger: 'manual' });
    assert.equal(await orchestrator.queue.cancel(waiting.queued.run.id), 'cancelled');
    assert.equal((await store.getRun(waiting.queued.run.id))?.status, 'cancelled');
    assert.equal(await orchestrator.queue.cancel(waiting.queued.run.id), 'finished');
    assert.equal(await orchestrator.queue.cancel('no-such-run'), 'not-found');

    await orchestrator.start();
    await orchestrator.enqueue({ task: 'ingest_readings', trigger: 'manual' });
    const slow = await waitFor(
      'build_low to be running',
      async () => (await store.listRuns({ task: 'build_low', status: 'running' }))[0],
      60_000,
      20,
    );
    assert.equal(await orchestrator.queue.cancel(slow.id), 'requested');
    await waitFor('the heartbeat to pick up the cancellation', async () =>
      log.some((line) => line.includes(`run ${slow.id} of build_low: cancellation requested; stopping`)),
    );
    await gate.open();
    await orchestrator.whenIdle(60_000);

    const run = (await store.getRun(slow.id))!;
    assert.equal(run.status, 'cancelled');
    assert.match(run.error ?? '', /^cancelled by request/);
    assert.equal((await store.listVersions('mart.low')).length, 0, 'nothing published');
    const spread = await runsOf(store, 'build_spread');
    assert.deepEqual(
      spread.map((entry) => entry.status),
      ['skipped'],
    );
    assert.match(spread[0]!.error ?? '', /upstream task build_low was cancelled/);
    assert.deepEqual(await versionNumbers(store, 'mart.high'), [1], 'the other branch is unaffected');
  });

  test('stop gives a run still running after the grace period back to the queue; the next start publishes it once', async (t) => {
    const gate = await closedGate(t);
    const setup = await setUp(t, { sql: { build_low: gate.lowSql } });
    const { orchestrator, store, platform } = setup;
    await orchestrator.start();
    await orchestrator.enqueue({ task: 'ingest_readings', trigger: 'manual' });
    const slow = await waitFor(
      'build_low to be running',
      async () => (await store.listRuns({ task: 'build_low', status: 'running' }))[0],
      60_000,
      20,
    );
    // Stop waits for the requeued run's statement to end: it is let through once it is requeued.
    const stopping = orchestrator.stop(100);
    await waitFor(
      'the run to be requeued',
      async () => (await store.getRun(slow.id))?.status === 'queued',
      60_000,
      20,
    );
    await gate.open();
    const released = await stopping;
    assert.ok(released.includes(slow.id), `released ${released.join(', ')}`);
    const requeued = (await store.getRun(slow.id))!;
    assert.equal(requeued.status, 'queued', 'its unwinding work did not overwrite the requeued run');
    assert.equal(requeued.attempt, 1);
    assert.deepEqual(await store.listVersions('mart.low'), []);
    const log = (await store.readRunLog(slow.id)).map((line) => line.message);
    assert.ok(
      log.includes('the server stopped before the run ended; requeued for the next start'),
      log.join('\n'),
    );

    const next = new Orchestrator(internalsOf(platform), { heartbeatMs: 100, pollMs: 50, schedules: false });
    t.after(() => next.stop(10_000));
    await next.start();
    await next.whenIdle(120_000);
    assert.equal((await store.getRun(slow.id))?.status, 'succeeded');
    assert.deepEqual(
      (await store.listVersions('mart.low')).map((version) => version.runId),
      [slow.id],
    );
    assert.equal((await store.listVersions('mart.spread')).length, 1);
  });

  test('schedules start the roots: `every` at once when never run, then each interval; cron on its ticks', async (t) => {
    const root = (name: string, table: string, schedule: string) =>
      `kind: task\nname: ${name}\ntype: ingestion\ntarget: ${table}\nsource: { type: csv, uri: data/readings.csv }\nschedule: ${schedule}\n`;
    // A quarter second past a whole second: the first cron tick is 750 ms away.
    const startedAt = Math.ceil(Date.now() / 1000) * 1000 + 250;
    const clock = new ManualClock(startedAt);
    const setup = await setUp(
      t,
      {
        extraTasks: [
          root('ingest_every', 'raw.every', '{ every: 400ms }'),
          root('ingest_cron', 'raw.cron', "'* * * * * *'"),
        ].join('---\n'),
        extraTables: ['raw.every', 'raw.cron']
          .map((table) => `kind: table\nname: ${table}\nowner: team\nschema: schemas/raw.proto#raw.Reading\n`)
          .join('---\n'),
      },
      { schedules: true, clock },
    );
    const { orchestrator, store } = setup;
    await orchestrator.start();
    const published = async (table: string, count: number) =>
      waitFor(
        `${count} versions of ${table}`,
        async () => (await store.listVersions(table)).length >= count,
        30_000,
        10,
      );
    // [time since start, `every` runs, cron runs] after each step. Each step waits for the runs its
    // ticks queued, so every schedule is armed again before the clock moves on.
    for (const [at, everyRuns, cronRuns] of [
      [0, 1, 0],
      [400, 2, 0],
      [800, 3, 1],
      [1200, 4, 1],
      [1600, 5, 1],
      [1800, 5, 2],
    ] as const) {
      await clock.advance(startedAt + at - clock.now());
      await published('raw.every', everyRuns);
      await published('raw.cron', cronRuns);
    }
    await settle(orchestrator, clock);
    await orchestrator.stop();

    const every = await runsOf(store, 'ingest_every');
    assert.ok(every.every((run) => run.trigger === 'schedule' && run.status === 'succeeded'));
    assert.deepEqual(
      every.map((run) => Date.parse(run.queuedAt) - startedAt),
      [0, 400, 800, 1200, 1600],
      'due at once when never run, then one interval apart',
    );
    const cron = await runsOf(store, 'ingest_cron');
    assert.ok(cron.every((run) => run.trigger === 'schedule' && run.status === 'succeeded'));
    assert.deepEqual(
      cron.map((run) => Date.parse(run.queuedAt) - startedAt),
      [750, 1750],
      'queued on the second',
    );
    assert.equal(
      (await store.listRuns({ task: 'ingest_readings' })).length,
      0,
      'an unscheduled root never runs',
    );
  });

  test('backfill reruns a task and everything downstream of it, once each, in order', async (t) => {
    const setup = await setUp(t);
    const { orchestrator, store, platform } = setup;
    await orchestrator.start();
    await firstWave(setup);
    const queued = await enqueueSelection(
      orchestrator.queue,
      platform.definitions,
      internalsOf(platform).graph,
      {
        tasks: ['build_high'],
        trigger: 'backfill',
      },
    );
    assert.deepEqual(
      queued.map((entry) => entry.run.task),
      ['build_high', 'build_spread'],
    );
    await orchestrator.whenIdle(60_000);
    assert.deepEqual(await versionNumbers(store, 'mart.high'), [1, 2]);
    assert.deepEqual(await versionNumbers(store, 'mart.spread'), [1, 2]);
    assert.deepEqual(await versionNumbers(store, 'mart.low'), [1], 'outside the backfill');
    const [high, spread] = [await store.getRun(queued[0]!.run.id), await store.getRun(queued[1]!.run.id)];
    assert.equal(high?.status, 'succeeded');
    assert.equal(spread?.status, 'succeeded');
    assert.equal(spread?.trigger, 'backfill');
    assert.ok(spread!.startedAt! >= high!.finishedAt!);
    assert.equal(
      (await runsOf(store, 'build_spread')).length,
      2,
      'the publication merged into the queued backfill run',
    );
  });

  test('a run whose process died after publishing is requeued on start, succeeds without publishing again and triggers downstream', async (t) => {
    const setup = await setUp(t);
    const { orchestrator, store, platform } = setup;
    // What a kill -9 between publication and the end of the run leaves behind.
    const { queued } = await orchestrator.queue.enqueue({ task: 'ingest_readings', trigger: 'schedule' });
    const deadOwner = `${hostname()}:2147483646:deadbeef`;
    await orchestrator.queue.claimNext(deadOwner);
    await runTask(await internalsOf(platform).runContext(), 'ingest_readings', { runId: queued.run.id });
    await store.updateRun(queued.run.id, { status: 'running', finishedAt: undefined, published: undefined });

    await orchestrator.start();
    await orchestrator.whenIdle(60_000);

    const run = (await store.getRun(queued.run.id))!;
    assert.equal(run.status, 'succeeded');
    assert.deepEqual(
      (await store.listVersions('raw.readings')).map((version) => version.runId),
      [queued.run.id],
      'published exactly once',
    );
    const log = (await store.readRunLog(run.id)).map((line) => line.message);
    assert.ok(
      log.includes(`the process running attempt 1 (${deadOwner}) died; queued again as the same attempt`),
      log.join('\n'),
    );
    assert.ok(log.some((line) => line.includes('already published raw.readings version 1; nothing to redo')));
    for (const [task, { target }] of Object.entries(PROJECTIONS)) {
      assert.deepEqual(await versionNumbers(store, target), [1], `${task} ran once`);
    }
  });

  test('on start, projections that missed an upstream publication catch up', async (t) => {
    const setup = await setUp(t);
    const { orchestrator, store, platform } = setup;
    await orchestrator.start();
    await firstWave(setup);
    await orchestrator.stop();
    // Published while no server ran: nothing was triggered.
    await runTask(await internalsOf(platform).runContext(), 'ingest_readings', { trigger: 'manual' });

    const restarted = new Orchestrator(internalsOf(platform), {
      heartbeatMs: 100,
      pollMs: 50,
      schedules: false,
    });
    t.after(() => restarted.stop(10_000));
    await restarted.start();
    await restarted.whenIdle(60_000);
    for (const [task, { target }] of Object.entries(PROJECTIONS)) {
      assert.deepEqual(await versionNumbers(store, target), [1, 2], `${task} caught up once`);
    }
    assert.equal((await runsOf(store, 'build_daily'))[1]?.trigger, 'upstream:raw.readings@2');
  });
});
