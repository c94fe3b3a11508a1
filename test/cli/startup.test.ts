// CLI start-up stays light: `--help` and usage errors are answered from the command tree alone,
// without importing what implements the commands (the platform, DuckDB, Kysely, protobufjs…).
// A module-resolution hook in the real `tessera` process records every module it loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tesseraRecordingModules } from '../support/module-recording-cli.ts';

const HEAVY = [
  /\/src\/platform\.ts$/,
  /\/src\/orchestrator\//,
  /\/src\/engines\/duckdb\//,
  /\/node_modules\/(@duckdb|kysely|protobufjs|pg|better-sqlite3|yaml|zod)\//,
];

function heavyModules(modules: string[]): string[] {
  return [...new Set(modules.filter((url) => HEAVY.some((pattern) => pattern.test(url))))];
}

test('`tessera --help` lists the commands without loading their implementation', async () => {
  const result = await tesseraRecordingModules(['--help']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /tables/);
  assert.ok(
    result.modules.some((url) => url.endsWith('/src/cli/main.ts')),
    'the hook saw the CLI load (else this test proves nothing)',
  );
  assert.deepEqual(heavyModules(result.modules), []);
});

test("a command's --help and a usage error load no implementation either", async () => {
  for (const args of [
    ['query', '--help'],
    ['serve', '--help'],
    ['schema', 'export', '--help'],
    ['no-such-command'],
    ['runs', '--status', 'x'],
  ]) {
    const result = await tesseraRecordingModules(args);
    assert.ok(result.modules.length > 0, `${args.join(' ')}: the hook saw nothing`);
    assert.deepEqual(heavyModules(result.modules), [], args.join(' '));
  }
});

test('a command still loads its implementation when it runs', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'tessera-startup-repo-'));
  const result = await tesseraRecordingModules(['--repo', folder, 'validate']);
  assert.ok(
    result.modules.some((url) => url.endsWith('/src/platform.ts')),
    'validate loaded the platform (so the hook would notice it under --help)',
  );
});
