import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions, redactSecrets } from '../../src/definitions/index.ts';
import { formatted, writeCatalogRepo } from './catalog-repo-fixture.ts';

const SMTP_URL = 'smtp://tessera:smtp-pa55word@mail.example.org:587';

async function load(tesseraYaml: string, env: Record<string, string> = {}, owner = 'kind: owner\nname: o\n') {
  const root = await writeCatalogRepo({ 'tessera.yaml': tesseraYaml, 'owners/o.yaml': owner });
  return loadDefinitions(root, { env, cache: false });
}

describe('notifications: in tessera.yaml', () => {
  it('reads smtp, pagerduty, ui_url and reminders; the SMTP URL is redacted like every secret', async () => {
    const { definitions, diagnostics, secrets } = await load(
      `notifications:
  smtp: { url: "\${SMTP_URL}", from: "Tessera <tessera@example.org>" }
  pagerduty: { events_url: "http://127.0.0.1:8080/v2/enqueue" }
  ui_url: https://tessera.example.org//
  reminders: { every: 90m }
`,
      { SMTP_URL },
    );
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.project.notifications, {
      smtp: { url: SMTP_URL, from: 'Tessera <tessera@example.org>' },
      pagerdutyEventsUrl: 'http://127.0.0.1:8080/v2/enqueue',
      uiUrl: 'https://tessera.example.org',
      reminderEveryMs: 90 * 60_000,
    });
    const redacted = redactSecrets(definitions.project, secrets);
    assert.equal(redacted.notifications.smtp?.url, '${SMTP_URL}');
    assert.ok(!JSON.stringify(redacted).includes('smtp-pa55word'));
  });

  it('defaults to the public PagerDuty endpoint, no SMTP, no links and no reminders', async () => {
    const { definitions, diagnostics } = await load('name: p\nnotifications: {}\n');
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.project.notifications, {
      pagerdutyEventsUrl: 'https://events.pagerduty.com/v2/enqueue',
    });
  });

  it('reports bad URLs and durations at their value, without echoing the URL', async () => {
    const { diagnostics } = await load(`notifications:
  smtp: { url: "http://tessera:smtp-pa55word@mail.example.org", from: tessera }
  pagerduty: { events_url: "events.pagerduty.com/v2/enqueue" }
  ui_url: "ftp://tessera.example.org"
  reminders: { every: soon }
`);
    assert.deepEqual(formatted(diagnostics), [
      'tessera.yaml:2:16: error invalid-value: tessera.yaml: `notifications.smtp.url` must be `smtp://user:password@host:port` or `smtps://user:password@host:465`; keep the password in an environment variable, e.g. `url: "${SMTP_URL}"`',
      'tessera.yaml:2:71: error invalid-value: tessera.yaml: `notifications.smtp.from` must be an email address, e.g. `tessera@example.org` or `Tessera <tessera@example.org>`',
      'tessera.yaml:3:28: error invalid-value: tessera.yaml: `notifications.pagerduty.events_url` must be an http:// or https:// URL',
      'tessera.yaml:4:11: error invalid-value: tessera.yaml: `notifications.ui_url` must be an http:// or https:// URL',
      'tessera.yaml:5:23: error invalid-value: tessera.yaml: `notifications.reminders.every` must be a duration like 500ms, 30s, 15m, 26h, 2d, 1w or 1h30m',
    ]);
    assert.ok(!formatted(diagnostics).join('\n').includes('smtp-pa55word'));
  });

  it('reports unknown keys with the keys allowed, and a missing `from`', async () => {
    const { diagnostics } = await load(`notifications:
  slack: { webhook: x }
  smtp: { url: "smtp://mail.example.org", sender: tessera@example.org }
  reminders: { every: 0s }
`);
    assert.deepEqual(formatted(diagnostics), [
      'tessera.yaml:2:3: error unknown-key: tessera.yaml: unknown key `slack` in `notifications`; allowed keys: smtp, pagerduty, ui_url, reminders',
      'tessera.yaml:3:3: error missing-key: tessera.yaml: `notifications.smtp.from` is required',
      'tessera.yaml:3:43: error unknown-key: tessera.yaml: unknown key `sender` in `notifications.smtp`; allowed keys: url, from',
      'tessera.yaml:4:23: error invalid-value: tessera.yaml: `notifications.reminders.every` must be longer than zero',
    ]);
  });

  it('names the unset variable of smtp.url once, without a second complaint about the empty URL', async () => {
    const { diagnostics } = await load(`notifications:
  smtp: { url: "\${SMTP_URL}", from: tessera@example.org }
`);
    assert.deepEqual(formatted(diagnostics), [
      'tessera.yaml:2:16: error missing-env: environment variable `SMTP_URL` is not set (used by `notifications.smtp.url` in tessera.yaml); email channels send through it: export it as `smtp://user:password@host:port` or `smtps://…`',
    ]);
  });
});

describe("owners' webhook and console channels", () => {
  it('reads a webhook secret from the environment and a console channel with or without `on`', async () => {
    const { definitions, diagnostics, secrets } = await load(
      'name: p\n',
      { HOOK_SECRET: 'hook-secret-value' },
      `kind: owner
name: o
channels:
  - webhook: { url: "https://hooks.example.org/tessera", secret: "\${HOOK_SECRET}", on: [task_failed, sync_refused] }
  - console:
  - console: { on: [recovered] }
`,
    );
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.owners[0]!.channels, [
      {
        type: 'webhook',
        url: 'https://hooks.example.org/tessera',
        secret: 'hook-secret-value',
        on: ['task_failed', 'sync_refused'],
      },
      { type: 'console' },
      { type: 'console', on: ['recovered'] },
    ]);
    assert.deepEqual(redactSecrets(definitions.owners[0]!.channels[0], secrets), {
      type: 'webhook',
      url: 'https://hooks.example.org/tessera',
      secret: '${HOOK_SECRET}',
      on: ['task_failed', 'sync_refused'],
    });
  });

  it('reports unknown event kinds and keys in these channels', async () => {
    const { diagnostics } = await load(
      'name: p\n',
      {},
      `kind: owner
name: o
channels:
  - console: { on: [task_exploded] }
  - webhook: { url: "https://hooks.example.org/tessera", signing_key: abc }
`,
    );
    const lines = formatted(diagnostics);
    assert.equal(lines.length, 2, lines.join('\n'));
    assert.match(
      lines[0]!,
      /^owners\/o\.yaml:4:21: error invalid-value: .*`channels\[0\]\.console\.on\[0\]` must be one of `task_failed`/,
    );
    assert.match(lines[0]!, /`sync_refused`/);
    assert.match(
      lines[1]!,
      /^owners\/o\.yaml:5:58: error unknown-key: .*unknown key `signing_key` in `channels\[1\]\.webhook`; allowed keys: url, secret, on$/,
    );
  });
});
