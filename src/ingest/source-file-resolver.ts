import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { RunFailedError } from '../diagnostics/errors.ts';
import { quoteLiteral, type EngineSession } from '../engines/engine.ts';
import type { TaskDef } from '../model/index.ts';

const GLOB_CHARACTERS = /[*?[]/;

/**
 * The files a source `uri` names, absolute and sorted: a path or glob (`*`, `?`, `[…]`, `**`)
 * relative to the repo, or absolute. No match fails the run, naming the uri and the directory searched.
 */
export async function resolveSourceFiles(
  session: EngineSession,
  task: TaskDef,
  repoRoot: string,
): Promise<string[]> {
  const uri = task.source?.uri;
  const context = { task: task.name, table: task.target };
  if (!uri) throw new RunFailedError(`task ${task.name}: the source has no \`uri\``, context);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    throw new RunFailedError(
      `task ${task.name}: source uri ${uri}: only local paths and globs can be read by file ingestion here`,
      context,
    );
  }
  const pattern = resolve(repoRoot, uri.replace(/^file:/, ''));
  let files: string[];
  if (GLOB_CHARACTERS.test(pattern)) {
    // DuckDB's glob understands `**` and character classes, which Node 20's fs does not.
    const result = await session.query(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file`);
    files = result.rows.map((row) => String(row.file));
  } else {
    const info = await stat(pattern).catch(() => undefined);
    files = info?.isFile() ? [pattern] : [];
  }
  if (files.length === 0) {
    throw new RunFailedError(
      `task ${task.name}: no file matches source uri \`${uri}\` (searched ${searchedDirectory(pattern)})`,
      context,
    );
  }
  return files;
}

/** The deepest directory of a pattern that has no glob characters: where the files were looked for. */
function searchedDirectory(pattern: string): string {
  let directory = dirname(pattern);
  while (GLOB_CHARACTERS.test(directory)) directory = dirname(directory);
  return directory;
}

/** How messages name a file: relative to the repo when inside it (what the user wrote), else absolute. */
export function fileLabel(file: string, repoRoot: string): string {
  const path = relative(repoRoot, file);
  if (path.startsWith('..') || isAbsolute(path)) return file;
  return path.split(sep).join('/');
}
