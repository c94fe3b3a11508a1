// `tessera plan --base REV`: the pull-request plan. The working tree against another Git revision
// of the same repo, with no catalog opened and nothing written into the repo's state folder.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFiles } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import {
  careRepoOnBranch,
  commitAll,
  git,
  membersProto,
  removeRepo,
  representativeChange,
  roles,
} from '../support/care-plan-repo.ts';

const repos: string[] = [];
after(async () => {
  await Promise.all(repos.map(removeRepo));
});

async function repoOnBranch(): Promise<string> {
  const repo = await careRepoOnBranch();
  repos.push(repo);
  return repo;
}

function plan(repo: string, ...args: string[]) {
  return tesseraInProcess(['plan', '--repo', repo, ...args]);
}

async function baseFolders(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((name) => name.startsWith('tessera-plan-base-'));
}

test('a branch that removes a field without raising schema_version: breaking, refused, exit 1, nothing written', async () => {
  const repo = await repoOnBranch();
  await writeFiles(repo, { 'schemas/care.proto': membersProto({ email: false, zipProtected: false }) });
  await commitAll(repo, 'drop email');
  const foldersBefore = await baseFolders();

  const result = await plan(repo, '--base', 'main');

  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stdout, /- email: removed \(was VARCHAR = 5\); readers of `email` break {2}BREAKING/);
  assert.match(result.stdout, /Refused: apply will not proceed/);
  assert.match(result.stdout, /raise schema_version to 2 \(above the applied 1\)/);
  assert.match(result.stdout, /^Plan against main \([0-9a-f]{12}\)/);
  assert.equal(existsSync(join(repo, '.tessera')), false, 'no state folder, so no catalog and no cache');
  assert.deepEqual(await baseFolders(), foldersBefore, 'the base copy is removed');
});

test('the same change with schema_version raised is accepted: exit 0, the raise shown', async () => {
  const repo = await repoOnBranch();
  await representativeChange(repo);

  const result = await plan(repo, '--base', 'main', '--format', 'markdown');

  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /\| `care.members` \| `email` \| removed .* \| ⚠ breaking \|/);
  assert.match(
    result.stdout,
    /`care.members`: schema_version 1 → 2 \(⚠ breaking, accepted: `schema_version` raised\)/,
  );
  assert.doesNotMatch(result.stdout, /would refuse/);
  assert.equal(existsSync(join(repo, '.tessera')), false);
});

test('the working tree is compared, committed or not; the plan names the base commit', async () => {
  const repo = await repoOnBranch();
  await representativeChange(repo, { raiseVersion: false });
  const main = (await git(repo, 'rev-parse', 'main')).trim();

  const result = await plan(repo, '--base', main.slice(0, 10), '--json');

  assert.equal(result.code, 1);
  const json = JSON.parse(result.stdout);
  assert.equal(json.comparison.commit, main);
  assert.equal(json.comparison.revision, main.slice(0, 10));
  assert.deepEqual(json.tables.added, ['care.claims']);
  assert.deepEqual(json.tasks.removed, ['backfill_members']);
  assert.equal(json.refusals.length, 1);
  assert.match(
    json.refusals[0],
    /^table care.members \(tables\/care.yaml:2:7\): breaking schema change: `email` removed/,
  );
});

test('access changes per role, in words', async () => {
  const repo = await repoOnBranch();
  await representativeChange(repo);

  const result = await plan(repo, '--base', 'main', '--json');

  const json = JSON.parse(result.stdout);
  assert.deepEqual(
    json.comparison.accessChanges.map((change: { text: string }) => change.text),
    [
      'role analyst gains access to care.claims (a new table)',
      'role analyst will now see care.members.zip as ZIP3',
      'role care_manager gains access to care.claims (a new table)',
    ],
  );
  assert.deepEqual(json.comparison.sensitivityChanges, [
    {
      table: 'care.members',
      column: 'zip',
      from: {},
      to: { sensitivity: 'PHI', mask: 'ZIP3' },
      weakened: false,
    },
  ]);
  assert.deepEqual(
    json.comparison.reviewers.map((reviewer: { owner: string; members: string[] }) => [
      reviewer.owner,
      reviewer.members,
    ]),
    [
      ['analytics', ['bob@example.org']],
      ['care-team', ['alice@example.org']],
      ['claims-team', ['carol@example.org']],
    ],
  );
});

test('revoked access, a changed row filter, a hidden column and a declassified column are all said', async () => {
  const repo = await repoOnBranch();
  // Base: zip PHI with ZIP3, so the change can declassify it.
  await writeFiles(repo, { 'schemas/care.proto': membersProto({ email: true, zipProtected: true }) });
  await commitAll(repo, 'zip is PHI');
  await git(repo, 'branch', '-f', 'protected');
  await writeFiles(repo, {
    'schemas/care.proto': membersProto({ email: true, zipProtected: false }),
    'access/roles.yaml': roles(false)
      .replace("state = principal_attr('state')", "state in ('CA', 'OR')")
      .replace(
        "grants:\n  - tables: ['care.*']",
        "grants:\n  - tables: ['care.members']\ndeny_columns: { care.members: [email] }",
      ),
  });

  const result = await plan(repo, '--base', 'protected');

  assert.equal(result.code, 0, result.stderr);
  for (const line of [
    "row filter of role analyst on care.members changed: `state = principal_attr('state')` → `state in ('CA', 'OR')`",
    'role analyst will now see care.members.zip in clear (was ZIP3)',
    'role care_manager loses access to care.members_2019',
    'role care_manager will no longer see care.members.email',
    '! care.members.zip: PHI ZIP3 → not sensitive  DECLASSIFIED',
  ]) {
    assert.ok(result.stdout.includes(line), `expected «${line}» in:\n${result.stdout}`);
  }
  // care_manager unmasks PHI: zip reaches it in clear before and after, so nothing to say for it.
  assert.doesNotMatch(result.stdout, /role care_manager will now see care.members.zip/);
});

test('a catalog repo in a subfolder of the Git repository is compared with the same subfolder at the base', async () => {
  const repo = await careRepoOnBranch('catalog');
  repos.push(dirname(repo));
  await representativeChange(repo);

  const result = await plan(repo, '--base', 'main', '--json');

  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.deepEqual(json.comparison.baseProblems, []);
  assert.deepEqual(json.tables.added, ['care.claims']);
  assert.deepEqual(
    json.tables.changed.map((change: { name: string }) => change.name),
    ['care.members'],
  );
});

test('the first pull request of a catalog repo: a base without catalog files, everything added', async () => {
  const repo = await repoOnBranch();
  await git(repo, 'checkout', '--quiet', '--orphan', 'empty');
  await git(repo, 'rm', '-r', '--quiet', '--cached', '.');
  await writeFiles(repo, { 'README.md': 'A new catalog.\n' });
  await git(repo, 'add', 'README.md');
  await git(repo, 'commit', '--quiet', '-m', 'an empty repository');
  await git(repo, 'checkout', '--quiet', 'change', '--', '.');

  const result = await plan(repo, '--base', 'empty', '--json');

  assert.equal(result.code, 0, result.stderr);
  const json = JSON.parse(result.stdout);
  assert.deepEqual(json.comparison.baseProblems, []);
  assert.deepEqual(json.tables.added, ['analytics.members_by_state', 'care.members', 'care.members_2019']);
  assert.deepEqual(json.tables.changed, []);
});

test('nothing changed since the base: no changes, exit 0', async () => {
  const repo = await repoOnBranch();

  const result = await plan(repo, '--base', 'HEAD');

  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^Plan against HEAD \([0-9a-f]{12}\), as if it were applied\n\nNo changes: the definitions match HEAD\.\n/,
  );
});

test('a revision Git does not know is a usage error naming it', async () => {
  const repo = await repoOnBranch();

  const result = await plan(repo, '--base', 'no-such-branch');

  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /--base no-such-branch: no such revision in the Git repository at .*; give a branch, tag or commit/,
  );
  assert.equal(existsSync(join(repo, '.tessera')), false);
});

test('a folder outside any Git repository is a usage error saying so', async () => {
  const repo = await repoOnBranch();
  await removeRepo(join(repo, '.git'));

  const result = await plan(repo, '--base', 'main');

  assert.equal(result.code, 2);
  assert.match(result.stderr, /is not in a Git repository/);
});

test('invalid definitions in the working tree fail as validate does (exit 2), before Git is read', async () => {
  const repo = await repoOnBranch();
  await writeFiles(repo, { 'tables/claims.yaml': 'kind: table\nname: care.claims\nowner: nobody-known\n' });

  const result = await plan(repo, '--base', 'main');

  assert.equal(result.code, 2);
  assert.match(result.stderr, /tables\/claims.yaml:3:\d+: error/);
});

test('a base with errors is reported, and the plan compares with what loaded of it', async () => {
  const repo = await repoOnBranch();
  await writeFiles(repo, { 'tables/broken.yaml': 'kind: table\nname: care.broken\nowner: nobody-known\n' });
  await commitAll(repo, 'a broken table');
  await git(repo, 'branch', '-f', 'broken');
  await writeFiles(repo, { 'tables/broken.yaml': 'kind: table\nname: care.broken\nowner: care-team\n' });

  const result = await plan(repo, '--base', 'broken');

  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /Problems at broken \(the plan compares with what loaded of it\)\n {2}! tables\/broken.yaml:3:\d+: error/,
  );
});

test('the definition cache of the working tree is read but never written', async () => {
  const repo = await repoOnBranch();
  // A normal validate writes the cache; plan --base must leave it exactly as it was.
  assert.equal((await tesseraInProcess(['validate', '--repo', repo])).code, 0);
  const cache = join(repo, '.tessera', 'cache');
  const snapshot = async () =>
    Promise.all(
      (await readdir(cache)).sort().map(async (name) => [name, await readFile(join(cache, name), 'utf8')]),
    );
  const before = await snapshot();
  await representativeChange(repo);

  assert.equal((await plan(repo, '--base', 'main')).code, 0);

  // The changed files would have changed the cache, had it been written.
  assert.deepEqual(await snapshot(), before);
  assert.deepEqual(await readdir(join(repo, '.tessera')), ['cache'], 'no catalog created');
});
