import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { FileAccessError } from '../diagnostics/errors.ts';

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
      'Example catalog',
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
