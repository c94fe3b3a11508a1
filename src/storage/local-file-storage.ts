import { rm, stat, readdir, rmdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { makeFilePrivate, makePrivateDirectory } from './private-files.ts';
import type { Storage } from './storage.ts';

/** Table files in a local folder: `<root>/<namespace>/<name>/<runId>/part-N.parquet`. */
export class LocalFileStorage implements Storage {
  readonly url: string;
  readonly readableDirectories: string[];

  constructor(private readonly root: string) {
    this.root = resolve(root);
    this.url = `file:${this.root}`;
    this.readableDirectories = [this.root];
  }

  async createStagingFolder(table: string, runId: string): Promise<string> {
    const folder = this.runFolder(table, runId);
    await rm(folder, { recursive: true, force: true });
    // The root, namespace and table folders are Tessera's too: private even if an older version
    // or a looser umask created them.
    const parts = table.split('.');
    const owned = [this.root, ...parts.map((_, index) => join(this.root, ...parts.slice(0, index + 1)))];
    await makePrivateDirectory(folder, owned);
    return folder;
  }

  async commitFile(localPath: string): Promise<string> {
    const key = relative(this.root, resolve(localPath)).split(sep).join('/');
    if (key.startsWith('..')) throw new Error(`${localPath} is outside the storage root ${this.root}`);
    // Written by the engine with 0666 minus the umask: table data is the platform's alone.
    await makeFilePrivate(localPath);
    return key;
  }

  localPath(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async ensureLocal(): Promise<void> {
    // Local files are where they are read.
  }

  async sizeOf(keys: string[]): Promise<number> {
    const sizes = await Promise.all(keys.map(async (key) => (await stat(this.localPath(key))).size));
    return sizes.reduce((total, size) => total + size, 0);
  }

  async delete(keys: string[]): Promise<void> {
    const folders = new Set<string>();
    for (const key of keys) {
      const path = this.localPath(key);
      await rm(path, { force: true });
      folders.add(dirname(path));
    }
    for (const folder of folders) await removeIfEmpty(folder);
  }

  async discardStaging(table: string, runId: string): Promise<void> {
    await rm(this.runFolder(table, runId), { recursive: true, force: true });
  }

  private runFolder(table: string, runId: string): string {
    return join(this.root, ...table.split('.'), runId);
  }
}

async function removeIfEmpty(folder: string): Promise<void> {
  try {
    if ((await readdir(folder)).length === 0) await rmdir(folder);
  } catch (error) {
    // Already gone, or filled again by a concurrent writer: both fine. Anything else is real.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
}
