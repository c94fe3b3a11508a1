// `tessera serve --watch-git … --webhook-port 0` as a real process: the flags reach the platform,
// the webhook's port is logged, a signed push applies the commit, and SIGTERM stops it cleanly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { githubSignature } from '../../src/sync/index.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { startServer, waitFor } from '../orchestrator/orchestration-fixture.ts';
import { makeGitWorld } from './git-fixture.ts';

const SECRET = 'process-hook-secret';

test('serve --watch-git as a process applies a signed push and stops on SIGTERM', async (t) => {
  const world = await makeGitWorld({
    'tessera.yaml': 'name: clinic\ngit:\n  webhook_secret: ${TESSERA_TEST_HOOK_SECRET}\n',
    'owners/team.yaml': 'kind: owner\nname: team\n',
    'tables/a.yaml': 'kind: table\nname: mart.a\nowner: team\n',
  });
  const saved = process.env.TESSERA_TEST_HOOK_SECRET;
  process.env.TESSERA_TEST_HOOK_SECRET = SECRET;
  t.after(async () => {
    if (saved === undefined) delete process.env.TESSERA_TEST_HOOK_SECRET;
    else process.env.TESSERA_TEST_HOOK_SECRET = saved;
    await world.close();
  });
  assert.equal((await tesseraInProcess(['apply', '--repo', world.repo])).code, 0);
  const server = await startServer(t, world.repo, [
    '--watch-git',
    `${world.remote}#main`,
    '--poll',
    '1h',
    '--webhook-port',
    '0',
  ]);
  const port = await waitFor(
    'the webhook port in the log',
    async () => /push webhook on http:\/\/127\.0\.0\.1:(\d+)\/api\/v1\/hooks\/git/.exec(server.log())?.[1],
  );

  const pushed = await world.push({ 'tables/b.yaml': 'kind: table\nname: mart.b\nowner: team\n' }, 'mart.b');
  const body = JSON.stringify({ ref: 'refs/heads/main', after: pushed });
  const answer = await fetch(`http://127.0.0.1:${port}/api/v1/hooks/git`, {
    method: 'POST',
    body,
    headers: { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': githubSignature(body, SECRET) },
  });
  assert.equal(answer.status, 202);
  await waitFor(`${pushed} to be applied (log: ${server.log()})`, async () => {
    const status = await tesseraInProcess(['sync', 'status', '--json', '--repo', world.repo]);
    return (JSON.parse(status.stdout) as { activeCommit?: string }).activeCommit === pushed;
  });
  const tables = await tesseraInProcess(['tables', '--json', '--repo', world.repo]);
  assert.deepEqual(
    (JSON.parse(tables.stdout) as { name: string }[]).map((table) => table.name),
    ['mart.a', 'mart.b'],
  );

  server.child.kill('SIGTERM');
  assert.equal(await server.exited, 0);
});
