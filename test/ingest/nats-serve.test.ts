// `schedule: { on: stream }` under the orchestrator (`tessera serve`): a NATS task reads batch after
// batch, one version per batch, until it is paused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Orchestrator } from '../../src/orchestrator/index.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { waitFor } from '../orchestrator/orchestration-fixture.ts';
import { applied, natsAvailable, streamRepo } from './nats-fixture.ts';

const { skip } = await natsAvailable();

function events(from: number, count: number) {
  return Array.from({ length: count }, (_, offset) => ({
    id: `e${from + offset}`,
    body: { event_id: `e${from + offset}`, amount: from + offset },
  }));
}

test(
  'a stream task runs continuously under serve: every batch is a version, no message twice',
  { skip },
  async (t) => {
    const stream = await applied(
      await streamRepo({
        batch: '{ max_rows: 400, max_wait: 300ms }',
        extraSource: '',
        mode: 'append\nschedule: { on: stream }',
      }),
    );
    t.after(() => stream.close());
    const platform = await Platform.open({ repo: stream.repo });
    const { store } = internalsOf(platform);
    const orchestrator = new Orchestrator(internalsOf(platform), { heartbeatMs: 100, pollMs: 50 });
    t.after(async () => {
      await orchestrator.stop(10_000);
      await platform.close();
    });
    await orchestrator.start();

    await stream.publish(events(0, 1_000));
    await waitFor(
      '1,000 messages published',
      async () => (await store.getCurrentVersion('ops.events'))?.rowCount === 1_000,
    );
    await stream.publish(events(1_000, 150));
    const last = await waitFor('1,150 messages published', async () => {
      const version = await store.getCurrentVersion('ops.events');
      return version?.rowCount === 1_150 ? version : undefined;
    });
    const rows = await platform.query(
      'select count(*)::int as n, count(distinct event_id)::int as ids from ops.events',
    );
    assert.deepEqual(rows.rows, [{ n: 1_150, ids: 1_150 }]);
    // At most 400 messages per batch: at least three versions for the first 1,000, one more after.
    const versions = await store.listVersions('ops.events');
    assert.ok(versions.length >= 4, `versions: ${versions.map((version) => version.rowCount).join(', ')}`);
    const runs = await store.listRuns({ task: 'load_events' });
    assert.ok(
      runs.every((run) => run.trigger === 'stream'),
      runs.map((run) => run.trigger).join(', '),
    );
    assert.ok(
      versions.every(
        (version, index) =>
          index === versions.length - 1 || version.rowCount - versions[index + 1]!.rowCount <= 400,
      ),
      'no batch is larger than max_rows',
    );
    assert.equal(last.version, versions[0]!.version);
  },
);
