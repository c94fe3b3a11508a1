import { join } from 'node:path';
import { UsageError } from '../diagnostics/index.ts';
import type { S3Settings } from '../model/index.ts';
import { LocalFileStorage } from './local-file-storage.ts';
import { parseS3StorageUrl, S3FileStorage } from './s3-file-storage.ts';
import type { Storage } from './storage.ts';

export interface StorageContext {
  /** The repo's state folder (`.tessera`): object storage stages and caches files under it. */
  stateDirectory: string;
  /** `tessera.yaml`'s `s3:` settings. */
  s3?: S3Settings | undefined;
}

/** Open storage from its URL: `file:/abs/path` (the embedded default) or `s3://bucket[/prefix]`. */
export function openStorage(url: string, context?: StorageContext): Storage {
  if (url.startsWith('file:')) return new LocalFileStorage(url.slice('file:'.length));
  const s3 = parseS3StorageUrl(url);
  if (s3 && context) {
    const local = join(
      context.stateDirectory,
      's3-storage',
      s3.bucket,
      ...(s3.prefix ? s3.prefix.split('/') : []),
    );
    return new S3FileStorage(s3.bucket, s3.prefix, local, context.s3);
  }
  throw new UsageError(
    `storage ${url.split(/[?#]/)[0]} is not supported: use \`file:PATH\` (local files) or \`s3://bucket/prefix\`; \`tessera validate\` reports where it is set`,
  );
}
