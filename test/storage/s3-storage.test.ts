// `storage: s3://bucket/prefix` against a real S3-compatible server (s3rver), through the Platform
// users run: published files are objects in the bucket, governed reads and time travel read them
// through a cold local cache, retention deletes objects, and a failed upload publishes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { S3FileStorage } from '../../src/storage/index.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';
import { writeFiles, writeRepo } from '../support/cli.ts';
import { startS3Server, type S3TestServer } from '../support/s3-server.ts';

const BUCKET = 'warehouse';
const KEY = 's3-storage-test-key';

const csv = (state: string) => `person_id,ssn,name,birth_date,state
p1,111-11-1111,Alicia,1980-05-17,${state}
p2,222-22-2222,Bertrand,1975-11-02,${state}
`;

function repoFiles(endpoint: string, storage: string): Record<string, string> {
  return {
    'tessera.yaml': `name: s3-storage-test
storage: ${storage}
s3: { endpoint: "${endpoint}", region: us-east-1, path_style: true }
governance:
  hash_key: \${TESSERA_HASH_KEY}
`,
    'owners/team.yaml': TEAM_OWNER,
    'schemas/people.proto': personSchema(),
    'tables/people.yaml': `kind: table
name: people.raw
owner: team
schema: schemas/people.proto#people.Person
retention: { keep_versions: 2 }
---
kind: table
name: people.copy
owner: team
`,
    'tasks/tasks.yaml': `kind: task
name: ingest_raw
type: ingestion
target: people.raw
source: { type: csv, uri: data/people.csv }
mode: replace
---
kind: task
name: build_copy
type: projection
target: people.copy
sql: select person_id, ssn, name, state from people.raw
`,
    'access/access.yaml': `kind: role
name: analyst
members: [group:analytics]
grants: [{ tables: ['people.*'] }]
---
kind: principal
name: ana@example.org
groups: [analytics]
`,
    'data/people.csv': csv('CA'),
  };
}

async function listKeys(endpoint: string, bucket: string, prefix: string): Promise<string[]> {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((item) => item.Key!).sort();
  } finally {
    client.destroy();
  }
}

const asAna = { principal: 'ana@example.org' };

describe('s3 storage', () => {
  let s3: S3TestServer;
  let repo: string;
  const open = () => Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: KEY } });
  const cacheFolder = () => join(repo, '.tessera', 's3-storage');
  const runAll = async () => {
    const platform = await open();
    try {
      return await platform.run({ tasks: [], all: true });
    } finally {
      await platform.close();
    }
  };

  before(async () => {
    s3 = await startS3Server([BUCKET]);
    repo = await writeRepo(repoFiles(s3.endpoint, `s3://${BUCKET}/tessera/prod`));
    const platform = await open();
    await platform.apply();
    await platform.close();
  });
  after(async () => {
    await s3.close();
    await rm(repo, { recursive: true, force: true });
  });

  test('ingestion and projection publish versions whose files are objects under the prefix', async () => {
    const runs = await runAll();
    assert.deepEqual(
      runs.map((run) => [run.task, run.status, run.error]),
      [
        ['ingest_raw', 'succeeded', undefined],
        ['build_copy', 'succeeded', undefined],
      ],
    );
    const platform = await open();
    try {
      const { store, storage } = internalsOf(platform);
      assert.ok(storage instanceof S3FileStorage);
      assert.equal(storage.url, `s3://${BUCKET}/tessera/prod`);
      const raw = (await store.getCurrentVersion('people.raw'))!;
      const copy = (await store.getCurrentVersion('people.copy'))!;
      const keys = await listKeys(s3.endpoint, BUCKET, 'tessera/prod/');
      for (const file of [...raw.files, ...copy.files])
        assert.ok(keys.includes(`tessera/prod/${file}`), file);
      assert.ok(raw.files[0]!.startsWith('people/raw/'));
    } finally {
      await platform.close();
    }
  });

  test('a governed query reads the objects through a cold cache, masks applied', async () => {
    await rm(cacheFolder(), { recursive: true, force: true });
    const platform = await open();
    try {
      const masked = await platform.query(
        'select person_id, ssn, name, state from people.raw order by person_id',
        asAna,
      );
      assert.equal(masked.rows.length, 2);
      assert.notEqual(masked.rows[0]!.ssn, '111-11-1111');
      assert.notEqual(masked.rows[0]!.name, 'Alicia');
      assert.equal(masked.rows[0]!.state, 'CA');
      const copy = await platform.query('select count(*) as n from people.copy', asAna);
      assert.equal(Number(copy.rows[0]!.n), 2);
      // The downloaded copies are private to the platform's user.
      const version = (await internalsOf(platform).store.getCurrentVersion('people.raw'))!;
      const cached = await stat(internalsOf(platform).storage.localPath(version.files[0]!));
      assert.equal(cached.mode & 0o777, 0o600);
    } finally {
      await platform.close();
    }
  });

  test('time travel reads version 1 from the bucket after a newer version is published', async () => {
    await writeFiles(repo, { 'data/people.csv': csv('NY') });
    const runs = await runAll();
    assert.deepEqual(
      runs.map((run) => run.status),
      ['succeeded', 'succeeded'],
    );
    await rm(cacheFolder(), { recursive: true, force: true });
    const platform = await open();
    try {
      const old = await platform.query('select distinct state from people.raw at (version => 1)');
      assert.deepEqual(old.rows, [{ state: 'CA' }]);
      const now = await platform.query('select distinct state from people.raw');
      assert.deepEqual(now.rows, [{ state: 'NY' }]);
    } finally {
      await platform.close();
    }
  });

  test('retention deletes the objects (and cached copies) of versions it removes', async () => {
    let platform = await open();
    const first = (await internalsOf(platform).store.getVersion('people.raw', 1))!;
    const firstPath = internalsOf(platform).storage.localPath(first.files[0]!);
    await platform.close();
    assert.ok(
      (await listKeys(s3.endpoint, BUCKET, 'tessera/prod/')).includes(`tessera/prod/${first.files[0]}`),
    );
    assert.ok(existsSync(firstPath), 'time travel left version 1 in the cache');

    await writeFiles(repo, { 'data/people.csv': csv('TX') });
    assert.deepEqual(
      (await runAll()).map((run) => run.status),
      ['succeeded', 'succeeded'],
    );
    const keys = await listKeys(s3.endpoint, BUCKET, 'tessera/prod/people/raw/');
    assert.ok(!keys.includes(`tessera/prod/${first.files[0]}`), 'version 1 object deleted');
    assert.ok(!existsSync(firstPath), 'version 1 cached copy deleted');
    platform = await open();
    try {
      const listed = await internalsOf(platform).store.listVersions('people.raw');
      assert.deepEqual(
        listed.map((version) => version.version),
        [3, 2],
      );
      for (const version of listed)
        for (const file of version.files) assert.ok(keys.includes(`tessera/prod/${file}`), file);
    } finally {
      await platform.close();
    }
  });
});

describe('s3 storage failures', () => {
  test('an unreachable endpoint fails the run, publishes nothing and leaves the previous version readable', async () => {
    const server = await startS3Server([BUCKET]);
    const repo = await writeRepo(repoFiles(server.endpoint, `s3://${BUCKET}`));
    const open = () => Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: KEY } });
    try {
      let platform = await open();
      await platform.apply();
      const [firstRun] = await platform.run({ tasks: ['ingest_raw'] });
      await platform.close();
      assert.equal(firstRun!.status, 'succeeded', firstRun!.error);

      await server.close();
      await writeFiles(repo, { 'data/people.csv': csv('NY') });
      platform = await open();
      try {
        const [failed] = await platform.run({ tasks: ['ingest_raw'] });
        assert.equal(failed!.status, 'failed');
        assert.match(failed!.error ?? '', /cannot reach `s3\.endpoint` \(http:\/\/127\.0\.0\.1:\d+\)/);
        assert.match(failed!.error ?? '', new RegExp(`s3://${BUCKET}/people/raw/`));
        assert.equal((await internalsOf(platform).store.getCurrentVersion('people.raw'))!.version, 1);
        const rows = await platform.query('select distinct state from people.raw');
        assert.deepEqual(rows.rows, [{ state: 'CA' }], 'version 1 is still current, from the local cache');
      } finally {
        await platform.close();
      }
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });

  test('a bucket that does not exist fails the run naming the bucket and the setting to check', async () => {
    const server = await startS3Server([BUCKET]);
    const repo = await writeRepo(repoFiles(server.endpoint, 's3://no-such-bucket/data'));
    try {
      const platform = await Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: KEY } });
      try {
        await platform.apply();
        const [failed] = await platform.run({ tasks: ['ingest_raw'] });
        assert.equal(failed!.status, 'failed');
        assert.match(failed!.error ?? '', /s3:\/\/no-such-bucket\/data\/people\/raw\//);
        assert.match(
          failed!.error ?? '',
          /NoSuchBucket.*check the bucket in `storage` \(s3:\/\/no-such-bucket\/data\)/,
        );
        assert.doesNotMatch(failed!.error ?? '', /S3RVER/, 'no credential in the message');
        assert.equal(await internalsOf(platform).store.getCurrentVersion('people.raw'), undefined);
      } finally {
        await platform.close();
      }
    } finally {
      await server.close();
      await rm(repo, { recursive: true, force: true });
    }
  });
});
