import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { ChannelDef, NotificationSettings } from '../../src/model/index.ts';
import {
  createChannelSender,
  DeliveryError,
  messageHtml,
  messageText,
  messageTitle,
  pagerDutyDedupKey,
  verifyWebhookSignature,
  type NotificationMessage,
} from '../../src/notify/index.ts';
import {
  assertValidBlocks,
  closedPort,
  mrkdwnTexts,
  startReceiver,
  type Json,
} from '../support/notification-receivers.ts';

const MESSAGE: NotificationMessage = {
  project: 'clinical-analytics',
  incidentId: 'inc-7f3a',
  phase: 'opened',
  kind: 'task_failed',
  severity: 'error',
  table: 'care.members',
  task: 'ingest_members',
  runId: 'run-42',
  attempt: 2,
  cause: 'care.members not published: column DOB missing in data/members.csv',
  link: 'https://tessera.example.org/tables/care.members',
  at: '2026-12-06T03:00:00.000Z',
  recipient: 'clinical-data',
};

const SLACK_PATH = '/services/T0SECRET/B0SECRET/slack-path-secret';
const ROUTING_KEY = 'R0UTINGKEYSECRET0000000000000000';
const WEBHOOK_SECRET = 'webhook-signing-secret';
const SMTP_PASSWORD = 'smtp-pa55word';

function settings(overrides: Partial<NotificationSettings> = {}): NotificationSettings {
  return {
    pagerdutyEventsUrl: 'http://127.0.0.1:1/v2/enqueue',
    uiUrl: 'https://tessera.example.org',
    ...overrides,
  };
}

/** Await `promise`, assert it throws a DeliveryError, and return its message. */
async function deliveryFailure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => assert.fail('expected a DeliveryError'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof DeliveryError, `expected a DeliveryError, got ${String(error)}`);
  assert.doesNotMatch(error.message, /\n/, 'one line');
  return error.message;
}

function assertNoSecret(text: string): void {
  for (const secret of [SLACK_PATH, 'slack-path-secret', ROUTING_KEY, WEBHOOK_SECRET, SMTP_PASSWORD]) {
    assert.ok(!text.includes(secret), `"${text}" shows a secret`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('notification message', () => {
  it('titles name the project, kind and cause, prefixed past the opening', () => {
    assert.equal(
      messageTitle(MESSAGE),
      '[clinical-analytics] task_failed: care.members not published: column DOB missing in data/members.csv',
    );
    assert.match(messageTitle({ ...MESSAGE, phase: 'resolved', kind: 'recovered' }), /^Resolved: \[clinical/);
    assert.match(messageTitle({ ...MESSAGE, phase: 'reminder' }), /^Reminder: \[clinical/);
    assert.doesNotMatch(messageTitle({ ...MESSAGE, cause: 'two\nlines' }), /\n/);
  });

  it('text lists table, task, run with attempt, cause and link', () => {
    const text = messageText(MESSAGE);
    assert.match(text, /^Table: +care\.members$/m);
    assert.match(text, /^Task: +ingest_members$/m);
    assert.match(text, /^Run: +run-42 \(attempt 2\)$/m);
    assert.match(text, /^Cause: +care\.members not published: column DOB missing/m);
    assert.match(text, /^Link: +https:\/\/tessera\.example\.org\/tables\/care\.members$/m);
  });

  it('HTML escapes what came from data', () => {
    const html = messageHtml({ ...MESSAGE, cause: 'column <script>alert("x")</script> & more' });
    assert.ok(!html.includes('<script>'));
    assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more'));
  });
});

describe('channels against real receivers', () => {
  describe('slack', () => {
    it('posts Block Kit blocks with a plain text fallback', async () => {
      const slack = await startReceiver(() => ({ status: 200, body: 'ok' }));
      const sender = createChannelSender(settings());
      try {
        await sender.send(MESSAGE, { type: 'slack', webhook: `${slack.origin}${SLACK_PATH}` });
        assert.equal(slack.requests.length, 1);
        const request = slack.requests[0]!;
        assert.equal(request.path, SLACK_PATH);
        assert.match(request.headers['content-type'] ?? '', /^application\/json/);
        const body = JSON.parse(request.body.toString('utf8')) as { text: string; blocks: Json[] };
        assert.match(body.text, /task_failed: care\.members not published: column DOB missing/);
        assertValidBlocks(body.blocks);
        const all = JSON.stringify(body.blocks);
        assert.ok(all.includes('column DOB missing in data/members.csv'), 'the cause');
        assert.ok(all.includes('run-42 (attempt 2)'), 'the run');
        const button = body.blocks.find((block) => block.type === 'actions') as { elements: Json[] };
        assert.equal(button.elements[0]!.url, MESSAGE.link);
      } finally {
        await sender.close();
        await slack.close();
      }
    });

    it('keeps Block Kit valid for long causes and characters Slack treats as markup', async () => {
      const slack = await startReceiver(() => ({ status: 200, body: 'ok' }));
      const sender = createChannelSender(settings());
      try {
        const cause = `values <@U123> & <!channel> ${'x'.repeat(5000)}`;
        await sender.send({ ...MESSAGE, cause }, { type: 'slack', webhook: `${slack.origin}${SLACK_PATH}` });
        const body = JSON.parse(slack.requests[0]!.body.toString('utf8')) as { text: string; blocks: Json[] };
        assertValidBlocks(body.blocks);
        assert.ok(body.text.length <= 3000);
        // mrkdwn (unlike plain_text) turns `<!channel>` into a mention: data must never notify a channel.
        const mrkdwn = [body.text, ...mrkdwnTexts(body.blocks)];
        assert.ok(mrkdwn.length > 1);
        for (const text of mrkdwn) assert.ok(!text.includes('<!channel>') && !text.includes('<@U123>'), text);
      } finally {
        await sender.close();
        await slack.close();
      }
    });

    it('reports Slack error answers with the status and code, never the webhook path', async () => {
      const slack = await startReceiver(() => ({ status: 404, body: 'no_service' }));
      const sender = createChannelSender(settings());
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'slack', webhook: `${slack.origin}${SLACK_PATH}` }),
        );
        assert.equal(message, `slack webhook at ${slack.host} answered 404: no_service`);
        assertNoSecret(message);
      } finally {
        await sender.close();
        await slack.close();
      }
    });
  });

  describe('pagerduty', () => {
    const PAGERDUTY_SEVERITIES = ['critical', 'error', 'warning', 'info'];

    it('triggers with the Events API v2 fields, then resolves with the same dedup key', async () => {
      const pagerduty = await startReceiver(() => ({
        status: 202,
        body: JSON.stringify({ status: 'success', message: 'Event processed' }),
      }));
      const sender = createChannelSender(settings({ pagerdutyEventsUrl: `${pagerduty.origin}/v2/enqueue` }));
      const channel: ChannelDef = { type: 'pagerduty', routingKey: ROUTING_KEY };
      try {
        await sender.send(MESSAGE, channel);
        await sender.send({ ...MESSAGE, phase: 'reminder' }, channel);
        await sender.send({ ...MESSAGE, phase: 'resolved', kind: 'recovered', severity: 'info' }, channel);
        const [trigger, reminder, resolve] = pagerduty.requests.map(
          (request) => JSON.parse(request.body.toString('utf8')) as Json,
        );
        assert.equal(pagerduty.requests[0]!.path, '/v2/enqueue');

        assert.equal(trigger!.routing_key, ROUTING_KEY);
        assert.equal(trigger!.event_action, 'trigger');
        assert.equal(trigger!.dedup_key, 'tessera/clinical-analytics/inc-7f3a');
        assert.equal(trigger!.dedup_key, pagerDutyDedupKey(MESSAGE));
        const payload = trigger!.payload as Json;
        assert.equal(typeof payload.summary, 'string');
        assert.ok((payload.summary as string).length >= 1 && (payload.summary as string).length <= 1024);
        assert.match(payload.summary as string, /column DOB missing/);
        assert.equal(typeof payload.source, 'string');
        assert.ok(PAGERDUTY_SEVERITIES.includes(payload.severity as string));
        assert.equal(payload.severity, 'error');
        assert.ok(!Number.isNaN(Date.parse(payload.timestamp as string)));
        assert.equal(payload.component, 'care.members');
        assert.equal(payload.group, 'clinical-analytics');
        assert.equal(payload.class, 'task_failed');
        assert.equal((payload.custom_details as Json).run_id, 'run-42');
        assert.deepEqual(trigger!.links, [{ href: MESSAGE.link, text: 'care.members in Tessera' }]);

        assert.equal(reminder!.event_action, 'trigger', 'a reminder re-triggers the same alert');
        assert.equal(reminder!.dedup_key, trigger!.dedup_key);
        assert.deepEqual(resolve, {
          routing_key: ROUTING_KEY,
          event_action: 'resolve',
          dedup_key: trigger!.dedup_key,
        });
      } finally {
        await sender.close();
        await pagerduty.close();
      }
    });

    it('cuts the summary at 1024 characters', async () => {
      const pagerduty = await startReceiver(() => ({ status: 202, body: '{"status":"success"}' }));
      const sender = createChannelSender(settings({ pagerdutyEventsUrl: `${pagerduty.origin}/v2/enqueue` }));
      try {
        await sender.send(
          { ...MESSAGE, cause: 'y'.repeat(4000) },
          { type: 'pagerduty', routingKey: ROUTING_KEY },
        );
        const body = JSON.parse(pagerduty.requests[0]!.body.toString('utf8')) as { payload: Json };
        assert.equal((body.payload.summary as string).length, 1024);
      } finally {
        await sender.close();
        await pagerduty.close();
      }
    });

    it("reports PagerDuty's error message and errors, never the routing key even when echoed", async () => {
      const pagerduty = await startReceiver(() => ({
        status: 400,
        body: JSON.stringify({
          status: 'invalid event',
          message: 'Event object is invalid',
          errors: [`'payload.severity' is missing for routing key ${ROUTING_KEY}`],
        }),
      }));
      const sender = createChannelSender(settings({ pagerdutyEventsUrl: `${pagerduty.origin}/v2/enqueue` }));
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'pagerduty', routingKey: ROUTING_KEY }),
        );
        assert.equal(
          message,
          `PagerDuty at ${pagerduty.host} answered 400: Event object is invalid: 'payload.severity' is missing for routing key ***`,
        );
        assertNoSecret(message);
      } finally {
        await sender.close();
        await pagerduty.close();
      }
    });
  });

  describe('webhook', () => {
    it('posts the message as JSON signed with HMAC-SHA256 of the exact body', async () => {
      const hook = await startReceiver(() => ({ status: 204 }));
      const sender = createChannelSender(settings());
      try {
        await sender.send(MESSAGE, {
          type: 'webhook',
          url: `${hook.origin}/tessera`,
          secret: WEBHOOK_SECRET,
        });
        const request = hook.requests[0]!;
        assert.match(request.headers['content-type'] ?? '', /^application\/json/);
        const body = JSON.parse(request.body.toString('utf8')) as Json;
        assert.deepEqual(body, { type: 'tessera.notification', version: 1, ...MESSAGE });

        // A receiver's own check, with node:crypto alone.
        const header = request.headers['x-tessera-signature-256'];
        assert.equal(typeof header, 'string');
        const expected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(request.body).digest('hex')}`;
        assert.ok(timingSafeEqual(Buffer.from(header as string), Buffer.from(expected)));
        assert.equal(verifyWebhookSignature(request.body, header as string, WEBHOOK_SECRET), true);

        const tampered = Buffer.from(request.body.toString('utf8').replace('run-42', 'run-43'));
        const tamperedExpected = `sha256=${createHmac('sha256', WEBHOOK_SECRET).update(tampered).digest('hex')}`;
        assert.notEqual(header, tamperedExpected);
        assert.equal(verifyWebhookSignature(tampered, header as string, WEBHOOK_SECRET), false);
        assert.equal(verifyWebhookSignature(request.body, header as string, 'another-secret'), false);
        assert.equal(verifyWebhookSignature(request.body, undefined, WEBHOOK_SECRET), false);
      } finally {
        await sender.close();
        await hook.close();
      }
    });

    it('sends no signature header without a secret', async () => {
      const hook = await startReceiver(() => ({ status: 200 }));
      const sender = createChannelSender(settings());
      try {
        await sender.send(MESSAGE, { type: 'webhook', url: `${hook.origin}/tessera` });
        assert.equal(hook.requests[0]!.headers['x-tessera-signature-256'], undefined);
      } finally {
        await sender.close();
        await hook.close();
      }
    });

    it('reports a 500 with the answer, never the secret', async () => {
      const hook = await startReceiver(() => ({
        status: 500,
        body: `internal error, secret ${WEBHOOK_SECRET}`,
      }));
      const sender = createChannelSender(settings());
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'webhook', url: `${hook.origin}/tessera`, secret: WEBHOOK_SECRET }),
        );
        assert.equal(message, `webhook at ${hook.host} answered 500: internal error, secret ***`);
        assertNoSecret(message);
      } finally {
        await sender.close();
        await hook.close();
      }
    });

    it('does not follow a redirect elsewhere', async () => {
      const elsewhere = await startReceiver(() => ({ status: 200 }));
      const hook = await startReceiver(() => ({ status: 307 }));
      const sender = createChannelSender(settings());
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'webhook', url: `${hook.origin}/tessera`, secret: WEBHOOK_SECRET }),
        );
        assert.equal(message, `webhook at ${hook.host} answered 307`);
        assert.equal(elsewhere.requests.length, 0);
      } finally {
        await sender.close();
        await hook.close();
        await elsewhere.close();
      }
    });
  });

  describe('every HTTP channel', () => {
    const cases: {
      name: string;
      channel: (origin: string) => ChannelDef;
      events?: (origin: string) => string;
    }[] = [
      { name: 'slack', channel: (origin) => ({ type: 'slack', webhook: `${origin}${SLACK_PATH}` }) },
      {
        name: 'pagerduty',
        channel: () => ({ type: 'pagerduty', routingKey: ROUTING_KEY }),
        events: (origin) => `${origin}/v2/enqueue`,
      },
      {
        name: 'webhook',
        channel: (origin) => ({ type: 'webhook', url: `${origin}/tessera`, secret: WEBHOOK_SECRET }),
      },
    ];
    for (const { name, channel, events } of cases) {
      it(`${name}: a closed port is a DeliveryError naming the host and ECONNREFUSED`, async () => {
        const origin = `http://127.0.0.1:${await closedPort()}`;
        const sender = createChannelSender(settings(events ? { pagerdutyEventsUrl: events(origin) } : {}));
        try {
          const message = await deliveryFailure(sender.send(MESSAGE, channel(origin)));
          assert.equal(message, `cannot reach ${origin.slice('http://'.length)}: ECONNREFUSED`);
          assertNoSecret(message);
        } finally {
          await sender.close();
        }
      });

      it(`${name}: a 500 is a DeliveryError with the status`, async () => {
        const receiver = await startReceiver(() => ({ status: 500, body: 'upstream exploded' }));
        const sender = createChannelSender(
          settings(events ? { pagerdutyEventsUrl: events(receiver.origin) } : {}),
        );
        try {
          const message = await deliveryFailure(sender.send(MESSAGE, channel(receiver.origin)));
          assert.match(message, new RegExp(`${receiver.host} answered 500: upstream exploded$`));
          assertNoSecret(message);
        } finally {
          await sender.close();
          await receiver.close();
        }
      });
    }

    it('a receiver that never answers times out with the host named', async () => {
      const silent = createServer(() => {
        // Never answers: the sender's timeout must end the wait.
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      const sender = createChannelSender(settings(), { timeoutMs: 150 });
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, {
            type: 'webhook',
            url: `http://127.0.0.1:${port}/hook`,
            secret: WEBHOOK_SECRET,
          }),
        );
        assert.equal(message, `127.0.0.1:${port} did not answer within 150 ms`);
      } finally {
        await sender.close();
        silent.closeAllConnections();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });

  describe('email', () => {
    let received: ParsedMail[];
    let logins: string[];
    let smtp: SMTPServer;
    let smtpPort: number;

    before(async () => {
      received = [];
      logins = [];
      smtp = new SMTPServer({
        logger: false,
        disabledCommands: ['STARTTLS'],
        authOptional: true,
        allowInsecureAuth: true,
        onAuth(auth, _session, callback) {
          logins.push(auth.username ?? '');
          if (auth.password === SMTP_PASSWORD) return callback(null, { user: auth.username });
          return callback(
            Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }),
          );
        },
        onRcptTo(address, _session, callback) {
          if (address.address.startsWith('nobody@')) {
            return callback(Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 }));
          }
          return callback();
        },
        onData(stream, _session, callback) {
          simpleParser(stream).then(
            (mail) => {
              received.push(mail);
              callback();
            },
            (error: Error) => callback(error),
          );
        },
      });
      await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
      smtpPort = (smtp.server.address() as AddressInfo).port;
    });

    after(async () => {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    });

    const smtpSettings = (password = SMTP_PASSWORD) =>
      settings({
        smtp: { url: `smtp://tessera:${password}@127.0.0.1:${smtpPort}`, from: 'tessera@example.org' },
      });

    it('arrives with the title as subject and text and HTML parts naming table, cause and link', async () => {
      const sender = createChannelSender(smtpSettings());
      try {
        const before = received.length;
        await sender.send(MESSAGE, { type: 'email', to: ['clinical-data@example.org', 'alice@example.org'] });
        // A second message reuses the transporter.
        await sender.send(
          { ...MESSAGE, phase: 'resolved', kind: 'recovered', severity: 'info' },
          {
            type: 'email',
            to: ['clinical-data@example.org'],
          },
        );
        const [mail, resolved] = received.slice(before);
        assert.equal(mail!.subject, messageTitle(MESSAGE));
        assert.equal(mail!.from?.text, 'tessera@example.org');
        const to = Array.isArray(mail!.to) ? mail!.to : [mail!.to!];
        assert.deepEqual(
          to.flatMap((address) => address.value.map((entry) => entry.address)),
          ['clinical-data@example.org', 'alice@example.org'],
        );
        for (const part of [mail!.text ?? '', String(mail!.html)]) {
          assert.ok(part.includes('care.members'), 'names the table');
          assert.ok(part.includes('column DOB missing in data/members.csv'), 'names the cause');
          assert.ok(part.includes('https://tessera.example.org/tables/care.members'), 'links the table');
        }
        assert.match(String(mail!.html), /<a href="https:\/\/tessera\.example\.org\/tables\/care\.members">/);
        assert.match(resolved!.subject ?? '', /^Resolved: /);
        assert.deepEqual(logins.slice(-1), ['tessera']);
      } finally {
        await sender.close();
      }
    });

    it('a rejected recipient is a DeliveryError with the SMTP reply', async () => {
      const sender = createChannelSender(smtpSettings());
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'email', to: ['nobody@example.org'] }),
        );
        assert.match(
          message,
          new RegExp(`^SMTP server 127\\.0\\.0\\.1:${smtpPort} answered 550 5\\.1\\.1 mailbox unavailable`),
        );
        assertNoSecret(message);
      } finally {
        await sender.close();
      }
    });

    it('a refused login is a DeliveryError with the reply and without the password', async () => {
      const wrong = `${SMTP_PASSWORD}-wrong`;
      const sender = createChannelSender(smtpSettings(wrong));
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'email', to: ['team@example.org'] }),
        );
        assert.match(message, /535 5\.7\.8 Authentication credentials invalid/);
        assert.ok(!message.includes(wrong));
        assertNoSecret(message);
      } finally {
        await sender.close();
      }
    });

    it('an SMTP server that cannot be reached is named, with its system error', async () => {
      const port = await closedPort();
      const sender = createChannelSender(
        settings({
          smtp: { url: `smtp://tessera:${SMTP_PASSWORD}@127.0.0.1:${port}`, from: 'tessera@example.org' },
        }),
      );
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'email', to: ['team@example.org'] }),
        );
        assert.equal(message, `cannot reach SMTP server 127.0.0.1:${port}: ECONNREFUSED`);
      } finally {
        await sender.close();
      }
    });

    it('without notifications.smtp says what to set', async () => {
      const sender = createChannelSender(settings());
      try {
        const message = await deliveryFailure(
          sender.send(MESSAGE, { type: 'email', to: ['team@example.org'] }),
        );
        assert.match(message, /set `notifications\.smtp: \{ url, from \}` in tessera\.yaml/);
      } finally {
        await sender.close();
      }
    });
  });

  describe('console', () => {
    it('writes the text between rules', async () => {
      const written: string[] = [];
      const sender = createChannelSender(settings(), { writeConsole: (text) => written.push(text) });
      await sender.send(MESSAGE, { type: 'console' });
      await sender.close();
      assert.equal(written.length, 1);
      const lines = written[0]!.trimEnd().split('\n');
      assert.match(lines[0]!, /^┌─ notification for clinical-data ─+$/);
      assert.match(lines.at(-1)!, /^└─+$/);
      assert.ok(lines.includes(`│ ${messageTitle(MESSAGE)}`));
      assert.ok(lines.some((line) => /^│ Cause: +care\.members not published/.test(line)));
    });
  });
});
