import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { FileAccessError, TesseraError, UsageError } from '../diagnostics/errors.ts';
import { blankRepoFiles } from '../example/blank-repo.ts';
import { writeJsonSchemas } from './json-schema-writer.ts';

/**
 * Write the healthcare example catalog repo (definitions and `patients` synthetic patients'
 * source files, generated with DuckDB) to `target`, as a Git repository with one commit when Git
 * is installed, so every version records the commit of the definitions that produced it.
 */
export async function writeExample(target: string, patients: number): Promise<void> {
  const [{ DuckdbEngine }, { writeHealthcareExample }] = await Promise.all([
    import('../engines/duckdb/duckdb-engine.ts'),
    import('../example/healthcare-example.ts'),
  ]);
  const engine = await DuckdbEngine.create();
  try {
    await mkdir(target, { recursive: true }).catch((error: unknown) => {
      throw cannotWriteExample(target, error);
    });
    await writeHealthcareExample(target, engine, { patients });
  } finally {
    await engine.close();
  }
  await commitEverything(target, 'Example catalog');
}

/**
 * Write a small blank catalog repo to `target` (`tessera init DIR`): one owner, schema, ingested
 * table with a sample CSV, projection and role, plus the JSON Schemas its YAML names. `target`
 * may exist (e.g. `.` after `npm init`) unless it already holds a file the repo would write
 * (`UsageError` naming them; its own `README.md` and `.gitignore` are kept); a folder this creates becomes a Git repository with
 * one commit when Git is installed, an existing one is left to its owner's Git. Returns the files
 * written, relative to `target`.
 */
export async function writeBlankRepo(target: string): Promise<string[]> {
  const existed = existsSync(target);
  // A folder's own README and .gitignore are kept: they are not the catalog's.
  const files = Object.fromEntries(
    Object.entries(blankRepoFiles(projectName(target))).filter(
      ([file]) => !KEPT_IF_PRESENT.includes(file) || !existsSync(join(target, file)),
    ),
  );
  const clashes = Object.keys(files).filter((file) => existsSync(join(target, file)));
  if (clashes.length > 0) {
    throw new UsageError(
      `${target} already holds ${clashes.join(', ')}; choose a new folder (tessera init writes a new catalog repo)`,
    );
  }
  try {
    for (const [file, content] of Object.entries(files)) {
      await mkdir(dirname(join(target, file)), { recursive: true });
      await writeFile(join(target, file), content);
    }
    await writeJsonSchemas(join(target, 'json-schemas'));
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw new FileAccessError(
      `cannot write the catalog repo to ${target}: ${(error as Error).message}; choose a folder you can write to`,
      { cause: error },
    );
  }
  if (!existed) await commitEverything(target, 'Blank catalog');
  return Object.keys(files);
}

const KEPT_IF_PRESENT = ['README.md', '.gitignore'];

/** The folder's name as a project name (lowercase letters, digits, `_`, `-`), else `my-catalog`. */
function projectName(target: string): string {
  const name = basename(target)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z]+/, '');
  return name === '' ? 'my-catalog' : name;
}

async function commitEverything(target: string, message: string): Promise<void> {
  const git = promisify(execFile);
  try {
    await git('git', ['init', '-q', target]);
    await git('git', ['-C', target, 'add', '-A']);
    await git('git', [
      '-C',
      target,
      '-c',
      'user.name=Tessera',
      '-c',
      'user.email=demo@tessera.invalid',
      'commit',
      '-qm',
      message,
    ]);
  } catch {
    // Git is optional for the example: without it versions simply record no commit.
  }
}

/** The example could not be written where the user asked. */
export function cannotWriteExample(target: string, error: unknown): FileAccessError {
  return new FileAccessError(
    `cannot write the example to ${target}: ${(error as Error).message}; choose a folder you can write to`,
    { cause: error },
  );
}
