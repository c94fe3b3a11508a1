import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fingerprintObjectSource, globToRegExp } from '../ingest/index.ts';
import type { S3Settings } from '../model/index.ts';

const GLOB_CHARACTERS = /[*?[]/;

/** The files a `source_change` schedule watches, and their fingerprint. */
export interface SourceFingerprint {
  /** Absolute paths, sorted; for an `s3://` uri the objects, as `s3://bucket/key`. */
  files: string[];
  /**
   * sha256 over each file's path, size and modification time (an object's key and ETag); changes
   * when any of them changes.
   */
  fingerprint: string;
}

/**
 * Whether a source `uri` names files a `source_change` schedule can watch: local files, or objects
 * in S3 (databases and streams have no files to stat).
 */
export function isWatchableUri(uri: string | undefined): uri is string {
  return uri !== undefined && (uri.startsWith('s3://') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(uri));
}

/**
 * Fingerprint the files a source `uri` (a path or a glob with `*`, `?`, `[…]`, `**`, relative to the
 * repo) matches, by path, size and mtime: cheap for large files, and a `touch` counts as a change.
 * Globs match like the ingestion's (DuckDB's): `*` stays within one folder, `**` crosses folders.
 * An `s3://` uri is listed in its bucket (with the project's `s3` settings) and fingerprinted by
 * key and ETag, which S3 changes whenever an object's content does.
 */
export async function fingerprintSource(
  repoRoot: string,
  uri: string,
  s3?: S3Settings,
): Promise<SourceFingerprint> {
  if (uri.startsWith('s3://')) {
    const { objects, fingerprint } = await fingerprintObjectSource(s3, uri);
    return { files: objects, fingerprint };
  }
  const files = await matchSourceFiles(repoRoot, uri);
  const hash = createHash('sha256');
  for (const file of files) {
    const info = await stat(file).catch(ignoreMissing);
    // A file deleted between listing and stat simply drops out of the fingerprint.
    if (info) hash.update(`${file}\0${info.size}\0${info.mtimeMs}\n`);
  }
  return { files, fingerprint: hash.digest('hex') };
}

/** The files a source uri names, absolute and sorted; none when nothing matches. */
export async function matchSourceFiles(repoRoot: string, uri: string): Promise<string[]> {
  const pattern = resolve(repoRoot, uri.replace(/^file:/, ''));
  if (!GLOB_CHARACTERS.test(pattern)) {
    const info = await stat(pattern).catch(ignoreMissing);
    return info?.isFile() ? [pattern] : [];
  }
  let base = dirname(pattern);
  while (GLOB_CHARACTERS.test(base)) base = dirname(base);
  const matcher = globToRegExp(relative(base, pattern).split(sep).join('/'));
  // A folder that does not exist (yet) matches nothing; one that cannot be read is reported by the poller.
  const entries = await readdir(base, { recursive: true }).catch(ignoreMissing);
  if (!entries) return [];
  const matches: string[] = [];
  for (const entry of entries) {
    const path = entry.split(sep).join('/');
    if (!matcher.test(path)) continue;
    const file = join(base, entry);
    if ((await stat(file).catch(ignoreMissing))?.isFile()) matches.push(file);
  }
  return matches.sort();
}

/** `undefined` for a path that does not exist; every other error (a symlink loop, no permission) is real. */
function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw error;
}
