#!/usr/bin/env node
// `npm run build` (and `prepack`, so every published package has it): compile src/ to dist/ as plain
// JavaScript, so the installed `tessera` starts without compiling TypeScript. Files that are not
// TypeScript (the example repo's template) are copied as they are; imported JSON is emitted by tsc.
// Usage: node scripts/build.mjs [OUT_DIR]   (default dist)
import { cpSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const out = resolve(process.argv[2] ?? 'dist');
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
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', out], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);
cpSync('src/example/healthcare', `${out}/example/healthcare`, { recursive: true });
