// `npm run bench`: every figure is a ratio against a baseline run side by side in this process.
// Each `bench/*.bench.ts` exports a default async function that prints its own lines.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.includes(name)))
  .sort();
for (const file of benches) {
  console.log(`\n== ${file.replace('.bench.ts', '')} ==`);
  const bench = (await import(join(here, file))) as { default: () => Promise<void> };
  await bench.default();
}
