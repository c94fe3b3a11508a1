// Validation results are catalog metadata anyone with the CLI reads: the values they carry from a
// sensitive column are recorded masked, through a real run and through `tessera check`.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import type { CheckResult } from '../../src/model/index.ts';
import { Platform } from '../../src/platform.ts';
import { internalsOf } from '../../src/platform/internals.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';
import { writeRepo } from '../support/cli.ts';

const KEY = 'check-masking-test-key';
const hmac = (value: string) => createHmac('sha256', KEY).update(value).digest('hex');

const warn = (expectation: string) => `  - ${expectation}\n    severity: warn\n`;

const repoFiles = (store: 'raw' | 'deidentified'): Record<string, string> => ({
  'tessera.yaml': `name: check-masking\ngovernance:\n  hash_key: ${KEY}\n`,
  'owners/team.yaml': TEAM_OWNER,
  'schemas/people.proto': personSchema({ zip: true }),
  'tables/people.yaml': `kind: table
name: people.persons
owner: team
schema: schemas/people.proto#people.Person
${store === 'deidentified' ? 'store: deidentified\n' : ''}validations:
${[
  warn('expect_column_values_to_match_regex: { column: ssn, regex: "^[0-9]{3}-[0-9]{2}-[0-9]{4}$" }'),
  warn("expect_column_min_to_be_between: { column: birth_date, min_value: '1950-01-01' }"),
  warn("expect_column_distinct_values_to_be_in_set: { column: zip, value_set: ['94110'] }"),
  warn('expect_column_unique_value_count_to_be_between: { column: ssn, max_value: 1 }'),
  warn("expect_column_values_to_be_in_set: { column: state, value_set: ['CA'] }"),
  warn(
    `sql: "select person_id, ssn, name, lower(name) as lowered, state from {{ this }} where state = 'NY'"`,
  ),
  warn('sql: "select * from {{ this }} where cast(ssn as integer) > 0"'),
].join('')}`,
  'tasks/people.yaml': `kind: task
name: ingest_persons
type: ingestion
target: people.persons
source: { type: csv, uri: data/people.csv }
---
kind: task
name: build_ssn_numbers
type: projection
target: people.ssn_numbers
sql: select cast(ssn as integer) as n from people.persons
`,
  'tables/ssn_numbers.yaml': 'kind: table\nname: people.ssn_numbers\nowner: team\n',
  'data/people.csv': `person_id,ssn,name,birth_date,zip,state
p1,111-11-1111,Alicia,1980-05-17,94110,CA
p2,222222222,Bertrand,1930-02-02,10001,NY
`,
});

describe('validation results of a table with sensitive fields', async () => {
  const repo = await writeRepo(repoFiles('raw'));
  after(() => rm(repo, { recursive: true, force: true }));
  const platform = await Platform.open({ repo });
  await platform.apply();
  const [run, projection] = await platform.run({ tasks: [], all: true });
  after(() => platform.close());

  /** The first result of each expectation. */
  const byExpectation = (checks: CheckResult[]): Record<string, CheckResult> =>
    Object.fromEntries([...checks].reverse().map((check) => [check.expectation, check]));

  test('are recorded with sensitive values masked, counts and clear columns as they are', async () => {
    assert.equal(run?.status, 'succeeded', run?.error);
    const version = (await internalsOf(platform).store.getCurrentVersion('people.persons'))!;
    const checks = byExpectation(version.checks);

    const regex = checks.expect_column_values_to_match_regex!;
    assert.equal(regex.unexpectedCount, 1);
    assert.deepEqual(regex.sample, [hmac('222222222')], 'the bad SSN, hashed');
    assert.deepEqual(checks.expect_column_min_to_be_between!.observedValue, '1936-01-01');
    assert.deepEqual(checks.expect_column_distinct_values_to_be_in_set!.observedValue, ['100', '941']);
    assert.equal(checks.expect_column_unique_value_count_to_be_between!.observedValue, 2, 'a count');
    assert.deepEqual(checks.expect_column_values_to_be_in_set!.sample, ['NY'], 'state is not sensitive');
    const failing = version.checks.filter((check) => check.expectation === 'sql')[1]!;
    assert.match(failing.error ?? '', /Conversion Error: .*'…'/, 'the check could not run, and says why');
    assert.deepEqual(checks.sql!.sample, [
      { person_id: 'p2', ssn: hmac('222222222'), name: '[REDACTED]', lowered: '[REDACTED]', state: 'NY' },
    ]);

    const text = JSON.stringify(version.checks);
    for (const raw of ['222222222', 'Bertrand', 'bertrand', '1930-02-02', '10001']) {
      assert.ok(!text.includes(raw), `${raw} is recorded in clear`);
    }
  });

  test('an engine error over sensitive data does not quote the value it failed on', async () => {
    assert.equal(projection?.task, 'build_ssn_numbers');
    assert.equal(projection?.status, 'failed');
    assert.match(projection?.error ?? '', /^task build_ssn_numbers: Conversion Error: .*'…'/);
    const log = (await internalsOf(platform).store.readRunLog(projection!.id))
      .map((line) => line.message)
      .join('\n');
    for (const text of [projection!.error!, log]) {
      assert.ok(!text.includes('111-11-1111') && !text.includes('222222222'), text);
    }
  });

  test('tessera check shows them masked too', async () => {
    const { checks } = await platform.check('people.persons');
    const text = JSON.stringify(checks);
    for (const raw of ['222222222', 'Bertrand', '1930-02-02', '10001']) {
      assert.ok(!text.includes(raw), `${raw} is shown in clear`);
    }
    assert.deepEqual(byExpectation(checks).expect_column_values_to_match_regex!.sample, [hmac('222222222')]);
  });
});

test('a table stored de-identified records the stored values, not masked twice', async () => {
  const repo = await writeRepo(repoFiles('deidentified'));
  const platform = await Platform.open({ repo });
  try {
    await platform.apply();
    const [run] = await platform.run({ tasks: [], all: true });
    assert.equal(run?.status, 'succeeded', run?.error);
    const version = (await internalsOf(platform).store.getCurrentVersion('people.persons'))!;
    const min = version.checks.find((check) => check.expectation === 'expect_column_min_to_be_between');
    assert.equal(min?.observedValue, '1936-01-01');
    const regex = version.checks.find((check) => check.expectation === 'expect_column_values_to_match_regex');
    assert.equal(regex?.unexpectedCount, 2, 'the stored values are hashes: none matches the SSN pattern');
    assert.deepEqual(new Set(regex?.sample), new Set([hmac('111-11-1111'), hmac('222222222')]));
  } finally {
    await platform.close();
    await rm(repo, { recursive: true, force: true });
  }
});

test('results that only redact are still masked: a column pair, custom SQL over derived columns', async () => {
  // Pair results list unexpected values as [a, b], and custom SQL may select only derived columns:
  // the only checks on the table, so no value is queued to be masked, only redacted.
  const files = repoFiles('raw');
  files['tables/people.yaml'] = files['tables/people.yaml']!.replace(
    /validations:\n[\s\S]*$/,
    `validations:
${warn('expect_column_pair_values_to_be_equal: { column_A: ssn, column_B: state }')}${warn('sql: "select lower(name) as lowered from {{ this }}"')}`,
  );
  const repo = await writeRepo(files);
  const platform = await Platform.open({ repo });
  try {
    await platform.apply();
    await platform.run({ tasks: ['ingest_persons'] });
    const version = (await internalsOf(platform).store.getCurrentVersion('people.persons'))!;
    const pair = version.checks.find(
      (check) => check.expectation === 'expect_column_pair_values_to_be_equal',
    );
    assert.deepEqual(pair?.sample, [
      [hmac('111-11-1111'), 'CA'],
      [hmac('222222222'), 'NY'],
    ]);
    const derived = version.checks.find((check) => check.expectation === 'sql');
    assert.deepEqual(
      derived?.sample,
      ['[REDACTED]', '[REDACTED]'].map((lowered) => ({ lowered })),
    );
    const text = JSON.stringify([version.checks, (await platform.check('people.persons')).checks]);
    for (const raw of ['111-11-1111', '222222222', 'alicia', 'bertrand'])
      assert.ok(!text.includes(raw), `${raw} is recorded in clear`);
  } finally {
    await platform.close();
    await rm(repo, { recursive: true, force: true });
  }
});
