// The CLI faces of Git sync: flags checked before anything starts, and `sync status` on a catalog
// that never synced.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

describe('tessera serve --watch-git and sync status', () => {
  test('bad flags are usage errors that say how to fix them', async (t) => {
    const repo = await writeRepo({ 'tessera.yaml': 'name: clinic\n' });
    t.after(() => rm(repo, { recursive: true, force: true }));
    const hookAlone = await tesseraInProcess(['serve', '--webhook-port', '9000', '--repo', repo]);
    assert.equal(hookAlone.code, 2);
    assert.match(hookAlone.stderr, /--webhook-port needs --watch-git REMOTE\[#BRANCH\]/);
    const badPoll = await tesseraInProcess([
      'serve',
      '--watch-git',
      '/srv/x.git',
      '--poll',
      'soon',
      '--repo',
      repo,
    ]);
    assert.equal(badPoll.code, 2);
    assert.match(badPoll.stderr, /--poll takes a duration like 10ms, 30s or 2m, got soon/);
    const badPort = await tesseraInProcess([
      'serve',
      '--watch-git',
      '/srv/x.git',
      '--webhook-port',
      'http',
      '--repo',
      repo,
    ]);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--webhook-port takes a port number/);
  });

  test('a --repo that is not a Git clone is refused with how to make one', async (t) => {
    const repo = await writeRepo({ 'tessera.yaml': 'name: clinic\n' });
    t.after(() => rm(repo, { recursive: true, force: true }));
    assert.equal((await tesseraInProcess(['apply', '--repo', repo])).code, 0);
    const result = await tesseraInProcess(['serve', '--watch-git', '/srv/x.git#main', '--repo', repo]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--watch-git needs --repo to be a Git clone .*git clone REMOTE/);
  });

  test('sync status before any sync says how to start one; --json is empty', async (t) => {
    const repo = await writeRepo({ 'tessera.yaml': 'name: clinic\n' });
    t.after(() => rm(repo, { recursive: true, force: true }));
    assert.equal((await tesseraInProcess(['apply', '--repo', repo])).code, 0);
    const text = await tesseraInProcess(['sync', 'status', '--repo', repo]);
    assert.equal(text.code, 0);
    assert.match(
      text.stdout,
      /no Git sync yet: start one with `tessera serve --watch-git REMOTE\[#BRANCH\]`/,
    );
    const json = await tesseraInProcess(['sync', 'status', '--json', '--repo', repo]);
    assert.deepEqual(JSON.parse(json.stdout), {});
  });
});
