// Settings that name a backend this version does not have are `validate` errors with their place
// in tessera.yaml and what is supported, never a silent fallback to the embedded default; and
// `governance.query_timeout` must be a positive duration.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DefinitionError } from '../../src/diagnostics/index.ts';
import { Platform } from '../../src/platform.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { writeCatalogRepo } from './catalog-repo-fixture.ts';

const OWNER = { 'owners/o.yaml': 'kind: owner\nname: o\n' };

/** `tessera validate` on a repo with this tessera.yaml: its exit code and diagnostic lines. */
async function validate(
  settings: string,
  env: Record<string, string> = {},
): Promise<{ code: number; lines: string[]; repo: string }> {
  const repo = await writeCatalogRepo({ ...OWNER, 'tessera.yaml': settings });
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const result = await tesseraInProcess(['--repo', repo, 'validate']);
    return { code: result.code, lines: result.stdout.trim().split('\n'), repo };
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
}

describe('backends that are not built yet', () => {
  const cases = [
    {
      name: 'storage: s3:// that names no bucket',
      settings: 'name: p\nstorage: s3://Not_A_Bucket/prefix\n',
      line: 'tessera.yaml:2:10: error invalid-value: `storage` `s3://Not_A_Bucket/prefix` is not an S3 location: write `s3://bucket` or `s3://bucket/prefix`',
    },
    {
      name: 'orchestrator: workers on the embedded SQLite catalog',
      settings: 'name: p\norchestrator: workers\n',
      line: 'tessera.yaml:2:15: error invalid-value: `orchestrator: workers` needs a PostgreSQL catalog',
    },
    {
      name: 'an engine nobody has heard of',
      settings: 'name: p\nengine: spark\n',
      line: 'tessera.yaml:2:9: error invalid-value: `engine` must be `duckdb`',
    },
    {
      name: 'a catalog that is neither sqlite: nor postgres://',
      settings: 'name: p\ncatalog: mysql://db/catalog\n',
      line: 'tessera.yaml:2:10: error invalid-value: `catalog` must be `sqlite:PATH` or `postgres://',
    },
  ];
  for (const item of cases) {
    test(`${item.name} is a validate error at its line and column, and Platform.open refuses it`, async () => {
      const { code, lines, repo } = await validate(item.settings);
      assert.equal(code, 2, lines.join('\n'));
      assert.ok(
        lines.some((line) => line.startsWith(item.line)),
        `expected a line starting with\n  ${item.line}\nin\n  ${lines.join('\n  ')}`,
      );
      assert.ok(!lines.join('\n').includes('secret'), 'a URL in the settings is never echoed');
      await assert.rejects(
        Platform.open({ repo }),
        (error: unknown) =>
          error instanceof DefinitionError &&
          error.code === 'definitions' &&
          error.message.includes(item.line.split(': error ')[1]!),
      );
    });
  }

  test('a bad TESSERA_STORAGE_URL=s3://… and TESSERA_ENGINE=spark are refused, naming the variable', async () => {
    const { code, lines } = await validate('name: p\n', {
      TESSERA_STORAGE_URL: 's3://b/x',
      TESSERA_ENGINE: 'spark',
    });
    assert.equal(code, 2);
    assert.ok(
      lines.includes(
        lines.find((line) => line.includes('`TESSERA_STORAGE_URL` `s3://b/x` is not an S3 location'))!,
      ),
    );
    assert.ok(lines.some((line) => /^tessera\.yaml:1:1: error invalid-value: `TESSERA_ENGINE`/.test(line)));
  });

  test('a PostgreSQL engine, in engine: or TESSERA_ENGINE, validates cleanly', async () => {
    for (const [settings, env] of [
      ['name: p\nengine: postgres://u@db:5432/x\n', {}],
      ['name: p\n', { TESSERA_ENGINE: 'postgresql://u@db/x' }],
    ] as const) {
      const { code, lines } = await validate(settings, env);
      assert.equal(code, 0, lines.join('\n'));
    }
  });

  test('the built backends validate cleanly', async () => {
    const { code, lines } = await validate(
      'name: p\ncatalog: sqlite:.tessera/c.db\nstorage: file:.tessera/w\nengine: duckdb\norchestrator: local\n',
    );
    assert.equal(code, 0, lines.join('\n'));
  });

  for (const storage of ['s3://bucket', 's3://my-bucket/tessera/prod/']) {
    test(`storage: ${storage} validates cleanly`, async () => {
      const { code, lines } = await validate(`name: p\nstorage: ${storage}\n`);
      assert.equal(code, 0, lines.join('\n'));
    });
  }
});

describe('governance.query_timeout', () => {
  test('a duration is read into the project settings', async () => {
    const { code, repo } = await validate('name: p\ngovernance:\n  query_timeout: 1m30s\n');
    assert.equal(code, 0);
    const platform = await Platform.open({ repo });
    try {
      assert.equal(platform.definitions.project.governance.queryTimeoutMs, 90_000);
    } finally {
      await platform.close();
    }
  });

  for (const [value, message] of [
    ['soon', 'must be a duration like'],
    ['0s', 'must be longer than zero'],
    ['300', 'must be a duration like'],
  ] as const) {
    test(`query_timeout: ${value} is a validate error at its place`, async () => {
      const { code, lines } = await validate(`name: p\ngovernance:\n  query_timeout: ${value}\n`);
      assert.equal(code, 2);
      assert.ok(
        lines.some((line) => line.startsWith('tessera.yaml:3:18: error') && line.includes(message)),
        lines.join('\n'),
      );
    });
  }
});
