// The layer rules in eslint.config.js: probe source text is linted as if it sat in a layer, and the
// import the architecture forbids must be reported, while an allowed one passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** The messages of the import rules for `source` linted as the file `path` (relative to the root). */
async function importProblems(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(root, path) });
  assert.ok(result, 'ESLint linted the probe');
  return result.messages
    .filter((message) => /restricted-(imports|syntax)$/.test(message.ruleId ?? ''))
    .map((message) => message.message);
}

test('the runner may not import platform.ts, the composition root', async () => {
  const problems = await importProblems(
    'src/runner/probe.ts',
    "import { Platform } from '../platform.ts';\nexport const probe = Platform;\n",
  );
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /platform\.ts, the composition root/);
});

test('the runner may not import a concrete engine nor DuckDB itself', async () => {
  const concrete = await importProblems(
    'src/runner/probe.ts',
    "import { DuckdbEngine } from '../engines/duckdb/duckdb-engine.ts';\nexport const probe = DuckdbEngine;\n",
  );
  assert.equal(concrete.length, 1, concrete.join('\n'));
  assert.match(concrete[0]!, /use the Engine interface/);
  const duckdb = await importProblems(
    'src/runner/probe.ts',
    "import { DuckDBInstance } from '@duckdb/node-api';\nexport const probe = DuckDBInstance;\n",
  );
  assert.equal(duckdb.length, 1, duckdb.join('\n'));
  assert.match(duckdb[0]!, /Only engines\/duckdb and sql\/ may import DuckDB/);
});

test('the runner may import the engine interface', async () => {
  const problems = await importProblems(
    'src/runner/probe.ts',
    "import type { Engine } from '../engines/engine.ts';\nexport type Probe = Engine;\n",
  );
  assert.deepEqual(problems, []);
});

test('the CLI may not import an engine, statically or lazily', async () => {
  const problems = await importProblems(
    'src/cli/probe.ts',
    [
      "import { DuckdbEngine } from '../engines/duckdb/duckdb-engine.ts';",
      'export const probe = DuckdbEngine;',
      "export const later = () => import('../engines/duckdb/duckdb-engine.ts');",
    ].join('\n'),
  );
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0]!, /cli\/ calls Platform/);
  assert.match(problems[1]!, /cli\/ loads only the platform lazily/);
});

test("the CLI may not reach the orchestrator, the read path or the platform's internals", async () => {
  for (const target of [
    '../orchestrator/catalog-run-queue.ts',
    '../read-path/query-service.ts',
    '../platform/internals.ts',
  ]) {
    const problems = await importProblems(
      'src/cli/probe.ts',
      `import * as probe from '${target}';\nexport default probe;\n`,
    );
    assert.equal(problems.length, 1, `${target}: ${problems.join('\n')}`);
  }
});

test('the CLI may import the platform, lazily, and types from any layer', async () => {
  const problems = await importProblems(
    'src/cli/probe.ts',
    [
      "import type { Platform } from '../platform.ts';",
      "import type { Engine } from '../engines/engine.ts';",
      "import { UsageError } from '../diagnostics/errors.ts';",
      "export const open = () => import('../platform.ts');",
      'export type Probe = [Platform, Engine];',
      'export const error = UsageError;',
    ].join('\n'),
  );
  assert.deepEqual(problems, []);
});

test('the read path may not import the orchestrator (but its duration text) nor the platform', async () => {
  const refused = await importProblems(
    'src/read-path/probe.ts',
    [
      "import { Orchestrator } from '../orchestrator/orchestrator.ts';",
      "import { Platform } from '../platform.ts';",
      'export const probe = [Orchestrator, Platform];',
    ].join('\n'),
  );
  assert.equal(refused.length, 2, refused.join('\n'));
  const allowed = await importProblems(
    'src/read-path/probe.ts',
    "import { formatDuration } from '../orchestrator/duration-text.ts';\nexport const probe = formatDuration;\n",
  );
  assert.deepEqual(allowed, []);
});

test('only platform.ts imports the read path', async () => {
  const problems = await importProblems(
    'src/governance/probe.ts',
    "import { QueryService } from '../read-path/query-service.ts';\nexport const probe = QueryService;\n",
  );
  assert.equal(problems.length, 1, problems.join('\n'));
  const allowed = await importProblems(
    'src/platform.ts',
    "import { QueryService } from './read-path/query-service.ts';\nexport const probe = QueryService;\n",
  );
  assert.deepEqual(allowed, []);
});

test('platform.ts may not import a face', async () => {
  const problems = await importProblems(
    'src/platform.ts',
    "import { main } from './cli/main.ts';\nexport const probe = main;\n",
  );
  assert.equal(problems.length, 1, problems.join('\n'));
});
