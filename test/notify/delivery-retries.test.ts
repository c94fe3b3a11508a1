// A failing channel costs only its own delivery: the run is recorded, the other channels are told,
// and the failed delivery is retried with backoff until it is accepted, or given up after the last
// attempt. Time is passed to the notifier by hand.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Delivery } from '../../src/model/index.ts';
import { MAX_DELIVERY_ATTEMPTS } from '../../src/notify/notifier.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { writeRepo } from '../support/cli.ts';
import { startReceiver } from '../support/notification-receivers.ts';
import {
  MEMBERS_CSV_WITHOUT_DOB,
  monitoredEnv,
  monitoredRepo,
  startMonitoringServices,
} from './monitoring-fixture.ts';

/**
 * The monitored repo, applied and run once, then its source broken; its Slack webhook answers with
 * `slackAnswer`. Everything is closed when the test ends.
 */
async function brokenSourceWithSlack(t: TestContext, slackAnswer: Parameters<typeof startReceiver>[0]) {
  const services = await startMonitoringServices();
  const slack = await startReceiver(slackAnswer);
  const repo = await writeRepo(monitoredRepo(services));
  t.after(async () => {
    await services.close();
    await slack.close();
    await rm(repo, { recursive: true, force: true });
  });
  const platform = await Platform.open({ repo, env: { ...process.env, ...monitoredEnv({ slack }) } });
  t.after(() => platform.close());
  await platform.apply();
  await platform.run({ tasks: [], all: true });
  await writeFile(join(repo, 'data/members.csv'), MEMBERS_CSV_WITHOUT_DOB);
  return { services, slack, platform };
}

test('a failing channel is retried with backoff while the others are told at once', async (t) => {
  let slackAnswers = 0;
  // Slack answers 500 twice, then accepts.
  const { services, slack, platform } = await brokenSourceWithSlack(t, () =>
    ++slackAnswers <= 2 ? { status: 500, body: 'internal_error' } : { status: 200, body: 'ok' },
  );

  const warnings: string[] = [];
  const [run] = await platform.run({ tasks: ['ingest_members'] }, undefined, {
    warn: (text) => void warnings.push(text),
  });
  assert.equal(run?.status, 'failed', 'the run is recorded whatever its channels do');
  assert.equal(services.pagerduty.requests.length, 1, 'the other channels are told at once');
  assert.equal(services.mail.length, 2);
  assert.equal(slack.requests.length, 1);
  assert.match(
    warnings.join('\n'),
    /notification to clinical-data by slack failed \(attempt 1; retried at .*\): slack webhook at 127\.0\.0\.1:\d+ answered 500: internal_error/,
  );

  const slackDelivery = async (): Promise<Delivery> =>
    (await internalsOf(platform).store.listDeliveries()).find((entry) => entry.channelType === 'slack')!;
  await platform.deliverNotifications({ now: () => Date.now(), warn: () => {} });
  let delivery = await slackDelivery();
  assert.equal(delivery.status, 'pending');
  assert.equal(delivery.attempts, 1);
  assert.match(delivery.lastError ?? '', /answered 500/);
  assert.equal(slack.requests.length, 1, 'not due yet: nothing sent');

  const waitedMs = Date.parse(delivery.nextAttemptAt!) - Date.now();
  assert.ok(waitedMs > 25_000 && waitedMs <= 30_000, `the first retry waits 30 s, not ${waitedMs} ms`);
  const later = (ms: number) => platform.deliverNotifications({ now: () => Date.now() + ms, warn: () => {} });
  await later(31_000);
  delivery = await slackDelivery();
  assert.equal(delivery.attempts, 2);
  assert.equal(delivery.status, 'pending');
  const secondWaitMs = Date.parse(delivery.nextAttemptAt!) - (Date.now() + 31_000);
  assert.ok(
    secondWaitMs > 55_000 && secondWaitMs <= 60_000,
    `the second retry waits 1 min, not ${secondWaitMs} ms`,
  );
  await later(31_000 + 61_000);
  delivery = await slackDelivery();
  assert.equal(delivery.status, 'delivered');
  assert.equal(delivery.attempts, 3);
  assert.equal(slack.requests.length, 3);
  assert.equal(services.pagerduty.requests.length, 1, 'retrying one channel never re-sends another');
});

test(`a channel that keeps failing is given up after ${MAX_DELIVERY_ATTEMPTS} attempts`, async (t) => {
  const { slack, platform } = await brokenSourceWithSlack(t, () => ({ status: 404, body: 'no_service' }));
  await platform.run({ tasks: ['ingest_members'] }, undefined, { warn: () => {} });
  // Each pass a day later: every retry is due.
  for (let day = 1; day < MAX_DELIVERY_ATTEMPTS + 3; day += 1) {
    await platform.deliverNotifications({ now: () => Date.now() + day * 86_400_000, warn: () => {} });
  }
  assert.equal(slack.requests.length, MAX_DELIVERY_ATTEMPTS);
  const failed = await internalsOf(platform).store.listDeliveries({ status: 'failed' });
  assert.deepEqual(
    failed.map((delivery) => [delivery.channelType, delivery.attempts]),
    [['slack', MAX_DELIVERY_ATTEMPTS]],
  );
});
