import { UsageError } from '../diagnostics/index.ts';
import { LocalFileStorage } from './local-file-storage.ts';
import type { Storage } from './storage.ts';

/** Open storage from its URL: `file:/abs/path` (the embedded default; `s3://` is not built yet). */
export function openStorage(url: string): Storage {
  if (url.startsWith('file:')) return new LocalFileStorage(url.slice('file:'.length));
  throw new UsageError(
    `storage ${url.split(/[?#]/)[0]} is not supported: only \`file:PATH\` (local files) is built; \`tessera validate\` reports where it is set`,
  );
}
