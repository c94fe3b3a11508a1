import { chmod, mkdir } from 'node:fs/promises';

/**
 * Modes of everything Tessera writes under its state folder: readable by the platform's own user
 * only, whatever the process umask. Engines (DuckDB, SQLite) create files with 0666 minus the
 * umask, so files are made private after they are written, and folders are created private.
 */
export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Create `folder` (and missing parents) private, and make `folder` itself and each of `owned` (its
 * ancestors that belong to Tessera, e.g. the storage root) private when they already existed.
 */
export async function makePrivateDirectory(folder: string, owned: string[] = []): Promise<void> {
  await mkdir(folder, { recursive: true, mode: PRIVATE_DIRECTORY_MODE });
  for (const path of [...owned, folder]) await chmod(path, PRIVATE_DIRECTORY_MODE);
}

/** Make a file Tessera wrote (or an engine wrote for it) readable and writable by its owner only. */
export async function makeFilePrivate(file: string): Promise<void> {
  await chmod(file, PRIVATE_FILE_MODE);
}
