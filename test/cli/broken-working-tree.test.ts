// A half-edited file must not block reading: `query` answers from the definitions as last applied
// with one warning line naming the first problem (`tables`, `show`, `runs`… read the catalog alone
// and name the first YAML syntax error the same way); commands that change or run anything still
// refuse, listing every problem once under one heading (never `error: path: error CODE`).
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { writeFiles, writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const repoFiles = {
  'tessera.yaml': 'name: inventory\n',
  'owners/ops.yaml': 'kind: owner\nname: ops\nmembers: [ops@example.org]\n',
  'schemas/ops.proto': `syntax = "proto3";
package ops;
import "tessera/options.proto";

message Item {
  string sku = 1 [(tessera.field) = { primary_key: true }];
  int64 count = 2;
}
`,
  'tables/items.yaml': 'kind: table\nname: ops.items\nowner: ops\nschema: schemas/ops.proto#ops.Item\n',
  'tasks/load_items.yaml': `kind: task
name: load_items
type: ingestion
target: ops.items
source: { type: csv, uri: incoming/items.csv }
`,
  'incoming/items.csv': 'sku,count\nA,1\nB,2\n',
};

const BROKEN = 'kind: table\nname: ops.extra\nowner: ops\nretention: { keep_versions: 3\n';
const FIRST_PROBLEM =
  'tables/extra.yaml:4:12: error yaml-parse: YAML does not parse: this `{` is never closed: end the map with `}` on this line, or indent its continuation lines; until it parses, references to `ops.extra` are not checked';

describe('a working tree with errors', () => {
  let repo: string;
  before(async () => {
    repo = await writeRepo(repoFiles);
    for (const args of [['apply'], ['run', 'load_items']]) {
      const result = await tesseraInProcess(args, { cwd: repo });
      assert.equal(result.code, 0, result.stdout + result.stderr);
    }
    await writeFiles(repo, { 'tables/extra.yaml': BROKEN });
  });
  after(() => rm(repo, { recursive: true, force: true }));

  test('query answers from the applied catalog, with one warning line naming the first problem', async () => {
    const result = await tesseraInProcess(
      ['query', 'select sum(count) as total from ops.items', '--format', 'csv'],
      {
        cwd: repo,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'total\n3\n');
    assert.equal(
      result.stderr,
      `warning: the catalog repo has errors, so this answers from the definitions as last applied; the first: ${FIRST_PROBLEM} (\`tessera validate\` lists them all)\n`,
    );
  });

  test('tables, show and runs answer from the catalog, with the same warning line', async () => {
    const warning = `warning: the catalog repo has errors, so this answers from the definitions as last applied; the first: ${FIRST_PROBLEM} (\`tessera validate\` lists them all)\n`;
    const tables = await tesseraInProcess(['--json', 'tables'], { cwd: repo });
    assert.equal(tables.code, 0, tables.stderr);
    assert.deepEqual(
      (JSON.parse(tables.stdout) as { name: string }[]).map((table) => table.name),
      ['ops.items'],
    );
    assert.equal(tables.stderr, warning);
    for (const args of [['show', 'ops.items'], ['runs']]) {
      const result = await tesseraInProcess(args, { cwd: repo });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, warning);
    }
  });

  test('plan refuses, with the problems under one heading line', async () => {
    const result = await tesseraInProcess(['plan'], { cwd: repo });
    assert.equal(result.code, 2);
    assert.equal(
      result.stderr,
      `error[definitions]: the catalog repo has 1 error; fix it and run the command again:\n${FIRST_PROBLEM}\n`,
    );
  });

  test('a broken tessera.yaml still stops query: the catalog it names is unknown', async () => {
    await writeFiles(repo, { 'tessera.yaml': 'name: inventory\ncatalog: mysql://nowhere\n' });
    try {
      const result = await tesseraInProcess(['query', 'select 1'], { cwd: repo });
      assert.equal(result.code, 2);
      assert.equal(
        result.stderr,
        `error[definitions]: the catalog repo has 2 errors; fix them and run the command again:\n${FIRST_PROBLEM}\ntessera.yaml:2:10: error invalid-value: \`catalog\` must be \`sqlite:PATH\` or \`postgres://user@host:5432/db\`\n`,
      );
    } finally {
      await writeFiles(repo, { 'tessera.yaml': repoFiles['tessera.yaml'] });
    }
  });
});

test('query on a repo with errors that was never applied refuses with the errors', async () => {
  const repo = await writeRepo({ ...repoFiles, 'tables/extra.yaml': BROKEN });
  try {
    const result = await tesseraInProcess(['query', 'select 1'], { cwd: repo });
    assert.equal(result.code, 2, result.stdout);
    assert.equal(
      result.stderr,
      `error[definitions]: the catalog repo has 1 error; fix it and run the command again:\n${FIRST_PROBLEM}\n`,
    );
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
});
