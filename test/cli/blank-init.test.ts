// `tessera init DIR` without --example: a small blank repo that validates, applies, runs and answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tesseraInProcess } from '../support/in-process-cli.ts';

test('init DIR writes a blank repo that validate, apply, run --all and query accept', async () => {
  const repo = join(await mkdtemp(join(tmpdir(), 'tessera-blank-')), 'my-shop');
  const init = await tesseraInProcess(['init', repo]);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /^wrote a blank catalog repo to .*my-shop: owners\/, schemas\/, tables\//);
  for (const file of [
    'tessera.yaml',
    'owners/data-team.yaml',
    'schemas/shop.proto',
    'tables/shop.yaml',
    'tasks/shop.yaml',
    'sql/daily_revenue.sql',
    'access/roles.yaml',
    'data/orders.csv',
    'json-schemas/tessera-document.schema.json',
  ]) {
    assert.ok(existsSync(join(repo, file)), file);
  }
  assert.match(await readFile(join(repo, 'tessera.yaml'), 'utf8'), /^name: my-shop$/m);

  const validate = await tesseraInProcess(['validate'], { cwd: repo });
  assert.equal(validate.code, 0, validate.stdout + validate.stderr);
  assert.equal(validate.stdout, 'ok: no problems found\n');
  const apply = await tesseraInProcess(['apply'], { cwd: repo });
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /Plan: 7 to add, 0 to change, 0 to remove\./);
  const run = await tesseraInProcess(['run', '--all', '--json'], { cwd: repo });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.deepEqual(
    (JSON.parse(run.stdout) as { task: string; status: string }[]).map(
      (entry) => `${entry.task}:${entry.status}`,
    ),
    ['ingest_orders:succeeded', 'build_daily_revenue:succeeded'],
  );
  const revenue = await tesseraInProcess(['query', 'select * from shop.daily_revenue', '--format', 'csv'], {
    cwd: repo,
  });
  assert.equal(revenue.code, 0, revenue.stderr);
  assert.equal(revenue.stdout, 'day,orders,revenue\n2026-03-01,2,60.5\n2026-03-02,2,123.3\n');
  const masked = await tesseraInProcess(
    [
      'query',
      'select customer_email from shop.orders order by order_id limit 2',
      '--as',
      'ana@example.org',
      '--format',
      'csv',
    ],
    { cwd: repo },
  );
  assert.equal(masked.code, 0, masked.stderr);
  assert.equal(masked.stdout, 'customer_email\n***@example.org\n***@mail.example\n');
});

test('init . fills a folder without catalog files, keeping its README; refuses one that has them', async () => {
  const folder = await mkdtemp(join(tmpdir(), 'tessera-blank-here-'));
  await writeFile(join(folder, 'package.json'), '{}\n');
  await writeFile(join(folder, 'README.md'), '# mine\n');
  const init = await tesseraInProcess(['init', '.'], { cwd: folder });
  assert.equal(init.code, 0, init.stderr);
  assert.equal(await readFile(join(folder, 'README.md'), 'utf8'), '# mine\n');
  assert.ok(existsSync(join(folder, 'tasks/shop.yaml')));
  assert.equal(existsSync(join(folder, '.git')), false, 'an existing folder is left to its own Git');

  const again = await tesseraInProcess(['init', folder]);
  assert.equal(again.code, 2);
  assert.match(
    again.stderr,
    /^error\[usage\]: .* already holds tessera\.yaml, owners\/data-team\.yaml, schemas\/shop\.proto, tables\/shop\.yaml, tasks\/shop\.yaml, sql\/daily_revenue\.sql, access\/roles\.yaml, data\/orders\.csv; choose a new folder \(tessera init writes a new catalog repo\)\n$/,
  );
});

test('init flags: --rows belongs to --example, and an unknown example names the choices', async () => {
  const parent = await mkdtemp(join(tmpdir(), 'tessera-blank-flags-'));
  const rows = await tesseraInProcess(['init', join(parent, 'a'), '--rows', '50']);
  assert.equal(rows.code, 2);
  assert.equal(
    rows.stderr,
    'error[usage]: --rows is for --example healthcare; a blank repo has its own sample CSV\n',
  );
  const unknown = await tesseraInProcess(['init', join(parent, 'b'), '--example', 'blank']);
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr,
    'error[usage]: unknown example blank; available: healthcare (or none: a blank repo)\n',
  );
  await mkdir(join(parent, 'c'));
  assert.equal((await tesseraInProcess(['init', join(parent, 'c')])).code, 0, 'an empty folder is fine');
});
