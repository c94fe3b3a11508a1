// The package as a user installs it: packed by `npm pack` from the files package.json publishes,
// installed with npm into a fresh folder, and run there with `npx tessera` — init, validate,
// apply, run --all and query all work without this checkout. The compiled CLI answers like the
// sources do (help, errors) and finds what it ships beside dist/ (the example's template, the proto
// includes, the JSON Schemas' references).
//
// One shortcut keeps the suite fast: the install skips install scripts and takes better-sqlite3's
// compiled addon from this checkout's node_modules (same version, same Node), instead of compiling
// it again (about 90 s); `npm ci` compiles it for real on every CI run. The work folder is on tmpfs
// where there is one (/dev/shm): the install writes some 290 MB in thousands of small files, three
// times faster there than on disk. The source CLI's answers, compared with the compiled ones at the
// end, are collected while the build runs. The build skips type-checking (`--no-check`: the same
// files; `npm run typecheck` checks the sources).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, copyFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tessera, type CliResult } from '../support/cli.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

test('npm pack → npm install in a fresh folder → npx tessera init, validate, apply, run --all, query, schema export', async (t) => {
  const work = await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tessera-packed-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const compared = [['--help'], ['query', '--help'], ['no-such-command']];
  const fromSources = Promise.all(compared.map((args) => tessera(args)));

  // Stage what package.json publishes (its "files"), with dist/ built as `prepack` builds it.
  const stage = join(work, 'stage');
  const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  await mkdir(stage);
  await copyFile(join(ROOT, 'package.json'), join(stage, 'package.json'));
  for (const entry of manifest.files.filter((file) => file !== 'dist')) {
    await cp(join(ROOT, entry), join(stage, entry), { recursive: true });
  }
  await run(process.execPath, [join(ROOT, 'scripts/build.mjs'), join(stage, 'dist'), '--no-check'], {
    cwd: ROOT,
  });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: stage });
  const tarball = (await readdir(work)).find((name) => name.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');

  const app = join(work, 'clinic');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'clinic', private: true }));
  await run(
    'npm',
    ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', join(work, tarball)],
    {
      cwd: app,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  const addon = 'node_modules/better-sqlite3/build/Release/better_sqlite3.node';
  await mkdir(dirname(join(app, addon)), { recursive: true });
  await copyFile(join(ROOT, addon), join(app, addon));
  const installed = await readdir(join(app, 'node_modules/tessera'));
  assert.ok(installed.includes('dist') && !installed.includes('src'), 'the package ships dist/, not src/');

  const env = { ...process.env, TESSERA_HASH_KEY: 'packed-install-key' };
  const npx = async (cwd: string, ...args: string[]) => {
    const { stdout } = await run('npx', ['--no-install', 'tessera', ...args], {
      cwd,
      env,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout;
  };
  // The compiled CLI run directly; its answers below are collected while the commands above run.
  const bin = join(app, 'node_modules/tessera/bin/tessera.js');
  const compiled = (args: string[]): Promise<CliResult> =>
    new Promise((resolvePromise) => {
      execFile(process.execPath, [bin, ...args], { env }, (error, stdout, stderr) => {
        resolvePromise({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout,
          stderr,
        });
      });
    });
  const compiledAnswers = Promise.all(compared.map((args) => compiled(args)));
  assert.match(await npx(app, 'init', 'catalog', '--example', 'healthcare'), /wrote the healthcare example/);
  const catalog = join(app, 'catalog');
  const schemas = join(work, 'exported-schemas');
  const exporting = compiled(['schema', 'export', schemas]);
  await npx(catalog, 'validate');
  await npx(catalog, 'apply');
  await npx(catalog, 'run', '--all');
  const counted = JSON.parse(
    await npx(catalog, 'query', 'SELECT count(*) AS n FROM clinical.patients', '--format', 'json'),
  ) as {
    n: number;
  }[];
  assert.ok(counted[0]!.n > 0, 'the installed CLI ingested and queried the example');

  // The compiled CLI answers exactly like the sources, errors included.
  const [sourceAnswers, answers] = await Promise.all([fromSources, compiledAnswers]);
  for (const [index, args] of compared.entries()) {
    assert.deepEqual(answers[index], sourceAnswers[index], args.join(' '));
  }
  // The bundled zod exports the same JSON Schemas as the sources, which `init` copied into the repo.
  const exported = await exporting;
  assert.equal(exported.code, 0, exported.stderr);
  for (const file of ['tessera.schema.json', 'tessera-document.schema.json']) {
    assert.equal(
      await readFile(join(schemas, file), 'utf8'),
      await readFile(join(catalog, 'json-schemas', file), 'utf8'),
      file,
    );
  }
});
