#!/usr/bin/env node
// `npm run build` (and `prepack`, so every published package has it): compile src/ to dist/ as plain
// JavaScript, so the installed `tessera` starts without compiling TypeScript. Files that are not
// TypeScript (the example repo's template) are copied as they are; imported JSON is emitted by tsc.
import { cpSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
cpSync('src/example/healthcare', 'dist/example/healthcare', { recursive: true });
