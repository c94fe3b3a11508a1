// Notifications leave the governed space (email, Slack, PagerDuty, webhooks): what they quote of a
// failing run must never carry a raw value of a sensitive field. Written as an attacker would try:
// bad values in PHI columns, failing checks over PHI columns, a custom SQL check selecting PHI.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { Platform } from '../../src/platform.ts';
import { writeRepo } from '../support/cli.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';

const SSN = '987-65-4321';
const BAD_DATE = '1980-13-45';
const NAME = 'Zebulon';

/** The console channel's output of one run of a repo whose only check or source is `variant`. */
async function notificationsOf(files: Record<string, string>): Promise<{ told: string; error: string }> {
  const repo = await writeRepo({
    'tessera.yaml': 'name: phi\ngovernance:\n  hash_key: phi-notification-key\n',
    'owners/team.yaml': `${TEAM_OWNER}channels:\n  - console: {}\n`,
    'schemas/people.proto': personSchema(),
    'tasks/people.yaml': `kind: task
name: ingest_persons
type: ingestion
target: people.persons
source: { type: csv, uri: data/people.csv }
bad_rows: { action: fail }
---
kind: task
name: build_ssn_numbers
type: projection
target: people.ssn_numbers
sql: select cast(ssn as integer) as n from people.persons
`,
    'tables/ssn_numbers.yaml': 'kind: table\nname: people.ssn_numbers\nowner: team\n',
    ...files,
  });
  try {
    const platform = await Platform.open({ repo });
    try {
      await platform.apply();
      const told: string[] = [];
      const [run] = await platform.run({ tasks: ['ingest_persons'] }, undefined, {
        writeConsole: (text) => void told.push(text),
        warn: (text) => void told.push(text),
      });
      return { told: told.join('\n'), error: run?.error ?? '' };
    } finally {
      await platform.close();
    }
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
}

const table = (validations = '') =>
  `kind: table\nname: people.persons\nowner: team\nschema: schemas/people.proto#people.Person\n${validations}`;
const csv = (rows: string) => `person_id,ssn,name,birth_date,state\n${rows}`;

describe('notifications never quote a raw sensitive value', () => {
  test('a bad value in a PHI column that fails the run', async () => {
    const { told, error } = await notificationsOf({
      'tables/people.yaml': table(),
      'data/people.csv': csv(`p1,${SSN},${NAME},${BAD_DATE},CA\n`),
    });
    assert.match(told, /task_failed/, 'the owner was told');
    assert.match(
      told,
      /1 bad row of 1, .*column birth_date: value \[not shown: PHI\] is not an ISO 8601 date/,
      told,
    );
    assert.ok(!told.includes(BAD_DATE), `the raw value leaked: ${told}`);
    assert.ok(error.length > 0);
  });

  test('error-level checks over PHI columns, and a custom SQL check that selects them', async () => {
    const { told } = await notificationsOf({
      'tables/people.yaml': table(`validations:
  - expect_column_values_to_match_regex: { column: ssn, regex: "^0" }
  - expect_column_values_to_be_in_set: { column: name, value_set: [Nobody] }
  - expect_column_max_to_be_between: { column: birth_date, max_value: '1900-01-01' }
  - sql: "select ssn, name from {{ this }} where ssn like '9%'"
`),
      'data/people.csv': csv(`p1,${SSN},${NAME},1980-01-02,CA\n`),
    });
    assert.match(told, /validation_failed/, 'the owner was told');
    for (const raw of [SSN, NAME, '1980-01-02', '987654321', '987']) {
      assert.ok(!told.includes(raw), `the raw value ${raw} leaked: ${told}`);
    }
  });

  test('an engine error in a projection that reads a PHI column', async () => {
    const { told } = await notificationsOf({
      'tables/people.yaml': table(),
      'data/people.csv': csv(`p1,${SSN},${NAME},1980-01-02,CA\n`),
    });
    assert.match(
      told,
      /task_failed: people\.ssn_numbers not published: .*Could not convert string \[value not shown\]/,
      told,
    );
    assert.ok(!told.includes(SSN) && !told.includes('987-65'), `the raw value leaked: ${told}`);
  });
});
