// Every diagnostic code the definitions can report is in the registry the user reference is built
// from (src/diagnostics/diagnostic-codes.ts), with its meaning and fix: a new code cannot ship
// undocumented. Codes are kebab-case string literals in src/definitions/ (and `cycle`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIAGNOSTIC_CODES } from '../../src/diagnostics/diagnostic-codes.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Kebab-case literals in src/definitions/ that are not diagnostic codes. */
const NOT_CODES = new Set([
  'draft-2020-12',
  'hipaa-safe-harbor',
  'json-schemas',
  'read-only',
  'tessera-definitions-cache',
]);

async function sourceFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

test('every code the definitions report is documented with a meaning and a fix', async () => {
  const found = new Set<string>(['cycle']);
  for (const file of await sourceFiles(join(ROOT, 'src/definitions'))) {
    for (const match of (await readFile(file, 'utf8')).matchAll(/'([a-z]+(?:-[a-z0-9]+)+)'/g)) {
      if (!NOT_CODES.has(match[1]!)) found.add(match[1]!);
    }
  }
  const missing = [...found].filter((code) => !(code in DIAGNOSTIC_CODES)).sort();
  assert.deepEqual(
    missing,
    [],
    'add these codes to src/diagnostics/diagnostic-codes.ts, then run npm run reference',
  );
  for (const [code, doc] of Object.entries(DIAGNOSTIC_CODES)) {
    assert.ok(doc.meaning.length > 10 && doc.fix.length > 10, `${code} says what it means and how to fix it`);
  }
});
