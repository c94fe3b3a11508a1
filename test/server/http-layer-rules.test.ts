// The server layer rule in eslint.config.js: a face reads through Platform only. Probe source text
// is linted as if it sat in src/server/http/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function importProblems(source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(root, 'src/server/http/probe.ts') });
  assert.ok(result, 'ESLint linted the probe');
  return result.messages
    .filter((message) => /restricted-(imports|syntax)$/.test(message.ruleId ?? ''))
    .map((message) => message.message);
}

test('the HTTP API may not reach an engine, the read path, governance, the catalog store or the platform internals', async () => {
  for (const [module, name] of [
    ['../../engines/duckdb/duckdb-engine.ts', 'DuckdbEngine'],
    ['../../read-path/query-service.ts', 'QueryService'],
    ['../../governance/index.ts', 'resolveAccess'],
    ['../../catalog/open-catalog-store.ts', 'openCatalogStore'],
    ['../../platform/internals.ts', 'internalsOf'],
    ['../../platform/signed-files.ts', 'signedFileService'],
  ]) {
    const problems = await importProblems(
      `import { ${name} } from '${module}';\nexport const probe = ${name};\n`,
    );
    assert.equal(problems.length, 1, `${module}: ${problems.join('\n')}`);
  }
  const lazily = await importProblems(
    "export const later = () => import('../../read-path/query-service.ts');\n",
  );
  assert.equal(lazily.length, 1, lazily.join('\n'));
  const duckdb = await importProblems(
    "import { DuckDBInstance } from '@duckdb/node-api';\nexport const probe = DuckDBInstance;\n",
  );
  assert.equal(duckdb.length, 1, duckdb.join('\n'));
});

test('the HTTP API may import platform.ts, diagnostics and model values, and types from any layer', async () => {
  const problems = await importProblems(
    [
      "import { Platform } from '../../platform.ts';",
      "import { NotFoundError } from '../../diagnostics/errors.ts';",
      "import { EVENT_KINDS } from '../../model/index.ts';",
      "import type { VisibleTable } from '../../read-path/visible-catalog.ts';",
      "import type { ColumnInfo } from '../../engines/engine.ts';",
      'export const probe = [Platform, NotFoundError, EVENT_KINDS];',
      'export type Probe = [VisibleTable, ColumnInfo];',
    ].join('\n'),
  );
  assert.deepEqual(problems, []);
});
