// A new user's own catalog repo (not the example): validate → apply → run → query, and what
// happens when the source data goes bad.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFiles, writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const repoFiles = {
  'tessera.yaml': 'name: lab-results\n',
  'owners/lab.yaml': 'kind: owner\nname: lab\nmembers: [lab@example.org]\n',
  'schemas/lab.proto': `syntax = "proto3";
package lab;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";

// One measurement from the lab.
message Result {
  string sample_id = 1 [(tessera.field) = { primary_key: true }];
  google.protobuf.Timestamp taken_at = 2;
  double value = 3;
  bool flagged = 4;
}
`,
  'tables/results.yaml': `kind: table
name: lab.results
owner: lab
schema: schemas/lab.proto#lab.Result
validations:
  - expect_column_values_to_be_unique: { column: sample_id }
---
kind: table
name: lab.daily
owner: lab
`,
  'tasks/tasks.yaml': `kind: task
name: load_results
type: ingestion
target: lab.results
source:
  type: csv
  uri: incoming/results.csv
  options: { timestamp_formats: ["%d.%m.%Y %H:%M"] }
---
kind: task
name: build_daily
type: projection
target: lab.daily
sql: |
  select cast(taken_at as date) as day, count(*) as samples, round(avg(value), 2) as mean_value
  from lab.results group by 1 order by 1
`,
  'incoming/results.csv':
    'sample_id,taken_at,value,flagged\nS1,01.03.2026 08:30,4.5,no\nS2,01.03.2026 17:10,5.5,yes\nS3,02.03.2026 09:00,7,0\n',
};

test('validate, apply, run and query a repo of ones own', async () => {
  const repo = await writeRepo(repoFiles);
  const validate = await tesseraInProcess(['validate'], { cwd: repo });
  assert.equal(validate.code, 0, validate.stdout + validate.stderr);

  const apply = await tesseraInProcess(['apply'], { cwd: repo });
  assert.equal(apply.code, 0, apply.stderr);
  assert.match(apply.stdout, /lab\.results/);
  const again = await tesseraInProcess(['apply'], { cwd: repo });
  assert.match(again.stdout, /nothing to apply/);

  const run = await tesseraInProcess(['run', 'load_results'], { cwd: repo });
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /build_daily/, 'the projection downstream runs too');

  const daily = await tesseraInProcess(['query', 'select * from lab.daily', '--format', 'json'], {
    cwd: repo,
  });
  assert.equal(daily.code, 0, daily.stderr);
  assert.deepEqual(JSON.parse(daily.stdout), [
    { day: '2026-03-01', samples: 2, mean_value: 5 },
    { day: '2026-03-02', samples: 1, mean_value: 7 },
  ]);
  const results = await tesseraInProcess(
    ['query', 'select sample_id, taken_at, flagged from lab.results order by 1', '--format', 'csv'],
    {
      cwd: repo,
    },
  );
  assert.equal(
    results.stdout.trim(),
    'sample_id,taken_at,flagged\nS1,2026-03-01T08:30:00Z,false\nS2,2026-03-01T17:10:00Z,true\nS3,2026-03-02T09:00:00Z,false',
  );
});

test('a bad source fails the run with file, line, column and value, and the previous version stays current', async () => {
  const repo = await writeRepo(repoFiles);
  assert.equal((await tesseraInProcess(['apply'], { cwd: repo })).code, 0);
  assert.equal((await tesseraInProcess(['run', '--all'], { cwd: repo })).code, 0);

  await writeFiles(repo, {
    'incoming/results.csv': 'sample_id,taken_at,value,flagged\nS4,03.03.2026 10:00,1,no\nS5,yesterday,2,no\n',
  });
  const badValue = await tesseraInProcess(['run', 'load_results'], { cwd: repo });
  assert.equal(badValue.code, 1);
  const output = badValue.stdout + badValue.stderr;
  assert.match(output, /incoming\/results\.csv/);
  assert.match(output, /:3\b|line 3/, 'names the line of the bad value');
  assert.match(output, /taken_at/);
  assert.match(output, /yesterday/);
  assert.match(
    output,
    /build_daily.*skipped/s,
    'the downstream projection is skipped, not run on stale data',
  );

  await writeFiles(repo, { 'incoming/results.csv': 'sample_id,value,flagged\nS6,1,no\n' });
  const missing = await tesseraInProcess(['run', 'load_results'], { cwd: repo });
  assert.equal(missing.code, 1);
  assert.match(
    missing.stdout + missing.stderr,
    /incoming\/results\.csv.*taken_at|taken_at.*incoming\/results\.csv/s,
  );

  const current = await tesseraInProcess(
    ['query', 'select sample_id from lab.results order by 1', '--format', 'csv'],
    { cwd: repo },
  );
  assert.equal(
    current.stdout.trim(),
    'sample_id\nS1\nS2\nS3',
    'the last good version is still what query returns',
  );
  const versions = await tesseraInProcess(['--json', 'versions', 'lab.results'], { cwd: repo });
  assert.equal(JSON.parse(versions.stdout).length, 1);
  const runs = await tesseraInProcess(['--json', 'runs', '--task', 'load_results'], { cwd: repo });
  assert.deepEqual(
    JSON.parse(runs.stdout).map((run: { status: string }) => run.status),
    ['failed', 'failed', 'succeeded'],
  );
});

test('time travel reads an older version by number and by timestamp', async () => {
  const repo = await writeRepo(repoFiles);
  await tesseraInProcess(['apply'], { cwd: repo });
  await tesseraInProcess(['run', 'load_results', '--no-downstream'], { cwd: repo });
  await writeFiles(repo, {
    'incoming/results.csv': 'sample_id,taken_at,value,flagged\nS9,05.03.2026 10:00,1,no\n',
  });
  await tesseraInProcess(['run', 'load_results', '--no-downstream'], { cwd: repo });

  const now = await tesseraInProcess(['query', 'select sample_id from lab.results', '--format', 'csv'], {
    cwd: repo,
  });
  assert.equal(now.stdout.trim(), 'sample_id\nS9');
  const first = await tesseraInProcess(
    ['query', 'select count(*) as n from lab.results at (version => 1)', '--format', 'csv'],
    { cwd: repo },
  );
  assert.equal(first.stdout.trim(), 'n\n3');
  const versions = JSON.parse(
    (await tesseraInProcess(['--json', 'versions', 'lab.results'], { cwd: repo })).stdout,
  ) as { version: number; publishedAt: string }[];
  const firstPublished = versions.find((version) => version.version === 1)!.publishedAt;
  const byTime = await tesseraInProcess(
    [
      'query',
      `select count(*) as n from lab.results at (timestamp => timestamptz '${firstPublished}')`,
      '--format',
      'csv',
    ],
    { cwd: repo },
  );
  assert.equal(byTime.stdout.trim(), 'n\n3', byTime.stderr);
});
