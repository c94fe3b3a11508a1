import { LocalFileStorage } from './local-file-storage.ts';
import type { Storage } from './storage.ts';

/** Open storage from its URL: `file:/abs/path` (the embedded default). */
export function openStorage(url: string): Storage {
  if (url.startsWith('file:')) return new LocalFileStorage(url.slice('file:'.length));
  throw new Error(`storage ${url} is not supported: use file:PATH`);
}
