// The example repo through the real CLI: init, validate, plan, apply, run, discovery commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFiles, writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

test('the healthcare example validates, applies, runs and answers queries', async () => {
  const repo = join(await mkdtemp(join(tmpdir(), 'tessera-example-')), 'clinical');
  const init = await tesseraInProcess(['init', repo, '--example', 'healthcare', '--rows', '600']);
  assert.equal(init.code, 0, init.stderr);
  // The YAML files' `$schema` lines find the schemas in the new repo.
  assert.match(init.stdout, /json-schemas\//);
  assert.ok(existsSync(join(repo, 'json-schemas', 'tessera-document.schema.json')));

  const validate = await tesseraInProcess(['validate'], { cwd: repo });
  assert.equal(validate.code, 0, validate.stdout);
  const plan = await tesseraInProcess(['plan'], { cwd: repo });
  assert.match(plan.stdout, /\+ clinical\.patients/);
  assert.equal((await tesseraInProcess(['apply'], { cwd: repo })).code, 0);

  const run = await tesseraInProcess(['--json', 'run', '--all'], { cwd: repo });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  const runs = JSON.parse(run.stdout) as { task: string; status: string }[];
  assert.deepEqual(
    runs.map((r) => r.status),
    Array(6).fill('succeeded'),
  );
  const order = runs.map((r) => r.task);
  assert.ok(order.indexOf('ingest_patients') < order.indexOf('build_patient_summary'));
  assert.ok(order.indexOf('build_patient_summary') < order.indexOf('build_state_summary'));

  const counts = await tesseraInProcess(
    [
      'query',
      'select (select count(*) from clinical.patients) as patients, (select sum(patients) from analytics.state_summary) as summarized',
      '--format',
      'json',
    ],
    { cwd: repo },
  );
  const [row] = JSON.parse(counts.stdout) as { patients: number; summarized: number }[];
  assert.equal(row!.patients, 600);
  assert.equal(row!.summarized, 600, 'every patient lands in the state summary');

  const show = await tesseraInProcess(['show', 'clinical.patients'], { cwd: repo });
  assert.match(show.stdout, /ssn\s+VARCHAR\s+no\s+PHI\s+HASH\s+Social Security number\./);
  const tables = await tesseraInProcess(['tables', '--search', 'summary'], { cwd: repo });
  assert.match(tables.stdout, /analytics\.patient_summary/);
  assert.doesNotMatch(tables.stdout, /clinical\.claims/);
  const lineage = await tesseraInProcess(
    ['--json', 'lineage', 'analytics.state_summary', '--upstream', '--columns'],
    {
      cwd: repo,
    },
  );
  const edges = JSON.parse(lineage.stdout).upstream as {
    fromTable: string;
    fromColumn: string;
    toColumn: string;
  }[];
  assert.ok(
    edges.some((e) => e.fromTable === 'clinical.claims' && e.fromColumn === 'amount'),
    'lineage reaches claims.amount transitively',
  );
  const versions = await tesseraInProcess(['--json', 'versions', 'analytics.patient_summary'], { cwd: repo });
  const [version] = JSON.parse(versions.stdout) as { upstream: { table: string; version: number }[] }[];
  assert.deepEqual(
    version!.upstream.map((ref) => ref.table),
    ['clinical.claims', 'clinical.encounters', 'clinical.patients'],
  );
});

test('validate reports every problem at once with path:line:col, and as JSON', async () => {
  const repo = await writeRepo({
    'tables/a.yaml':
      'kind: table\nname: sales.orders\nowner: nobody\nschema: schemas/missing.proto#x.Y\ncolour: red\n',
    'tasks/b.yaml':
      'kind: task\nname: build\ntype: projection\ntarget: sales.summary\nsql: select * from sales.nowhere\n',
    'tables/c.yaml':
      'kind: table\nname: sales.totals\nowner: nobody\nvalidations:\n' +
      '  - expect_column_values_to_be_uniq: { column: id }\n' +
      '  - expect_column_values_to_be_between: { column: id, mostly: 2 }\n',
  });
  const text = await tesseraInProcess(['validate'], { cwd: repo });
  assert.equal(text.code, 2);
  const lines = text.stdout.trim().split('\n');
  assert.ok(lines.length >= 4, text.stdout);
  for (const line of lines) assert.match(line, /^[\w/.-]+:\d+:\d+: (error|warning) [a-z-]+: /);
  assert.match(text.stdout, /tables\/a\.yaml:5:1: error unknown-key: .*colour/);
  assert.match(text.stdout, /missing-owner/);
  assert.match(text.stdout, /sales\.nowhere/);
  assert.match(
    text.stdout,
    /tables\/c\.yaml:5:5: error invalid-validation: .*expect_column_values_to_be_uniq/,
  );
  assert.match(text.stdout, /tables\/c\.yaml:6:5: error invalid-validation: .*mostly/);

  const json = await tesseraInProcess(['--json', 'validate'], { cwd: repo });
  assert.equal(json.code, 2);
  const diagnostics = JSON.parse(json.stdout) as { code: string; at: { file: string; line: number } }[];
  assert.ok(
    diagnostics.some((d) => d.code === 'unknown-key' && d.at.file === 'tables/a.yaml' && d.at.line === 5),
  );

  await writeFiles(repo, { 'tables/a.yaml': 'kind: table\nname: sales.orders\nowner: nobody\n' });
  const commands = await tesseraInProcess(['apply'], { cwd: repo });
  assert.equal(commands.code, 2, 'apply refuses a repo with errors');
});
