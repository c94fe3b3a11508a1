// docs/reference.md is generated from the CLI and the definitions' schemas (scripts/reference.ts):
// the committed page must be what the code generates now, so it never drifts from what Tessera
// accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildReference } from '../../scripts/reference.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

test('docs/reference.md is what npm run reference generates', async () => {
  const committed = await readFile(join(ROOT, 'docs/reference.md'), 'utf8');
  const generated = await buildReference();
  assert.ok(generated.includes('### tessera serve'), 'commands are listed');
  assert.ok(generated.includes('| `HASH` |'), 'masks are listed');
  assert.ok(generated.includes('| `unknown-key` |'), 'diagnostic codes are listed');
  assert.equal(committed, generated, 'docs/reference.md is stale: run `npm run reference` and commit it');
});
