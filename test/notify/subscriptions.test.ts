// `tessera subscribe` / `unsubscribe`: subscriptions kept in the catalog, checked against the repo,
// and followed by the notifier like the repo's `subscribers`.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import type { Json } from '../support/notification-receivers.ts';
import {
  MEMBERS_CSV_WITHOUT_DOB,
  monitoredEnv,
  monitoredRepo,
  startMonitoringServices,
} from './monitoring-fixture.ts';

test('a subscription made on the command line is checked, followed, listed and removed', async (t) => {
  const services = await startMonitoringServices();
  const repo = await writeRepo(monitoredRepo(services));
  t.after(async () => {
    await services.close();
    await rm(repo, { recursive: true, force: true });
  });
  const env = monitoredEnv(services);
  const cli = (...args: string[]) => tesseraInProcess(['--repo', repo, ...args], { env });
  assert.equal((await cli('apply')).code, 0);
  assert.equal((await cli('run', '--all')).code, 0);

  const unknownOwner = await cli('subscribe', 'care.members', '--owner', 'opps');
  assert.equal(unknownOwner.code, 2);
  assert.match(unknownOwner.stderr, /--owner opps is not an owner in the repo \(did you mean `ops`\?\)/);
  const unknownEvent = await cli('subscribe', 'care.members', '--owner', 'ops', '--events', 'task_faild');
  assert.equal(unknownEvent.code, 2);
  assert.match(unknownEvent.stderr, /unknown event `task_faild` \(did you mean `task_failed`\?\)/);
  const unknownTable = await cli('subscribe', 'care.member', '--owner', 'ops');
  assert.equal(unknownTable.code, 2);
  assert.match(
    unknownTable.stderr,
    /table care\.member not found in the catalog \(did you mean `care\.members`\?\)/,
  );

  const subscribed = await cli(
    'subscribe',
    'care.members',
    '--owner',
    'ops',
    '--events',
    'task_failed,recovered',
  );
  assert.equal(subscribed.code, 0, subscribed.stderr);
  assert.match(subscribed.stdout, /ops is subscribed to care\.members \(task_failed, recovered\)/);

  // ops now hears of the failure of care.members itself, not only of its downstream report.
  await writeFile(join(repo, 'data/members.csv'), MEMBERS_CSV_WITHOUT_DOB);
  assert.equal((await cli('run', 'ingest_members')).code, 1);
  const told = services.webhook.requests.map((request) => JSON.parse(request.body.toString('utf8')) as Json);
  assert.deepEqual(
    told.map((body) => `${String(body.kind)} ${String(body.table)}`),
    ['task_failed care.members'],
    'one message to the channel: the most direct reason',
  );

  const removed = await cli('unsubscribe', 'care.members', '--owner', 'ops');
  assert.match(removed.stdout, /ops is no longer subscribed to care\.members/);
  const again = await cli('--json', 'unsubscribe', 'care.members', '--owner', 'ops');
  assert.equal((JSON.parse(again.stdout) as { removed: boolean }).removed, false);
});
