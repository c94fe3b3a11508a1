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
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../../model/index.ts';
import { PRIVATE_FILE_MODE } from '../../storage/index.ts';
import { keyMatcher, objectUri, type S3Location } from './s3-location.ts';

/** One object a source uri matches, as listed. */
export interface ListedObject {
  key: string;
  /** The ETag as S3 gives it (quoted); it changes whenever the object's content does. */
  etag: string;
  size: number;
}

// The installed SDK warns on every process start under Node 20 about SDK versions published later,
// which the lock file decides, not the user: the warning is noise in a run's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A client for the project's `s3:` settings (absent: AWS S3, region and credentials from the SDK's chain). */
export function openS3Client(settings: S3Settings | undefined): S3Client {
  return new S3Client({
    ...(settings?.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings?.region ? { region: settings.region } : {}),
    ...(settings?.pathStyle !== undefined ? { forcePathStyle: settings.pathStyle } : {}),
  });
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

/**
 * What went wrong talking to S3, and what to check: `NoSuchBucket: The specified bucket does not
 * exist; check the bucket in the uri …`. Never includes credentials (the SDK's messages do not).
 */
export function describeS3Error(error: unknown, settings: S3Settings | undefined): string {
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  const code = (error as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const where = settings?.endpoint ? `\`s3.endpoint\` (${settings.endpoint})` : 'AWS S3';
  const said = message && message !== name ? `${name}: ${message}` : name;
  if (name === 'NoSuchBucket') return `${said}; check the bucket in the uri and ${where} in tessera.yaml`;
  if (
    name === 'AccessDenied' ||
    name === 'InvalidAccessKeyId' ||
    name === 'SignatureDoesNotMatch' ||
    name === 'Forbidden'
  ) {
    return `${said}; check the AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws/credentials) and that they may list and read the bucket`;
  }
  if (name === 'CredentialsProviderError') {
    return `no AWS credentials were found (${message}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, where tessera runs`;
  }
  if (/region is missing/i.test(message)) {
    return `no AWS region is set; add \`s3: { region: … }\` to tessera.yaml or set AWS_REGION`;
  }
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'ETIMEDOUT') {
    return `${code}: cannot reach ${where}; check that it is the right address and that the server is up`;
  }
  return said;
}
