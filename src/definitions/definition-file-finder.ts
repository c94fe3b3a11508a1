import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FileAccessError } from '../diagnostics/index.ts';
import { PROJECT_FILE } from './project-settings-loader.ts';

/**
 * Every `*.yaml`/`*.yml` below the repo root, as sorted `/`-separated relative paths, except
 * `tessera.yaml`, hidden folders and files (`.tessera`, `.git`, ...) and `node_modules`.
 */
export async function findDefinitionFiles(root: string, folder = ''): Promise<string[]> {
  const entries = await readdir(join(root, folder), { withFileTypes: true }).catch((error: unknown) => {
    throw new FileAccessError(
      `cannot read the folder ${join(root, folder)} of the catalog repo: ${(error as Error).message}`,
      { cause: error },
    );
  });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = folder ? `${folder}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await findDefinitionFiles(root, path)));
    else if (entry.isFile() && /\.ya?ml$/i.test(entry.name) && path !== PROJECT_FILE) files.push(path);
  }
  return files;
}
