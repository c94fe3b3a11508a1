#!/usr/bin/env node
// `npm run build` (and `prepack`, so every published package has it): compile src/ to dist/ as plain
// JavaScript, so the installed `tessera` starts without compiling TypeScript. Files that are not
// TypeScript (the example repo's template) are copied as they are; imported JSON is emitted by tsc.
// Kysely and zod ship as hundreds of small ES modules, which the installed `tessera` would load one
// by one at every start: each is bundled once into dist/vendor/NAME.js (esbuild, which tsx already
// brings) and dist/ imports that file instead of the package.
// Usage: node scripts/build.mjs [OUT_DIR] [--no-check]   (default dist)
// --no-check emits without type-checking (tsc --noCheck: the same files, in half the time); the
// packed-install test uses it, as `npm run typecheck` checks the same sources. Releases omit it.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const args = process.argv.slice(2);
const out = resolve(args.find((arg) => !arg.startsWith('--')) ?? 'dist');
const check = !args.includes('--no-check');
const root = fileURLToPath(new URL('..', import.meta.url));
/** Whether `path` is `out` or inside it (so emptying `out` would delete it). */
const within = (path) => {
  const rest = relative(out, path);
  return rest === '' || (!rest.startsWith('..') && !isAbsolute(rest));
};
if (within(root) || within(resolve(root, 'src'))) {
  console.error(`refusing to build into ${out}: it would replace the sources; name an empty folder`);
  process.exit(2);
}
process.chdir(root);
rmSync(out, { recursive: true, force: true });
const result = spawnSync(
  process.execPath,
  [tsc, '-p', 'tsconfig.build.json', '--outDir', out, ...(check ? [] : ['--noCheck'])],
  { stdio: 'inherit' },
);
if (result.status !== 0) process.exit(result.status ?? 1);
cpSync('src/example/healthcare', `${out}/example/healthcare`, { recursive: true });

/** Packages bundled into dist/vendor/: many modules each, no native code, no dependencies. */
const VENDORED = ['kysely', 'zod'];
const { build } = await import('esbuild');
for (const name of VENDORED) {
  await build({
    stdin: { contents: `export * from '${name}';`, resolveDir: root, loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: join(out, 'vendor', `${name}.js`),
    logLevel: 'warning',
  });
}
const vendored = new RegExp(`(from\\s*|import\\s*\\(\\s*)'(${VENDORED.join('|')})'`, 'g');
const javascriptFiles = (folder) =>
  readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'vendor' ? [] : javascriptFiles(path);
    return entry.name.endsWith('.js') ? [path] : [];
  });
for (const file of javascriptFiles(out)) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(vendored, (_match, prefix, name) => {
    const target = relative(dirname(file), join(out, 'vendor', `${name}.js`))
      .split('\\')
      .join('/');
    return `${prefix}'${target.startsWith('.') ? target : `./${target}`}'`;
  });
  if (rewritten !== text) writeFileSync(file, rewritten);
}
