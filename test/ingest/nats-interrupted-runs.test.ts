// A NATS consumer stopped mid-batch — its run cancelled, or its process killed before or after
// publication — loses no message and publishes none twice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { RunCancelledError, runTask } from '../../src/runner/index.ts';
import { applied, natsAvailable, query, runOnce, runUntilCaughtUp, streamRepo } from './nats-fixture.ts';

const { skip } = await natsAvailable();

const COUNTS = 'select count(*)::int as n, count(distinct event_id)::int as ids from ops.events';
const WORKTREE = fileURLToPath(new URL('../..', import.meta.url));
const KILLED_RUN = fileURLToPath(new URL('./nats-killed-run.fixture.ts', import.meta.url));

function events(from: number, count: number) {
  return Array.from({ length: count }, (_, offset) => ({
    id: `e${from + offset}`,
    body: { event_id: `e${from + offset}`, amount: from + offset },
  }));
}

/**
 * A child process that runs the task once `start()` is called and is killed at the first log line
 * matching `pattern`. It loads its modules at once, so that start-up overlaps the test's other work.
 */
function killedRun(
  repo: string,
  pattern: string,
): { start(): Promise<{ signal: string | null; stderr: string }>; stop(): Promise<unknown> } {
  const child = spawn(process.execPath, ['--import', 'tsx', KILLED_RUN, repo, pattern], {
    cwd: WORKTREE,
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ended = new Promise<{ signal: string | null; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, stderr }));
  });
  return {
    start() {
      child.stdin.end('start\n');
      return ended;
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return ended;
    },
  };
}

test(
  'a run cancelled after staging its batch publishes nothing, and the next run publishes every message once',
  { skip },
  async (t) => {
    // Batches divide the messages: each run but the last (nothing new) ends once its batch is full.
    const stream = await applied(await streamRepo({ batch: '{ max_rows: 2500, max_wait: 1s }' }));
    t.after(() => stream.close());
    await stream.publish(events(0, 5_000));

    const platform = await Platform.open({ repo: stream.repo });
    const controller = new AbortController();
    const context = await internalsOf(platform).runContext((line) => {
      if (line.message.startsWith('conformed and wrote')) {
        controller.abort(new RunCancelledError('run cancelled by the test'));
      }
    });
    const cancelled = await runTask(context, 'load_events', { signal: controller.signal });
    await platform.close();
    assert.equal(cancelled.status, 'cancelled', cancelled.error);
    assert.deepEqual(
      await (async () => {
        const reopened = await Platform.open({ repo: stream.repo });
        try {
          return (await internalsOf(reopened).store.listVersions('ops.events')).length;
        } finally {
          await reopened.close();
        }
      })(),
      0,
    );

    const { runs } = await runUntilCaughtUp(stream.repo);
    assert.deepEqual(
      runs.map((run) => [run.status, run.rowsWritten]),
      [
        ['succeeded', 2_500],
        ['succeeded', 5_000],
        ['skipped', undefined],
      ],
    );
    assert.deepEqual(await query(stream.repo, COUNTS), [{ n: 5_000, ids: 5_000 }]);
  },
);

test(
  'a process killed before publication loses nothing; one killed after publication, before acknowledging, publishes nothing twice',
  { skip },
  async (t) => {
    // Batches divide the messages, so the killed runs read full batches without waiting out max_wait.
    const stream = await applied(await streamRepo({ batch: '{ max_rows: 3000, max_wait: 1s }' }));
    t.after(() => stream.close());
    const killedBefore = killedRun(stream.repo, '^conformed and wrote');
    const killedAfter = killedRun(stream.repo, '^published ops\\.events version 2 ');
    t.after(() => Promise.all([killedBefore.stop(), killedAfter.stop()]));
    await stream.publish(events(0, 6_000));

    const beforePublication = await killedBefore.start();
    assert.equal(beforePublication.signal, 'SIGKILL', beforePublication.stderr);
    const afterKill = await runOnce(stream.repo);
    assert.equal(afterKill.run.status, 'succeeded', afterKill.run.error);
    assert.ok(
      afterKill.log.includes(
        'consumer tessera-load_events restarts at sequence 1: 3000 message(s) it delivered were never acknowledged (a run stopped before acknowledging them)',
      ),
      afterKill.log.join('\n'),
    );
    assert.deepEqual(await query(stream.repo, COUNTS), [{ n: 3_000, ids: 3_000 }]);

    // Published messages 3001-6000, then killed before acknowledging them.
    const afterPublication = await killedAfter.start();
    assert.equal(afterPublication.signal, 'SIGKILL', afterPublication.stderr);
    assert.deepEqual(await query(stream.repo, COUNTS), [{ n: 6_000, ids: 6_000 }]);

    await stream.publish(events(6_000, 500));
    const { runs, log } = await runUntilCaughtUp(stream.repo);
    assert.ok(
      log.includes(
        'consumer tessera-load_events restarts at sequence 6001: 3000 message(s) it delivered were never acknowledged (a run stopped before acknowledging them)',
      ),
      log.join('\n'),
    );
    assert.deepEqual(
      runs.map((run) => run.status),
      ['succeeded', 'skipped'],
    );
    assert.deepEqual(await query(stream.repo, COUNTS), [{ n: 6_500, ids: 6_500 }]);
  },
);
