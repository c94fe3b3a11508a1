// Monitoring under `serve`: a notification left behind by a process killed with SIGKILL is delivered
// once by the next server, and a table whose `freshness.error_after` passes turns stale and its owner
// is told exactly once, then reminded, then told it recovered. Time moves by hand (ManualClock).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { Delivery } from '../../src/model/index.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { writeRepo } from '../support/cli.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { assertValidPagerDutyEvent, type Json } from '../support/notification-receivers.ts';
import {
  MEMBERS_CSV_WITHOUT_DOB,
  monitoredEnv,
  monitoredRepo,
  startMonitoringServices,
} from './monitoring-fixture.ts';

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/tessera.js');
const HOUR = 3_600_000;

/** A webhook receiver that holds the first request unanswered (the sender dies waiting) and answers the rest. */
async function holdingReceiver() {
  const answered: Buffer[] = [];
  const held: ServerResponse[] = [];
  let firstArrived!: () => void;
  const arrived = new Promise<void>((resolveArrived) => (firstArrived = resolveArrived));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (held.length === 0) {
        held.push(res);
        firstArrived();
        return;
      }
      answered.push(Buffer.concat(chunks));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived,
    answered,
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}

describe('monitoring under serve', () => {
  test('a notification left by a process killed right after recording a failed run is delivered once by the next serve', async (t) => {
    const services = await startMonitoringServices();
    const hook = await holdingReceiver();
    // One channel, held open by its receiver: the process dies with nothing else in flight.
    const repo = await writeRepo({
      ...monitoredRepo(services),
      'owners/owners.yaml': `kind: owner
name: clinical-data
channels:
  - webhook: { url: "${hook.origin}/hook" }
---
kind: owner
name: analytics
---
kind: owner
name: ops
`,
    });
    t.after(async () => {
      await services.close();
      await hook.close();
      await rm(repo, { recursive: true, force: true });
    });
    const env = { ...process.env, ...monitoredEnv(services) };
    const platform = await Platform.open({ repo, env });
    await platform.apply();
    await platform.run({ tasks: [], all: true });
    await platform.close();
    await writeFile(join(repo, 'data/members.csv'), MEMBERS_CSV_WITHOUT_DOB);

    // `tessera run` records the failure, tells the owner, and is killed while the webhook is sent.
    const child = spawn(process.execPath, [BIN, '--repo', repo, 'run', 'ingest_members'], {
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolveExit) =>
      child.on('exit', (code, signal) => resolveExit(signal ?? code)),
    );
    await hook.arrived;
    child.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const reopened = await Platform.open({ repo, env });
    const store = internalsOf(reopened).store;
    const [failed] = await store.listRuns({ task: 'ingest_members', status: 'failed' });
    assert.ok(failed, 'the failed run was recorded before the kill');
    const left = (await store.listDeliveries()).filter((delivery) => delivery.status === 'pending');
    assert.deepEqual(
      left.map((delivery) => `${delivery.owner}/${delivery.channelType}/${delivery.attempts}`),
      ['clinical-data/webhook/0'],
      'the webhook was claimed, never recorded as sent',
    );

    // The next server starts past the dead sender's claim on the delivery.
    const clock = new ManualClock(Date.now() + 10 * 60_000);
    const server = await reopened.serve({ concurrency: 1, debounceMs: 10, clock, writeConsole: () => {} });
    try {
      await server.monitor.idle();
      assert.equal(hook.answered.length, 1, 'delivered by the new server');
      const body = JSON.parse(hook.answered[0]!.toString('utf8')) as Json;
      assert.equal(body.kind, 'task_failed');
      assert.equal(body.runId, failed.id);
      server.monitor.request();
      await server.monitor.idle();
      assert.equal(hook.answered.length, 1, 'once');
    } finally {
      await server.stop(1000);
    }
    const check = await Platform.open({ repo, env });
    const deliveries: Delivery[] = await internalsOf(check).store.listDeliveries();
    await check.close();
    assert.ok(
      deliveries.every((delivery) => delivery.status === 'delivered'),
      JSON.stringify(deliveries),
    );
  });

  test('a table past freshness.error_after turns stale under serve; its owner is told once, reminded, then told it recovered', async (t) => {
    const services = await startMonitoringServices();
    const repo = await writeRepo(
      monitoredRepo(services, { freshness: '{ error_after: 1h }', reminders: '10m' }),
    );
    t.after(async () => {
      await services.close();
      await rm(repo, { recursive: true, force: true });
    });
    const env = { ...process.env, ...monitoredEnv(services) };
    const platform = await Platform.open({ repo, env });
    await platform.apply();
    await platform.run({ tasks: [], all: true });

    assert.equal(
      (await platform.health()).find((entry) => entry.table === 'care.members')?.health,
      'healthy',
    );
    assert.equal(services.total(), 0, 'fresh: nobody is told');

    // The server starts an hour and a minute after the publication; time then moves by hand.
    const clock = new ManualClock(Date.now() + HOUR + 60_000);
    const server = await platform.serve({
      concurrency: 1,
      debounceMs: 10,
      clock,
      monitorEveryMs: 60_000,
      writeConsole: () => {},
    });
    try {
      await server.monitor.idle();
      const health = await platform.health(clock.now());
      assert.equal(health.find((entry) => entry.table === 'care.members')?.health, 'stale');
      assert.equal(services.mail.length, 1);
      assert.match(
        services.mail[0]!.subject ?? '',
        /sla_missed: care\.members is stale: version 1 was published 1h/,
      );
      assert.equal(services.slack.requests.length, 1);
      assert.equal(services.pagerduty.requests.length, 1);
      const trigger = JSON.parse(services.pagerduty.requests[0]!.body.toString('utf8')) as Json;
      assertValidPagerDutyEvent(trigger);
      assert.equal(trigger.event_action, 'trigger');

      await clock.advance(5 * 60_000);
      await server.monitor.idle();
      assert.equal(services.total(), 3, 'told exactly once while no reminder is due');

      await clock.advance(6 * 60_000);
      await server.monitor.idle();
      assert.equal(services.total(), 6, 'a reminder on every channel after reminders.every');
      assert.match(services.mail[1]!.subject ?? '', /^Reminder: /);
      const reminder = JSON.parse(services.pagerduty.requests[1]!.body.toString('utf8')) as Json;
      assert.equal(reminder.dedup_key, trigger.dedup_key);

      // A new version makes the table fresh again: the run that published it says so at once.
      await platform.run({ tasks: ['ingest_members'] });
      const resolved = JSON.parse(services.pagerduty.requests.at(-1)!.body.toString('utf8')) as Json;
      assert.equal(resolved.event_action, 'resolve');
      assert.equal(resolved.dedup_key, trigger.dedup_key);
      assert.match(services.mail.at(-1)!.subject ?? '', /^Resolved: /);
      assert.equal(
        (await platform.health()).find((entry) => entry.table === 'care.members')?.health,
        'healthy',
      );
    } finally {
      await server.stop(1000);
    }
  });
});
