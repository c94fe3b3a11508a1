import type { SourceLocation } from '../model/index.ts';
import { FILE_SOURCE_TYPES } from './document-schemas.ts';

/** S3's rule for bucket names: 3–63 lowercase letters, digits, dots and hyphens, starting and ending alphanumeric. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Problems with an `s3://` source uri that `validate` can see without reaching the bucket: it must
 * name a bucket and the objects (a key or a glob over keys), and the source's `type` must be the
 * objects' file format. `report` receives each problem with the uri's location.
 */
export function checkObjectStoreUri(
  label: string,
  source: Record<string, unknown>,
  at: SourceLocation,
  report: (code: string, message: string, at: SourceLocation) => void,
): void {
  const uri = source.uri;
  if (typeof uri !== 'string' || !/^s3:\/\//i.test(uri)) return;
  if (!FILE_SOURCE_TYPES.includes(source.type as never)) {
    report(
      'invalid-value',
      `${label}: an s3:// uri names files: set the source's \`type\` to their format (${FILE_SOURCE_TYPES.join(', ')}), not ${String(source.type)}`,
      at,
    );
    return;
  }
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/i.exec(uri)!;
  const bucket = match[1]!;
  const key = match[2] ?? '';
  if (!uri.startsWith('s3://')) {
    report('invalid-value', `${label}: write the scheme in lower case: \`s3://${uri.slice(5)}\``, at);
  } else if (bucket === '' || key === '') {
    report(
      'invalid-value',
      `${label}: \`${uri}\` must name a bucket and its objects, e.g. \`s3://${bucket || 'bucket'}/prefix/*.${String(source.type)}\``,
      at,
    );
  } else if (!BUCKET_NAME.test(bucket)) {
    report(
      'invalid-value',
      `${label}: \`${bucket}\` is not an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit)`,
      at,
    );
  } else if (key.endsWith('/')) {
    report(
      'invalid-value',
      `${label}: \`${uri}\` names a folder; name its objects with a glob such as \`${uri}*.${String(source.type)}\``,
      at,
    );
  }
}
