// A failed validation says which values failed: up to 20 per check, in the run's error and log, in
// the catalog with the run (no version is published), in `tessera show`, `logs` and `--json`, with
// sensitive values masked by the field's mask for every reader.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { after, describe, test } from 'node:test';
import type { Run } from '../../src/model/index.ts';
import { notificationCause } from '../../src/notify/run-events.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const KEY = 'failed-check-samples-key';
const hmac = (value: string) => createHmac('sha256', KEY).update(value).digest('hex');

/** 25 people: p01…p03 in CA, the 22 others in states outside the set; p02's SSN lacks dashes. */
const people = Array.from({ length: 25 }, (_, index) => {
  const id = `p${String(index + 1).padStart(2, '0')}`;
  const ssn = index === 1 ? '222222222' : `${100 + index}-11-1111`;
  const state = index < 3 ? 'CA' : `S${index}`;
  return `${id},${ssn},Name ${id},1980-05-17,${state}`;
});

const repoFiles: Record<string, string> = {
  'tessera.yaml': `name: samples\ngovernance:\n  hash_key: ${KEY}\n`,
  'owners/team.yaml': TEAM_OWNER,
  'schemas/people.proto': personSchema(),
  'tables/people.yaml': `kind: table
name: people.persons
owner: team
schema: schemas/people.proto#people.Person
validations:
  - expect_column_values_to_match_regex: { column: ssn, regex: "^[0-9]{3}-[0-9]{2}-[0-9]{4}$" }
  - expect_column_values_to_be_in_set: { column: state, value_set: [CA] }
  - expect_column_values_to_not_be_null: { column: name }
`,
  'tasks/people.yaml': `kind: task
name: ingest_persons
type: ingestion
target: people.persons
source: { type: csv, uri: data/people.csv }
`,
  'data/people.csv': `person_id,ssn,name,birth_date,state\n${people.join('\n')}\n`,
};

const STATES = Array.from({ length: 20 }, (_, index) => `"S${index + 3}"`).join(', ');
const SUMMARY =
  'validation failed for people.persons: ' +
  'expect_column_values_to_match_regex on ssn: 1 unexpected (4.00%); ' +
  'expect_column_values_to_be_in_set on state: 22 unexpected (88.00%)';
const ERROR =
  `${SUMMARY}\n` +
  `  expect_column_values_to_match_regex on ssn: "${hmac('222222222')}"\n` +
  `  expect_column_values_to_be_in_set on state, the first 20: ${STATES}`;

describe('a run failing its validations', async () => {
  const repo = await writeRepo(repoFiles);
  after(() => rm(repo, { recursive: true, force: true }));
  const cli = (...args: string[]) => tesseraInProcess(['--repo', repo, ...args]);
  assert.equal((await cli('apply')).code, 0);
  const ran = await cli('run', 'ingest_persons', '--json');
  const [run] = JSON.parse(ran.stdout) as Run[];

  test('fails with the unexpected values in its error, sensitive ones masked', () => {
    assert.equal(ran.code, 1);
    assert.equal(run!.status, 'failed');
    assert.equal(run!.error, ERROR);
    // Notifications leave the governed space: they quote the first line, which holds no value.
    assert.equal(notificationCause(run!.error!), SUMMARY);
    assert.ok(!ran.stdout.includes('222222222'), 'the raw SSN is nowhere in the output');
  });

  test('records every check with its sample on the run, as `runs --json` shows', async () => {
    const [listed] = JSON.parse((await cli('runs', '--json')).stdout) as Run[];
    assert.deepEqual(
      listed!.checks!.map((check) => [check.expectation, check.success, check.unexpectedCount, check.sample]),
      [
        ['bad_rows', true, 0, undefined],
        ['expect_column_values_to_match_regex', false, 1, [hmac('222222222')]],
        [
          'expect_column_values_to_be_in_set',
          false,
          22,
          Array.from({ length: 20 }, (_, index) => `S${index + 3}`),
        ],
        ['expect_column_values_to_not_be_null', true, 0, []],
      ],
    );
  });

  test('`tessera logs` shows the values of each failed check', async () => {
    const logs = await cli('logs', run!.id);
    assert.equal(logs.code, 0);
    const failed = logs.stdout.split('\n').filter((line) => line.includes('check failed'));
    assert.deepEqual(
      failed.map((line) => line.replace(/^\S+ /, '')),
      [
        `error check failed: expect_column_values_to_match_regex on ssn: 1 unexpected (4.00%): "${hmac('222222222')}"`,
        `error check failed: expect_column_values_to_be_in_set on state: 22 unexpected (88.00%); the first 20: ${STATES}`,
      ],
    );
  });

  test('`tessera show` lists the failed run’s checks and their values; --json carries them', async () => {
    const shown = await cli('show', 'people.persons');
    assert.equal(shown.code, 0);
    const section = shown.stdout.slice(shown.stdout.indexOf('checks of the latest run'));
    assert.match(section, new RegExp(`^checks of the latest run, ${run!.id} \\(failed \\S+\\):\n`));
    assert.deepEqual(section.split('\n').slice(1).filter(Boolean), [
      '  pass  bad_rows: 0 unexpected',
      '  FAIL  expect_column_values_to_match_regex(ssn): 1 unexpected',
      `        unexpected: "${hmac('222222222')}"`,
      '  FAIL  expect_column_values_to_be_in_set(state): 22 unexpected',
      `        first 20 unexpected: ${STATES}`,
      '  pass  expect_column_values_to_not_be_null(name): 0 unexpected',
    ]);
    const json = JSON.parse((await cli('show', 'people.persons', '--json')).stdout) as { failedRun: Run };
    assert.equal(json.failedRun.id, run!.id);
    assert.equal(json.failedRun.checks![1]!.sample![0], hmac('222222222'));
  });

  test('`tessera run` prints the values under the failed run', async () => {
    const again = await cli('run', 'ingest_persons');
    assert.equal(again.code, 1);
    assert.ok(again.stdout.endsWith(`\n\ningest_persons (failed): ${ERROR}\n`), again.stdout);
  });

  test('a later good run publishes and `show` drops the failed run’s section', async () => {
    const fixed = people.map((line) => line.replace(/,S\d+$/, ',CA').replace(',222222222,', ',222-22-2222,'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${repo}/data/people.csv`, `person_id,ssn,name,birth_date,state\n${fixed.join('\n')}\n`);
    const rerun = await cli('run', 'ingest_persons');
    assert.equal(rerun.code, 0, rerun.stderr);
    const shown = await cli('show', 'people.persons');
    assert.ok(!shown.stdout.includes('checks of the latest run'), shown.stdout);
    assert.match(shown.stdout, /checks on the current version:\n {2}pass {2}bad_rows: 0 unexpected\n/);
  });
});
