// `tessera serve --watch-git` (SPEC §6, Git sync): a bare repository stands in for the remote, a
// developer pushes to it, and serve runs in-process on a clone with a clock moved by hand. A pushed
// table registers within the poll interval; a broken .proto changes nothing and is refused naming
// its commit, author and file, and the author and the owners are mailed; the fix applies; a signed
// push webhook applies at once; an unsigned or wrongly signed one gets 401.
import assert from 'node:assert/strict';
import { rename } from 'node:fs/promises';
import { describe, test, type TestContext } from 'node:test';
import { Platform, type ServerHandle } from '../../src/platform.ts';
import { githubSignature } from '../../src/sync/index.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { startMonitoringServices, type MonitoringServices } from '../notify/monitoring-fixture.ts';
import { makeGitWorld, type GitWorld } from './git-fixture.ts';

const POLL_MS = 30_000;
const HOOK_SECRET = 'push-webhook-secret';
const ENV = { ...process.env, GIT_HOOK_SECRET: HOOK_SECRET, TESSERA_MODE: 'dev' };
const CLI_ENV = { GIT_HOOK_SECRET: HOOK_SECRET };
const BEA = { name: 'Bea Broken', email: 'bea@example.org' };

function catalogFiles(smtpPort: number): Record<string, string> {
  return {
    'tessera.yaml': `name: clinic
notifications:
  smtp: { url: "smtp://127.0.0.1:${smtpPort}", from: tessera@example.org }
git:
  webhook_secret: \${GIT_HOOK_SECRET}
`,
    'owners/owners.yaml': `kind: owner
name: clinical-data
channels:
  - email: { to: [clinical-data@example.org] }
---
kind: owner
name: analytics
channels:
  - email: { to: [analytics@example.org] }
`,
    'schemas/care.proto': protoFile('Member', 'member_id'),
    'tables/care.yaml': `kind: table
name: care.members
owner: clinical-data
schema: schemas/care.proto#care.Member
`,
    'tasks/care.yaml': `kind: task
name: ingest_members
type: ingestion
target: care.members
source: { type: csv, uri: data/members.csv }
`,
    'data/members.csv': 'member_id,name\nm1,Ada\n',
  };
}

function protoFile(message: string, key: string, extra = ''): string {
  return `syntax = "proto3";
package care;
import "tessera/options.proto";

// One ${message.toLowerCase()}.
message ${message} {
  string ${key} = 1 [(tessera.field) = { primary_key: true }];
  string name = 2;${extra}
}
`;
}

/** A table and the task that fills it, in their own files. */
const VISITS = {
  'schemas/visits.proto': protoFile('Visit', 'visit_id'),
  'tables/visits.yaml': `kind: table
name: care.visits
owner: clinical-data
schema: schemas/visits.proto#care.Visit
`,
  'tasks/visits.yaml': `kind: task
name: ingest_visits
type: ingestion
target: care.visits
source: { type: csv, uri: data/visits.csv }
`,
  'data/visits.csv': 'visit_id,name\nv1,checkup\n',
};

interface Served {
  world: GitWorld;
  services: MonitoringServices;
  clock: ManualClock;
  server: ServerHandle;
  log: string[];
}

async function serveWatchingGit(t: TestContext, pollMs: number): Promise<Served> {
  const services = await startMonitoringServices();
  const world = await makeGitWorld(catalogFiles(services.smtpPort));
  const platform = await Platform.open({ repo: world.repo, env: ENV });
  await platform.apply();
  const clock = new ManualClock(Date.parse('2026-12-01T09:00:00Z'));
  const log: string[] = [];
  let server: ServerHandle;
  try {
    server = await platform.serve({
      concurrency: 1,
      debounceMs: 0,
      clock,
      log: (message) => log.push(message),
      writeConsole: () => {},
      watchGit: { source: `${world.remote}#main`, pollMs, webhookPort: 0 },
    });
  } catch (error) {
    await platform.close();
    throw error;
  }
  t.after(async () => {
    await server.stop(0);
    await services.close();
    await world.close();
  });
  await server.sync!.idle();
  return { world, services, clock, server, log };
}

async function tablesIn(repo: string): Promise<string[]> {
  const result = await tesseraInProcess(['tables', '--json', '--repo', repo], {
    env: { GIT_HOOK_SECRET: HOOK_SECRET },
  });
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as { name: string }[]).map((table) => table.name);
}

async function syncStatus(repo: string) {
  const result = await tesseraInProcess(['sync', 'status', '--json', '--repo', repo], { env: CLI_ENV });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as {
    activeCommit?: string;
    seenCommit?: string;
    lastRefusal?: { commit: string; authorName: string; authorEmail: string; reason: string };
  };
}

describe('serve --watch-git', () => {
  test('a pushed table registers within the poll interval; a broken .proto changes nothing and is refused; the fix applies', async (t) => {
    const { world, services, clock, server, log } = await serveWatchingGit(t, POLL_MS);
    const first = await world.gitInRepo('rev-parse', 'HEAD');
    assert.equal((await syncStatus(world.repo)).activeCommit, first);

    const added = await world.push(VISITS, 'visits: table and ingestion');
    await clock.advance(POLL_MS - 1);
    await server.sync!.idle();
    assert.deepEqual(await tablesIn(world.repo), ['care.members'], 'not before the poll interval');
    await clock.advance(1);
    await server.sync!.idle();
    assert.deepEqual(await tablesIn(world.repo), ['care.members', 'care.visits'], log.join('\n'));
    assert.equal(await world.gitInRepo('rev-parse', 'HEAD'), added, 'the folder moved to the commit');
    const shown = await tesseraInProcess(['show', 'care.visits', '--repo', world.repo], { env: CLI_ENV });
    assert.match(shown.stdout, new RegExp(`commit:\\s+${added}`));
    assert.equal((await syncStatus(world.repo)).activeCommit, added);

    // The broken schema is also that of a new table of another owner, who is told too.
    const broken = await world.push(
      {
        'schemas/visits.proto': protoFile('Visit', 'visit_id').replace('string name = 2;', 'string name = ;'),
        'tables/report.yaml':
          'kind: table\nname: care.visit_report\nowner: analytics\nschema: schemas/visits.proto#care.Visit\n',
      },
      'visits: rename a field',
      BEA,
    );
    await clock.advance(POLL_MS);
    await server.sync!.idle();
    assert.equal(
      await world.gitInRepo('rev-parse', 'HEAD'),
      added,
      'the folder stays on the last good commit',
    );
    const refused = await syncStatus(world.repo);
    assert.equal(refused.activeCommit, added);
    assert.equal(refused.seenCommit, broken);
    assert.equal(refused.lastRefusal?.commit, broken);
    assert.equal(refused.lastRefusal?.authorName, BEA.name);
    assert.equal(refused.lastRefusal?.authorEmail, BEA.email);
    assert.match(refused.lastRefusal?.reason ?? '', /^schemas\/visits\.proto:\d+:\d+: error /m);
    const text = await tesseraInProcess(['sync', 'status', '--repo', world.repo], { env: CLI_ENV });
    assert.match(text.stdout, new RegExp(`last refusal:\\s+${broken} by Bea Broken <bea@example.org>`));
    assert.match(text.stdout, /schemas\/visits\.proto:\d+:\d+/);

    // The author and the owners of what the commit touches are told.
    server.monitor.request();
    await server.monitor.idle();
    const recipients = services.mail
      .map((mail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.text)
      .sort();
    assert.deepEqual(recipients, ['analytics@example.org', 'bea@example.org', 'clinical-data@example.org']);
    assert.match(services.mail[0]!.text ?? '', new RegExp(broken.slice(0, 12)));

    // Judged once: later polls of the same head do not refuse it again.
    await clock.advance(POLL_MS);
    await server.sync!.idle();
    server.monitor.request();
    await server.monitor.idle();
    assert.equal(services.mail.length, 3);

    const fixed = await world.push(
      { 'schemas/visits.proto': protoFile('Visit', 'visit_id', '\n  string reason = 3;') },
      'visits: add the reason instead',
      BEA,
    );
    await clock.advance(POLL_MS);
    await server.sync!.idle();
    assert.equal(await world.gitInRepo('rev-parse', 'HEAD'), fixed);
    assert.equal((await syncStatus(world.repo)).activeCommit, fixed);
    const visits = await tesseraInProcess(['show', 'care.visits', '--json', '--repo', world.repo], {
      env: CLI_ENV,
    });
    const record = JSON.parse(visits.stdout) as { fields: { name: string }[]; gitCommit: string };
    assert.deepEqual(
      record.fields.map((field) => field.name),
      ['visit_id', 'name', 'reason'],
    );
    assert.equal(record.gitCommit, fixed);

    // Those told of the refusal hear that the branch applies again.
    server.monitor.request();
    await server.monitor.idle();
    const resolutions = services.mail.slice(3);
    assert.deepEqual(
      resolutions.map((mail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.text).sort(),
      ['analytics@example.org', 'bea@example.org', 'clinical-data@example.org'],
    );
    assert.match(resolutions[0]!.text ?? '', new RegExp(`commit ${fixed.slice(0, 12)}`));
  });

  test('an unreachable remote is logged and tried again at the next poll; a refusal never shows a secret', async (t) => {
    const { world, clock, server, log } = await serveWatchingGit(t, POLL_MS);
    const pushed = await world.push(VISITS, 'visits: table and ingestion');
    await rename(world.remote, `${world.remote}.away`);
    await clock.advance(POLL_MS);
    await server.sync!.idle();
    assert.match(log.join('\n'), /git sync: .*catalog\.git/);
    const status = await syncStatus(world.repo);
    assert.notEqual(status.activeCommit, pushed);
    assert.equal(status.lastRefusal, undefined, "not the commit's fault: nothing refused");

    await rename(`${world.remote}.away`, world.remote);
    await clock.advance(POLL_MS);
    await server.sync!.idle();
    assert.equal((await syncStatus(world.repo)).activeCommit, pushed);

    // A refusal's reason is stored and mailed: a `${VAR}` value in it shows as `${VAR}` again.
    const leaky = await world.push(
      { 'tables/secret.yaml': 'kind: table\nname: ${GIT_HOOK_SECRET}\nowner: clinical-data\n' },
      'a table named by a variable',
    );
    await clock.advance(POLL_MS);
    await server.sync!.idle();
    const refusal = (await syncStatus(world.repo)).lastRefusal;
    assert.equal(refusal?.commit, leaky);
    assert.match(
      refusal?.reason ?? '',
      /^tables\/secret\.yaml:2:\d+: error invalid-name: table \$\{GIT_HOOK_SECRET\}/,
    );
    assert.ok(!refusal?.reason.includes(HOOK_SECRET));
  });

  test('a signed push webhook applies a commit at once; an unsigned or wrongly signed one is refused with 401', async (t) => {
    const { world, server } = await serveWatchingGit(t, 24 * 3_600_000);
    const url = `http://127.0.0.1:${server.sync!.webhookPort}/api/v1/hooks/git`;
    const pushed = await world.push(VISITS, 'visits: table and ingestion');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: pushed });

    const unsigned = await fetch(url, { method: 'POST', body, headers: { 'X-GitHub-Event': 'push' } });
    assert.equal(unsigned.status, 401);
    const wrong = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': githubSignature(body, 'not-the-secret') },
    });
    assert.equal(wrong.status, 401);
    assert.match(
      ((await wrong.json()) as { error: { message: string } }).error.message,
      /X-Hub-Signature-256/,
    );
    await server.sync!.idle();
    assert.deepEqual(await tablesIn(world.repo), ['care.members'], 'refused hooks fetch nothing');

    const signed = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': githubSignature(body, HOOK_SECRET) },
    });
    assert.equal(signed.status, 202);
    await server.sync!.idle();
    assert.deepEqual(await tablesIn(world.repo), ['care.members', 'care.visits']);
    assert.equal((await syncStatus(world.repo)).activeCommit, pushed);

    // A push elsewhere is acknowledged and fetches nothing; a table removed on the branch is retired.
    const removed = await world.push(
      Object.fromEntries(Object.keys(VISITS).map((path) => [path, null])),
      'visits: not needed after all',
    );
    const otherBranch = JSON.stringify({ ref: 'refs/heads/feature' });
    const ignored = await fetch(url, {
      method: 'POST',
      body: otherBranch,
      headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': githubSignature(otherBranch, HOOK_SECRET) },
    });
    assert.equal(ignored.status, 200);
    await server.sync!.idle();
    assert.equal((await syncStatus(world.repo)).activeCommit, pushed);
    const again = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': githubSignature(body, HOOK_SECRET) },
    });
    assert.equal(again.status, 202);
    await server.sync!.idle();
    assert.equal((await syncStatus(world.repo)).activeCommit, removed);
    assert.deepEqual(await tablesIn(world.repo), ['care.members']);
  });
});
