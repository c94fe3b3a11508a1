// A new user's UTF-16 export: `validate` refuses an encoding it does not know at its YAML line, a
// run without `encoding` fails saying which option to set, and with it the names arrive intact.
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Run } from '../../src/model/index.ts';
import { TEAM_OWNER, personSchema } from '../support/person-schema.ts';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const task = (options: string) => `kind: task
name: ingest_clinics
type: ingestion
target: care.clinics
source:
  type: csv
  uri: data/clinics.csv
  options: ${options}
`;

describe('a source file in UTF-16', async () => {
  const repo = await writeRepo({
    'tessera.yaml': 'name: encodings\n',
    'owners/team.yaml': TEAM_OWNER,
    'schemas/care.proto': `syntax = "proto3";
package care;
import "tessera/options.proto";

// A clinic.
message Clinic {
  int32 id = 1 [(tessera.field) = { primary_key: true }];
  string name = 2;
}
`,
    'tables/clinics.yaml':
      'kind: table\nname: care.clinics\nowner: team\nschema: schemas/care.proto#care.Clinic\n',
    'tasks/clinics.yaml': task('{ encoding: utf16 }'),
  });
  await mkdir(join(repo, 'data'));
  await writeFile(
    join(repo, 'data/clinics.csv'),
    Buffer.from('\ufeffid,name\n1,Clínica São José\n', 'utf16le'),
  );
  after(() => rm(repo, { recursive: true, force: true }));
  const cli = (...args: string[]) => tesseraInProcess(['--repo', repo, ...args]);

  test('an unknown encoding is a validate-time error at its YAML line, listing the accepted ones', async () => {
    const validated = await cli('validate');
    assert.equal(validated.code, 2, validated.stdout + validated.stderr);
    assert.equal(
      validated.stdout.trim(),
      'tasks/clinics.yaml:8:24: error invalid-value: task ingest_clinics: `source.options.encoding` must be one of ' +
        '`utf-8`, `utf-16`, `utf-16le`, `utf-16be`, `latin-1`, `windows-1252`',
    );
  });

  test('read as UTF-8 by default, the run fails naming the file and the option to set', async () => {
    await writeFile(join(repo, 'tasks/clinics.yaml'), task('{ delimiter: "," }'));
    const applied = await cli('apply');
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    const ran = await cli('run', 'ingest_clinics', '--json');
    assert.equal(ran.code, 1);
    const [run] = JSON.parse(ran.stdout) as Run[];
    assert.equal(
      run!.error,
      'task ingest_clinics: data/clinics.csv is UTF-16 text (it starts with a UTF-16 byte-order mark), ' +
        "but the source is read as UTF-8; set `options: { encoding: utf-16 }` on the task's source",
    );
  });

  test('with `encoding: utf-16` the names arrive intact', async () => {
    await writeFile(join(repo, 'tasks/clinics.yaml'), task('{ encoding: utf-16 }'));
    assert.equal((await cli('apply')).code, 0);
    const ran = await cli('run', 'ingest_clinics');
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    const queried = await cli('query', 'select id, name from care.clinics', '--format', 'csv');
    assert.equal(queried.stdout.trim(), 'id,name\n1,Clínica São José');
  });
});

test('a table stored de-identified refuses a source that would need a raw UTF-8 copy', async () => {
  const repo = await writeRepo({
    'tessera.yaml': 'name: encodings\ngovernance:\n  hash_key: encodings-test-key\n',
    'owners/team.yaml': TEAM_OWNER,
    'schemas/people.proto': personSchema(),
    'tables/people.yaml':
      'kind: table\nname: people.persons\nowner: team\nschema: schemas/people.proto#people.Person\nstore: deidentified\n',
    'tasks/people.yaml': `kind: task
name: ingest_persons
type: ingestion
target: people.persons
source: { type: csv, uri: data/people.csv, options: { encoding: latin-1 } }
`,
  });
  after(() => rm(repo, { recursive: true, force: true }));
  await mkdir(join(repo, 'data'));
  await writeFile(
    join(repo, 'data/people.csv'),
    Buffer.from('person_id,ssn,name,birth_date,state\np1,111-11-1111,Zoë,1980-05-17,CA\n', 'latin1'),
  );
  const cli = (...args: string[]) => tesseraInProcess(['--repo', repo, ...args]);
  assert.equal((await cli('apply')).code, 0);
  const ran = await cli('run', 'ingest_persons', '--json');
  const [run] = JSON.parse(ran.stdout) as Run[];
  assert.equal(
    run!.error,
    'task ingest_persons: data/people.csv is latin-1 text, read through a UTF-8 copy on disk, but people.persons ' +
      'is stored de-identified and its raw values are never written to disk; convert the source to UTF-8 first ' +
      "(e.g. `iconv -f iso-8859-1 -t utf-8`) and drop `encoding` from the task's source options",
  );
});
