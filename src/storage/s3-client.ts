/**
 * The one way Tessera talks to S3, shared by `s3://` sources (ingest) and `s3://` storage: a client
 * from `tessera.yaml`'s `s3:` settings, and S3 errors said in words. Credentials come from the
 * SDK's default chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials,
 * SSO, the instance's role); they are never part of a message.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../model/index.ts';

// The installed SDK warns on every process start under Node 20 about SDK versions published later,
// which the lock file decides, not the user: the warning is noise in a run's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A client for the project's `s3:` settings (absent: AWS S3, region and credentials from the SDK's chain). */
export function openS3Client(settings: S3Settings | undefined): S3Client {
  return new S3Client({
    // Checksums only where S3 requires them: a streamed upload is then sent as plain bytes with its
    // length, which every S3-compatible server stores as is (the default `aws-chunked` trailer
    // encoding is AWS's own, and some servers store the framing with the data).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    ...(settings?.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(settings?.region ? { region: settings.region } : {}),
    ...(settings?.pathStyle !== undefined ? { forcePathStyle: settings.pathStyle } : {}),
  });
}

/**
 * What went wrong talking to S3, and what to check: `NoSuchBucket: The specified bucket does not
 * exist; check the bucket in the uri …`. Never includes credentials (the SDK's messages do not).
 * `bucketSetting` names where the bucket was written (default: the uri).
 */
export function describeS3Error(
  error: unknown,
  settings: S3Settings | undefined,
  bucketSetting = 'the uri',
): string {
  const name = (error as { name?: string } | undefined)?.name ?? 'Error';
  const code = (error as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const where = settings?.endpoint ? `\`s3.endpoint\` (${settings.endpoint})` : 'AWS S3';
  const said = message && message !== name ? `${name}: ${message}` : name;
  if (name === 'NoSuchBucket')
    return `${said}; check the bucket in ${bucketSetting} and ${where} in tessera.yaml`;
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
