#!/usr/bin/env node
// The published package ships dist/ (compiled by `npm run build` before packing) and no src/: it runs
// plain JavaScript. A checkout runs the TypeScript sources through tsx, so an edit is live at once and
// a stale dist/ is never picked up in its place.
import { existsSync } from 'node:fs';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const sources = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(sources) || !existsSync(compiled)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import(compiled.href));
}
process.exitCode = await main(process.argv);
