// The storage suites written for `file:` storage, run unchanged on `storage: s3://…` against a real
// S3-compatible server (s3rver): TESSERA_STORAGE_URL points every repo they write at the bucket,
// and the SDK's standard AWS_ENDPOINT_URL_S3 / AWS_REGION variables at the server.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startS3Server } from '../support/s3-server.ts';

const BUCKET = 'suites';
const server = await startS3Server([BUCKET]);
const saved = {
  TESSERA_STORAGE_URL: process.env.TESSERA_STORAGE_URL,
  AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3,
  AWS_REGION: process.env.AWS_REGION,
};
process.env.TESSERA_STORAGE_URL = `s3://${BUCKET}/suites`;
process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
process.env.AWS_REGION = 'us-east-1';
after(async () => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server.close();
});

await import('../governance/version-storage.test.ts');
await import('../governance/governed-storage.test.ts');

test('the suites above wrote their versions to the bucket, not to local files', async () => {
  const client = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true });
  try {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'suites/people/' }));
    const tables = new Set((listed.Contents ?? []).map((item) => item.Key!.split('/').slice(1, 3).join('.')));
    for (const table of ['people.replaced', 'people.appended', 'people.merged', 'people.raw', 'people.copy'])
      assert.ok(tables.has(table), `${table} in ${[...tables].join(', ')}`);
  } finally {
    client.destroy();
  }
});
