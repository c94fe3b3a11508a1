// The published package runs compiled JavaScript: built as `npm pack` builds it (scripts/build.mjs),
// laid out as npm installs it (bin/, dist/, proto/, no src/), it answers like the sources do and
// runs real work (the example's template, the proto includes and the JSON references all found).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tessera, type CliResult } from '../support/cli.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

async function installedPackage(): Promise<string> {
  const folder = join(await mkdtemp(join(tmpdir(), 'tessera-package-')), 'tessera');
  await mkdir(join(folder, 'bin'), { recursive: true });
  await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), join(folder, 'dist')], { cwd: ROOT });
  await copyFile(join(ROOT, 'bin/tessera.js'), join(folder, 'bin/tessera.js'));
  await copyFile(join(ROOT, 'package.json'), join(folder, 'package.json'));
  await symlink(join(ROOT, 'proto'), join(folder, 'proto'));
  await symlink(join(ROOT, 'node_modules'), join(folder, 'node_modules'));
  return join(folder, 'bin/tessera.js');
}

function compiled(bin: string, args: string[]): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [bin, ...args], (error, stdout, stderr) => {
      resolvePromise({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('the compiled package answers like the sources and runs real work', async () => {
  const bin = await installedPackage();
  for (const args of [['--help'], ['query', '--help'], ['no-such-command']]) {
    assert.deepEqual(await compiled(bin, args), await tessera(args), args.join(' '));
  }
  const repo = join(await mkdtemp(join(tmpdir(), 'tessera-compiled-')), 'example');
  const init = await compiled(bin, ['init', repo, '--example', 'healthcare', '--rows', '20']);
  assert.equal(init.code, 0, init.stderr);
  const apply = await compiled(bin, ['--repo', repo, 'apply']);
  assert.equal(apply.code, 0, apply.stderr);
  const tables = await compiled(bin, ['--repo', repo, '--json', 'tables']);
  assert.equal(tables.code, 0, tables.stderr);
  assert.ok((JSON.parse(tables.stdout) as unknown[]).length > 0, 'the example registered tables');
  // The bundled zod exports the same JSON Schemas as the sources, which `init` copied into the repo.
  const schemas = join(repo, 'exported-schemas');
  const exported = await compiled(bin, ['schema', 'export', schemas]);
  assert.equal(exported.code, 0, exported.stderr);
  for (const file of ['tessera.schema.json', 'tessera-document.schema.json']) {
    assert.equal(
      await readFile(join(schemas, file), 'utf8'),
      await readFile(join(repo, 'json-schemas', file), 'utf8'),
      file,
    );
  }
});
