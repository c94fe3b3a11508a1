import { readdir, stat } from 'node:fs/promises';
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
  // Only "there is no such path" means no match: any other failure (a symlink loop, a file where a
  // folder should be, no permission) is the run's real cause and is reported as such.
  const cannotRead = (path: string, error: unknown) =>
    new RunFailedError(
      `task ${task.name}: cannot read source uri \`${uri}\`: ${(error as Error).message}; check ${fileLabel(path, repoRoot)} and its permissions`,
      context,
      { cause: error },
    );
  let files: string[];
  if (GLOB_CHARACTERS.test(pattern)) {
    const directory = searchedDirectory(pattern);
    // DuckDB's glob finds nothing in a folder it cannot read, so read the folder searched first.
    const listed = await readdir(directory).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw cannotRead(directory, error);
    });
    // DuckDB's glob understands `**` and character classes, which Node 20's fs does not.
    const result = listed
      ? await session.query(`SELECT file FROM glob(${quoteLiteral(pattern)}) ORDER BY file`)
      : { rows: [] };
    files = result.rows.map((row) => String(row.file));
  } else {
    const info = await stat(pattern).catch((error: unknown) => {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw cannotRead(pattern, error);
    });
    if (info?.isDirectory()) {
      throw new RunFailedError(
        `task ${task.name}: source uri \`${uri}\` is a folder; name its files with a glob such as \`${uri.replace(/\/$/, '')}/*\``,
        context,
      );
    }
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

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
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
