/**
 * What the S3 reader and the `source_change` watch ask of a bucket: the objects a source uri
 * matches (key, ETag, size) and an object's bytes, through `@aws-sdk/client-s3`. Credentials come
 * from the SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
 * ~/.aws/credentials, SSO, the instance's role); `tessera.yaml`'s `s3:` says where and how.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../../model/index.ts';
import { describeS3Error, openS3Client, PRIVATE_FILE_MODE } from '../../storage/index.ts';
import { keyMatcher, objectUri, type S3Location } from './s3-location.ts';

/** One object a source uri matches, as listed. */
export interface ListedObject {
  key: string;
  /** The ETag as S3 gives it (quoted); it changes whenever the object's content does. */
  etag: string;
  size: number;
}

/** Every object the location matches, sorted by key (S3 lists in key order, page by page). */
export async function listMatchingObjects(
  client: S3Client,
  location: S3Location,
  signal?: AbortSignal,
): Promise<ListedObject[]> {
  const matches = keyMatcher(location);
  const objects: ListedObject[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: location.bucket,
        Prefix: location.listPrefix,
        ...(continuationToken ? { ContinuationToken: continuationToken } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined || !matches(item.Key)) continue;
      objects.push({ key: item.Key, etag: item.ETag ?? '', size: item.Size ?? 0 });
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
  return objects.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
}

/** Download one object to `file` (private to the platform's user); returns the ETag of what was read. */
export async function downloadObject(
  client: S3Client,
  bucket: string,
  key: string,
  file: string,
  signal?: AbortSignal,
): Promise<string> {
  const response = await client.send(
    new GetObjectCommand({ Bucket: bucket, Key: key }),
    signal ? { abortSignal: signal } : {},
  );
  if (!response.Body) throw new Error(`${objectUri(bucket, key)} has no body`);
  await pipeline(response.Body as Readable, createWriteStream(file, { mode: PRIVATE_FILE_MODE }), {
    ...(signal ? { signal } : {}),
  });
  return response.ETag ?? '';
}

/** The objects a source uri matches and a fingerprint over their keys and ETags (`source_change`). */
export async function fingerprintObjects(
  settings: S3Settings | undefined,
  location: S3Location,
): Promise<{ objects: string[]; fingerprint: string }> {
  const client = openS3Client(settings);
  try {
    const listed = await listMatchingObjects(client, location);
    const hash = createHash('sha256');
    for (const object of listed) hash.update(`${object.key}\0${object.etag}\n`);
    return {
      objects: listed.map((object) => objectUri(location.bucket, object.key)),
      fingerprint: hash.digest('hex'),
    };
  } finally {
    client.destroy();
  }
}

export { describeS3Error, openS3Client };
