// The pure parts of Git sync: the push signature, `REMOTE[#BRANCH]`, and whom a change concerns.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/diagnostics/index.ts';
import type { Definitions } from '../../src/model/index.ts';
import {
  githubSignature,
  ownersTouched,
  parseGitSource,
  verifyGithubSignature,
} from '../../src/sync/index.ts';
import { ingestionTask, ownerDef, projectionTask, tableDef } from '../catalog/definition-builders.ts';

describe('push webhook signature', () => {
  const body = Buffer.from('{"ref":"refs/heads/main"}');
  test("accepts GitHub's sha256=HMAC(body, secret) and nothing else", () => {
    const hmac = createHmac('sha256', 'secret').update(body).digest('hex');
    assert.equal(githubSignature(body, 'secret'), `sha256=${hmac}`);
    assert.equal(verifyGithubSignature(body, `sha256=${hmac}`, 'secret'), true);
    assert.equal(verifyGithubSignature(body, undefined, 'secret'), false);
    assert.equal(verifyGithubSignature(body, `sha256=${hmac}`, 'other'), false);
    assert.equal(verifyGithubSignature(body, `sha1=${hmac}`, 'secret'), false);
    assert.equal(verifyGithubSignature(body, `sha256=${hmac.slice(0, -1)}`, 'secret'), false);
    assert.equal(verifyGithubSignature(Buffer.from(`${body} `), `sha256=${hmac}`, 'secret'), false);
  });
});

describe('--watch-git REMOTE[#BRANCH]', () => {
  test('splits the branch off the last #, and refuses an empty remote or branch', () => {
    assert.deepEqual(parseGitSource('https://github.com/acme/catalog.git#main'), {
      remote: 'https://github.com/acme/catalog.git',
      branch: 'main',
    });
    assert.deepEqual(parseGitSource('/srv/git/catalog.git'), { remote: '/srv/git/catalog.git' });
    assert.throws(() => parseGitSource('#main'), UsageError);
    assert.throws(() => parseGitSource('/srv/catalog.git#'), /REMOTE\[#BRANCH\]/);
  });
});

describe('owners a change touches', () => {
  const at = (file: string) => ({ file, line: 1, column: 1 });
  const definitions = {
    tables: [
      { ...tableDef('care.members', { owner: 'clinical' }), at: at('tables/care.yaml') },
      { ...tableDef('care.visits', { owner: 'visits-team' }), at: at('tables/visits.yaml') },
      {
        ...tableDef('analytics.counts', { owner: 'analytics', fields: undefined }),
        at: at('tables/analytics.yaml'),
      },
    ].map((table) =>
      table.name === 'care.members' ? { ...table, schemaRef: 'schemas/care.proto#care.Member' } : table,
    ),
    tasks: [
      { ...ingestionTask('ingest_members', 'care.members'), at: at('tasks/ingest.yaml') },
      {
        ...projectionTask('count', 'analytics.counts', 'select 1'),
        sqlFile: 'sql/count.sql',
        at: at('tasks/count.yaml'),
      },
    ],
    owners: [{ ...ownerDef('ops'), at: at('owners/ops.yaml') }],
  } as unknown as Definitions;

  test("a schema file names its tables' owners, a SQL file its task target's owner, an owner file that owner", () => {
    assert.deepEqual(ownersTouched(definitions, ['schemas/care.proto']), ['clinical']);
    assert.deepEqual(ownersTouched(definitions, ['sql/count.sql', 'owners/ops.yaml']), ['analytics', 'ops']);
    assert.deepEqual(ownersTouched(definitions, ['tables/visits.yaml', 'tasks/ingest.yaml']), [
      'clinical',
      'visits-team',
    ]);
    assert.deepEqual(ownersTouched(definitions, ['README.md']), []);
  });
});
