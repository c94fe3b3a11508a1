// `tessera schema export DIR`: the JSON Schemas editors check a repo's YAML with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const EXAMPLE_SCHEMAS = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../src/example/healthcare/json-schemas',
);
const FILES = [
  'owner.schema.json',
  'principal.schema.json',
  'role.schema.json',
  'table.schema.json',
  'task.schema.json',
  'tessera-document.schema.json',
  'tessera.schema.json',
];

test('schema export writes one schema per kind, the any-kind schema and the tessera.yaml schema', async () => {
  const dir = join(await mkdtemp(join(tmpdir(), 'tessera-schemas-')), 'new', 'json-schemas');
  const result = await tesseraInProcess(['schema', 'export', dir]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual((await readdir(dir)).sort(), FILES);
  assert.equal(result.stdout, FILES.map((file) => `wrote ${join(dir, file)}\n`).join(''));
  for (const file of FILES) {
    const text = await readFile(join(dir, file), 'utf8');
    assert.equal(
      (JSON.parse(text) as { $schema?: string }).$schema,
      'https://json-schema.org/draft/2020-12/schema',
      file,
    );
    // What `init` gives a new repo is what export writes.
    assert.equal(text, await readFile(join(EXAMPLE_SCHEMAS, file), 'utf8'), file);
  }
});

test('schema export --json lists the folder and the files; running it again replaces them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-schemas-'));
  await tesseraInProcess(['schema', 'export', dir]);
  const again = await tesseraInProcess(['--json', 'schema', 'export', dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), { dir, files: FILES });
});

test('schema without a subcommand or export without a folder is a usage error', async () => {
  assert.equal((await tesseraInProcess(['schema'])).code, 2);
  const missing = await tesseraInProcess(['schema', 'export']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /missing required argument 'dir'/);
});
