// An event may name its recipients itself (a refused commit: the owners it touches and its author).
// Named owners hear it through their channels whatever table it concerns; an address is mailed
// directly, and only when `notifications.smtp` is set.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import type { MonitoringEvent } from '../../src/model/index.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { writeRepo } from '../support/cli.ts';

test('named owners are told through their channels; without SMTP no address is mailed', async (t) => {
  const repo = await writeRepo({
    'tessera.yaml': 'name: clinic\n',
    'owners/owners.yaml': `kind: owner
name: clinical-data
channels:
  - console: {}
---
kind: owner
name: analytics
channels:
  - console: {}
`,
  });
  const platform = await Platform.open({ repo });
  t.after(async () => {
    await platform.close();
    await rm(repo, { recursive: true, force: true });
  });
  await platform.apply();
  const event: MonitoringEvent = {
    id: 'e1',
    kind: 'sync_refused',
    severity: 'error',
    cause: 'commit 0123456789ab by Bea was not applied; nothing changed: schemas/x.proto:3:1: error …',
    incidentKey: 'sync_refused:0123456789ab',
    at: new Date().toISOString(),
    recipients: { owners: ['clinical-data'], emails: ['bea@example.org'] },
  };
  await internalsOf(platform).store.recordEvents([event]);
  const printed: string[] = [];
  const report = await platform.deliverNotifications({ writeConsole: (text) => void printed.push(text) });
  assert.deepEqual(
    report.delivered.map((delivery) => [delivery.owner, delivery.kind, delivery.channelType]),
    [['clinical-data', 'sync_refused', 'console']],
  );
  assert.equal(printed.length, 1);
  assert.match(printed[0]!, /commit 0123456789ab by Bea was not applied/);
});
