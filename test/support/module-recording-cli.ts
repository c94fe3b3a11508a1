// Runs the real `tessera` process with a module-resolution hook that records the URL of every
// module it loads, so start-up tests can say which layers a command may not pull in.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tessera, type CliResult } from './cli.ts';

/** Run the CLI and return what it printed and the URLs of the modules it loaded. */
export async function tesseraRecordingModules(
  args: string[],
  options: { cwd?: string } = {},
): Promise<CliResult & { modules: string[] }> {
  const folder = await mkdtemp(join(tmpdir(), 'tessera-modules-'));
  const log = join(folder, 'modules.log');
  await writeFile(
    join(folder, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, result.url + '\\n');
  return result;
}`,
  );
  await writeFile(
    join(folder, 'record.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(folder, 'hooks.mjs')).href)});\n`,
  );
  const result = await tessera(args, {
    ...options,
    env: { NODE_OPTIONS: `--import=${join(folder, 'record.mjs')}` },
  });
  const modules = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter((url) => url !== '');
  return { ...result, modules };
}
