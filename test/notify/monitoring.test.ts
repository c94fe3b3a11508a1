// Monitoring end to end (SPEC §4): a broken ingestion reaches its owner by email, Slack, PagerDuty
// and a signed webhook, and the subscriber of a table two hops downstream; repeated failures send
// nothing new; the fix sends `recovered` and resolves the PagerDuty incident; health follows.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Delivery, TableHealth } from '../../src/model/index.ts';
import { Platform } from '../../src/platform.ts';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import {
  assertValidBlocks,
  assertValidPagerDutyEvent,
  type Json,
} from '../support/notification-receivers.ts';
import {
  MEMBERS_CSV,
  MEMBERS_CSV_WITHOUT_DOB,
  PD_ROUTING_KEY,
  WEBHOOK_SECRET,
  monitoredEnv,
  monitoredRepo,
  startMonitoringServices,
  type MonitoringServices,
} from './monitoring-fixture.ts';

const json = (body: Buffer): Json => JSON.parse(body.toString('utf8')) as Json;

describe('monitoring a broken ingestion end to end', () => {
  let services: MonitoringServices;
  let repo: string;
  let env: Record<string, string>;
  const warnings: string[] = [];

  before(async () => {
    services = await startMonitoringServices();
    repo = await writeRepo(monitoredRepo(services));
    env = monitoredEnv(services);
    await withPlatform((platform) => platform.apply());
  });
  after(async () => {
    await services.close();
    await rm(repo, { recursive: true, force: true });
  });

  async function withPlatform<T>(work: (platform: Platform) => Promise<T>): Promise<T> {
    const platform = await Platform.open({ repo, env: { ...process.env, ...env } });
    try {
      return await work(platform);
    } finally {
      await platform.close();
    }
  }

  const runIngestion = () =>
    withPlatform((platform) =>
      platform.run({ tasks: ['ingest_members'] }, undefined, { warn: (message) => warnings.push(message) }),
    );

  async function health(): Promise<Map<string, TableHealth>> {
    const result = await tesseraInProcess(['--repo', repo, '--json', 'health'], { env });
    const entries = JSON.parse(result.stdout) as TableHealth[];
    return new Map(entries.map((entry) => [entry.table, entry]));
  }

  test('a healthy run tells nobody and every table is healthy', async () => {
    const runs = await withPlatform((platform) => platform.run({ tasks: [], all: true }));
    assert.deepEqual(
      runs.map((run) => run.status),
      ['succeeded', 'succeeded', 'succeeded'],
    );
    assert.equal(services.total(), 0);
    const healthy = await health();
    assert.deepEqual(
      [...healthy.values()].map((entry) => entry.health),
      ['healthy', 'healthy', 'healthy'],
    );
  });

  test('a required column removed from the CSV reaches every channel of the owner and the downstream subscriber', async () => {
    await writeFile(join(repo, 'data/members.csv'), MEMBERS_CSV_WITHOUT_DOB);
    const [ingest] = await runIngestion();
    assert.equal(ingest?.status, 'failed');
    assert.deepEqual(warnings, [], 'every channel accepted its message');

    // Email: the owner's, naming the missing column and linking the table; and the downstream
    // tables' owner, whose email channel takes upstream_failed.
    const recipientOf = (mail: (typeof services.mail)[number]): string =>
      mail.to && !Array.isArray(mail.to) ? mail.to.value.map((address) => address.address).join() : '';
    const emails = new Map(services.mail.map((mail) => [recipientOf(mail), mail]));
    assert.deepEqual([...emails.keys()].sort(), ['analytics@example.org', 'clinical-data@example.org']);
    const email = emails.get('clinical-data@example.org')!;
    assert.match(email.subject ?? '', /\[clinic\] task_failed: care\.members not published: .*dob/);
    assert.match(email.text ?? '', /dob/);
    assert.match(email.text ?? '', /https:\/\/tessera\.example\.org\/tables\/care\.members/);
    assert.match(String(email.html), /href="https:\/\/tessera\.example\.org\/tables\/care\.members"/);
    const downstream = emails.get('analytics@example.org')!;
    assert.match(
      downstream.subject ?? '',
      /\[clinic\] upstream_failed: analytics\.member_(counts|report) is out of date/,
    );

    // Slack: valid Block Kit with the plain-text fallback.
    assert.equal(services.slack.requests.length, 1);
    assert.equal(services.slack.requests[0]!.path, '/services/T000/B000/slacksecret');
    const slack = json(services.slack.requests[0]!.body);
    assert.match(slack.text as string, /care\.members not published/);
    assertValidBlocks(slack.blocks);

    // PagerDuty: a valid trigger with a dedup key.
    assert.equal(services.pagerduty.requests.length, 1);
    const trigger = json(services.pagerduty.requests[0]!.body);
    assertValidPagerDutyEvent(trigger);
    assert.equal(trigger.event_action, 'trigger');
    assert.equal(trigger.routing_key, PD_ROUTING_KEY);
    assert.equal((trigger.payload as Json).severity, 'error');

    // Webhook: the subscriber of analytics.member_report (two hops downstream) is told upstream_failed,
    // and the signature verifies with the channel's secret.
    assert.equal(services.webhook.requests.length, 1);
    const hook = services.webhook.requests[0]!;
    const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(hook.body).digest('hex')}`;
    assert.equal(hook.headers['x-tessera-signature-256'], expected);
    const body = json(hook.body);
    assert.equal(body.kind, 'upstream_failed');
    assert.equal(body.recipient, 'ops');
    assert.equal(body.table, 'analytics.member_report');
    assert.match(body.cause as string, /care\.members not published/);

    const healthNow = await health();
    assert.equal(healthNow.get('care.members')?.health, 'failing');
    assert.match(healthNow.get('care.members')!.reason, /dob/);
    assert.equal(healthNow.get('analytics.member_counts')?.health, 'upstream_failing');
    assert.equal(healthNow.get('analytics.member_report')?.health, 'upstream_failing');
    const cli = await tesseraInProcess(['--repo', repo, 'health'], { env });
    assert.equal(cli.code, 1, 'a failing table makes `tessera health` exit 1');
  });

  test('two more failing runs of the same task send nothing new', async () => {
    const before = services.total();
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const [ingest] = await runIngestion();
      assert.equal(ingest?.status, 'failed');
    }
    assert.equal(services.total(), before);
    const incidents = JSON.parse(
      (await tesseraInProcess(['--repo', repo, '--json', 'incidents'], { env })).stdout,
    ) as { status: string; eventCount: number; deliveries: Delivery[] }[];
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0]!.status, 'open');
    assert.equal(incidents[0]!.eventCount, 3);
    assert.deepEqual(
      incidents[0]!.deliveries
        .map((delivery) => `${delivery.owner}/${delivery.channelType}/${delivery.status}`)
        .sort(),
      [
        'analytics/email/delivered',
        'clinical-data/email/delivered',
        'clinical-data/pagerduty/delivered',
        'clinical-data/slack/delivered',
        'ops/webhook/delivered',
      ],
    );
  });

  test('fixing the source sends recovered and resolves the PagerDuty incident with its dedup key', async () => {
    await writeFile(join(repo, 'data/members.csv'), MEMBERS_CSV);
    const runs = await withPlatform((platform) => platform.run({ tasks: ['ingest_members'] }));
    assert.ok(runs.every((run) => run.status === 'succeeded'));

    const [trigger, resolve] = services.pagerduty.requests.map((request) => json(request.body));
    assert.ok(resolve, 'PagerDuty got a second event');
    assertValidPagerDutyEvent(resolve);
    assert.equal(resolve.event_action, 'resolve');
    assert.equal(resolve.dedup_key, trigger!.dedup_key);

    assert.equal(services.mail.length, 4, 'both email recipients heard the resolution');
    const resolutions = services.mail.slice(2).map((mail) => mail.subject ?? '');
    for (const subject of resolutions) {
      assert.match(subject, /^Resolved: \[clinic\] recovered: .*care\.members published version 2/);
    }
    assert.equal(services.slack.requests.length, 2);
    assert.equal(services.webhook.requests.length, 2);
    const resolution = json(services.webhook.requests[1]!.body);
    assert.equal(resolution.phase, 'resolved');
    assert.equal(resolution.table, 'analytics.member_report');

    const healthNow = await health();
    assert.deepEqual(
      [...healthNow.values()].map((entry) => `${entry.table}: ${entry.health}`),
      ['analytics.member_counts: healthy', 'analytics.member_report: healthy', 'care.members: healthy'],
    );
    const show = JSON.parse(
      (await tesseraInProcess(['--repo', repo, '--json', 'show', 'care.members'], { env })).stdout,
    ) as { health: { health: string } };
    assert.equal(show.health.health, 'healthy');
    const notifications = JSON.parse(
      (await tesseraInProcess(['--repo', repo, '--json', 'notifications'], { env })).stdout,
    ) as Delivery[];
    assert.equal(notifications.length, 10, 'five opened, five resolved');
    assert.ok(notifications.every((delivery) => delivery.status === 'delivered' && delivery.attempts === 1));
  });
});
