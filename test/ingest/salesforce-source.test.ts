// `source: { type: salesforce }` against a Salesforce org on loopback that speaks the documented
// wire formats: a first run through the conform pipeline (types, dates, a bad row quarantined),
// then only the records changed past SystemModstamp, nothing new skipped, the Bulk API 2.0 above
// the threshold, `--full-refresh`, and the failures in words (login, object, field, Bulk job,
// network) with the secrets taken out.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sourceTaskRepo } from '../support/source-task-repo.ts';
import {
  startSalesforceApiServer,
  type SalesforceApiServer,
  type SalesforceRecord,
} from '../support/salesforce-api-server.ts';

const PASSWORD = 'S3cret-pw+Tok3nXYZ';
const CLIENT_SECRET = 'c0nsumer-s3cret-42';
const ENV = {
  ...process.env,
  SF_USER: 'reader@example.org',
  SF_PASSWORD: PASSWORD,
  SF_CLIENT_ID: '3MVG9-consumer-key',
  SF_CLIENT_SECRET: CLIENT_SECRET,
};

function patient(id: number, modstamp: string, overrides: Partial<SalesforceRecord> = {}): SalesforceRecord {
  return {
    Id: `a01xx00000${String(id).padStart(5, '0')}AAA`,
    Name: `Patient ${id}`,
    BirthDate__c: `19${String(50 + (id % 40))}-0${1 + (id % 9)}-1${id % 10}`,
    Score__c: String(id * 10),
    Active__c: id % 2 === 0,
    Home__c: null,
    SystemModstamp: modstamp,
    ...overrides,
  };
}

function repoFiles(server: SalesforceApiServer, extra = '', mode = 'merge'): Record<string, string> {
  return {
    'tessera.yaml': 'name: sf-source\n',
    'owners/o.yaml': 'kind: owner\nname: care\n',
    'schemas/patient.proto': `syntax = "proto3";
package care;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";
import "google/type/date.proto";
message Patient {
  string id = 1 [(tessera.field) = { primary_key: true }];
  string name = 2;
  google.type.Date birth_date = 3;
  int64 score = 4;
  bool active = 5;
  google.protobuf.Timestamp modified_at = 6;
}
`,
    'tables/patients.yaml':
      'kind: table\nname: care.patients\nowner: care\nschema: schemas/patient.proto#care.Patient\n',
    'tasks/patients.yaml': `kind: task
name: load_patients
type: ingestion
target: care.patients
mode: ${mode}
bad_rows: { action: quarantine }
source:
  type: salesforce
  object: Patient__c
  fields: [Id, Name, BirthDate__c, Score__c, Active__c, SystemModstamp]
  login_url: ${server.url}
  username: \${SF_USER}
  password: \${SF_PASSWORD}
  client_id: \${SF_CLIENT_ID}
  client_secret: \${SF_CLIENT_SECRET}
  columns: { BirthDate__c: birth_date, Score__c: score, Active__c: active, SystemModstamp: modified_at }
${extra}`,
  };
}

const { appliedRepo, runOnce, query, storedCursor } = sourceTaskRepo('load_patients', ENV);

const FIELDS = [
  { name: 'Id', type: 'id' },
  { name: 'Name', type: 'string' },
  { name: 'BirthDate__c', type: 'date' },
  { name: 'Score__c', type: 'string' },
  { name: 'Active__c', type: 'boolean' },
  { name: 'Home__c', type: 'location' },
  { name: 'SystemModstamp', type: 'datetime' },
];

describe('salesforce source', () => {
  let server: SalesforceApiServer;
  before(async () => {
    server = await startSalesforceApiServer({
      username: ENV.SF_USER,
      password: PASSWORD,
      clientId: ENV.SF_CLIENT_ID,
      clientSecret: CLIENT_SECRET,
    });
  });
  after(() => server.close());

  function seed(count: number): SalesforceRecord[] {
    // Three records share each second of SystemModstamp, so the mark has ties.
    const records = Array.from({ length: count }, (_, index) =>
      patient(index + 1, `2026-01-01T00:00:${String(Math.floor(index / 3)).padStart(2, '0')}.000+0000`),
    );
    server.objects.set('Patient__c', { fields: FIELDS, records });
    return records;
  }

  test('REST reads every record, then exactly the changed ones past SystemModstamp; nothing new is skipped; --full-refresh reads all again', async () => {
    const records = seed(12);
    records[4]!.Score__c = 'n/a';
    server.pageSize = 5;
    const repo = await appliedRepo(repoFiles(server, '  bulk: never\n'));

    const first = await runOnce(repo);
    assert.equal(first.run.status, 'succeeded', first.run.error);
    assert.equal(first.run.rowsWritten, 11);
    assert.equal(first.run.badRows, 1);
    assert.ok(
      first.log.includes(
        'read 12 rows of the salesforce object Patient__c with the REST query API up to 2026-01-01T00:00:03Z',
      ),
      first.log.join('\n'),
    );
    // queryMore followed nextRecordsUrl (12 records, 5 a page).
    assert.equal(server.requests.filter((line) => /\/query\/01g/.test(line)).length, 2);
    assert.deepEqual(
      await query(
        repo,
        "select id, name, cast(birth_date as varchar) as birth_date, score, active, strftime(modified_at, '%Y-%m-%d %H:%M:%S') as modified_at " +
          "from care.patients where id in ('a01xx0000000001AAA', 'a01xx0000000012AAA') order by id",
      ),
      [
        {
          id: 'a01xx0000000001AAA',
          name: 'Patient 1',
          birth_date: '1951-02-11',
          score: 10,
          active: false,
          modified_at: '2026-01-01 00:00:00',
        },
        {
          id: 'a01xx0000000012AAA',
          name: 'Patient 12',
          birth_date: '1962-04-12',
          score: 120,
          active: true,
          modified_at: '2026-01-01 00:00:03',
        },
      ],
    );
    assert.deepEqual(await storedCursor(repo), {
      field: 'SystemModstamp',
      mark: '2026-01-01T00:00:03Z',
      idsAtMark: ['a01xx0000000010AAA', 'a01xx0000000011AAA', 'a01xx0000000012AAA'],
    });

    // Three records change (SystemModstamp advanced), one is added.
    for (const index of [1, 5, 8]) {
      records[index]!.Name = 'changed';
      records[index]!.SystemModstamp = '2026-02-01T09:30:00.000+0000';
    }
    records.push(patient(13, '2026-02-01T09:30:00.000+0000', { Name: 'new' }));
    const second = await runOnce(repo);
    assert.equal(second.run.status, 'succeeded', second.run.error);
    assert.ok(
      second.log.includes(
        'read 4 rows of the salesforce object Patient__c with the REST query API past SystemModstamp 2026-01-01T00:00:03Z up to 2026-02-01T09:30:00Z',
      ),
      second.log.join('\n'),
    );
    assert.deepEqual(
      await query(repo, "select id from care.patients where name in ('changed', 'new') order by id"),
      [
        { id: 'a01xx0000000002AAA' },
        { id: 'a01xx0000000006AAA' },
        { id: 'a01xx0000000009AAA' },
        { id: 'a01xx0000000013AAA' },
      ],
    );
    assert.deepEqual(await query(repo, 'select count(*) as n from care.patients'), [{ n: 12 }]);

    // A record written later at the mark itself is still read; the four already read are not.
    records.push(patient(14, '2026-02-01T09:30:00.000+0000', { Name: 'tie' }));
    const third = await runOnce(repo);
    assert.equal(third.run.status, 'succeeded', third.run.error);
    assert.ok(
      third.log.some((line) => line.startsWith('read 1 row of the salesforce object Patient__c')),
      third.log.join('\n'),
    );

    const fourth = await runOnce(repo);
    assert.equal(fourth.run.status, 'skipped');
    assert.equal(
      fourth.run.error,
      'nothing new in the salesforce object Patient__c: no record has SystemModstamp past 2026-02-01T09:30:00Z (the mark of the last published run)',
    );

    const refreshed = await runOnce(repo, true);
    assert.equal(refreshed.run.status, 'succeeded', refreshed.run.error);
    assert.ok(
      refreshed.log.some((line) => line.startsWith('read 14 rows of the salesforce object Patient__c')),
      refreshed.log.join('\n'),
    );
    assert.equal(server.bulkJobs.length, 0);
  });

  test('above bulk_threshold the records are read with a Bulk API 2.0 query job, its CSV pages followed by Sforce-Locator', async () => {
    seed(9);
    server.pageSize = 4;
    server.bulkJobs.length = 0;
    const repo = await appliedRepo(repoFiles(server, '  bulk_threshold: 5\n', 'replace'));
    const { run, log } = await runOnce(repo);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.rowsWritten, 9);
    assert.equal(server.bulkJobs.length, 1);
    assert.match(
      server.bulkJobs[0]!,
      /^SELECT Id, Name, BirthDate__c, Score__c, Active__c, SystemModstamp FROM Patient__c$/,
    );
    assert.ok(
      log.includes('read 9 rows of the salesforce object Patient__c with a Bulk API 2.0 query job'),
      log.join('\n'),
    );
    assert.deepEqual(
      await query(
        repo,
        "select name, cast(birth_date as varchar) as birth_date, score, strftime(modified_at, '%Y-%m-%d %H:%M:%S') as modified_at from care.patients where id = 'a01xx0000000009AAA'",
      ),
      [{ name: 'Patient 9', birth_date: '1959-01-19', score: 90, modified_at: '2026-01-01 00:00:02' }],
    );
    // `mode: replace` keeps no cursor: every run reads the whole object again.
    assert.equal(await storedCursor(repo), undefined);
    const again = await runOnce(repo);
    assert.equal(again.run.status, 'succeeded', again.run.error);
    assert.equal(again.run.rowsWritten, 9);
    assert.equal(server.bulkJobs.length, 2);
  });

  test('a Bulk API 2.0 job of a merge reads only past the mark, ties at the mark included', async () => {
    const records = seed(6);
    server.bulkJobs.length = 0;
    const repo = await appliedRepo(repoFiles(server, '  bulk: always\n'));
    assert.equal((await runOnce(repo)).run.status, 'succeeded');
    records[0]!.Name = 'changed';
    records[0]!.SystemModstamp = '2026-01-01T00:00:01.000+0000';
    const { run, log } = await runOnce(repo);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(
      server.bulkJobs[1],
      "SELECT Id, Name, BirthDate__c, Score__c, Active__c, SystemModstamp FROM Patient__c WHERE (SystemModstamp > 2026-01-01T00:00:01Z OR (SystemModstamp = 2026-01-01T00:00:01Z AND Id NOT IN ('a01xx0000000004AAA', 'a01xx0000000005AAA', 'a01xx0000000006AAA'))) AND SystemModstamp <= 2026-01-01T00:00:01Z",
    );
    assert.ok(
      log.includes(
        'read 1 row of the salesforce object Patient__c with a Bulk API 2.0 query job past SystemModstamp 2026-01-01T00:00:01Z up to 2026-01-01T00:00:01Z',
      ),
      log.join('\n'),
    );
    assert.deepEqual(await query(repo, "select id from care.patients where name = 'changed'"), [
      { id: 'a01xx0000000001AAA' },
    ]);
  });

  test('without `fields` every field of the describe is read except compound ones', async () => {
    seed(3);
    server.pageSize = 2000;
    const files = repoFiles(server, '  bulk: never\n', 'replace');
    files['tasks/patients.yaml'] = files['tasks/patients.yaml']!.replace(/ {2}fields: .*\n/, '');
    const repo = await appliedRepo(files);
    const before = server.requests.length;
    const { run } = await runOnce(repo);
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.rowsWritten, 3);
    assert.ok(server.requests.slice(before).some((line) => line.endsWith('/sobjects/Patient__c/describe')));
  });

  test('an empty object is an empty source: mode replace fails, as for every source', async () => {
    seed(0);
    const repo = await appliedRepo(repoFiles(server, '  bulk: never\n', 'replace'));
    const { run } = await runOnce(repo);
    assert.equal(run.status, 'failed');
    assert.match(
      run.error!,
      /was empty \(no rows\), and mode replace would replace care\.patients with nothing/,
    );
  });

  describe('failures in words, secrets taken out', () => {
    async function failure(extra: string, mutate?: (files: Record<string, string>) => void): Promise<string> {
      seed(3);
      const files = repoFiles(server, extra, 'replace');
      mutate?.(files);
      const repo = await appliedRepo(files);
      const { run, log } = await runOnce(repo);
      assert.equal(run.status, 'failed');
      assert.equal(`${run.error}\n${log.join('\n')}`.includes(PASSWORD), false);
      assert.equal(`${run.error}\n${log.join('\n')}`.includes(CLIENT_SECRET), false);
      return run.error!;
    }

    test('a bad login (OAuth 2.0) names the user, the login URL and what to check', async () => {
      const error = await failure('', (files) => {
        files['tasks/patients.yaml'] = files['tasks/patients.yaml']!.replace(
          '${SF_USER}',
          'someone@example.org',
        );
      });
      assert.equal(
        error,
        `task load_patients: Salesforce refused the login of someone@example.org at ${server.url} (INVALID_LOGIN: authentication failure); ` +
          "check source.username and source.password in tasks/patients.yaml: the password is followed by the user's security token, and the connected app allows the username-password flow",
      );
    });

    test('a bad login through the SOAP API (no client_id) says INVALID_LOGIN', async () => {
      const error = await failure('', (files) => {
        files['tasks/patients.yaml'] = files['tasks/patients.yaml']!.replace(
          / {2}client_id: .*\n {2}client_secret: .*\n/,
          '',
        ).replace('${SF_USER}', 'someone@example.org');
      });
      assert.match(
        error,
        /Salesforce refused the login of someone@example\.org .*INVALID_LOGIN: Invalid username, password, security token/,
      );
    });

    test('an unknown object is named with close names', async () => {
      server.objects.set('Patients__c', { fields: FIELDS, records: [] });
      try {
        const error = await failure('', (files) => {
          files['tasks/patients.yaml'] = files['tasks/patients.yaml']!.replace(
            'object: Patient__c',
            'object: Patient_c',
          );
        });
        assert.equal(
          error,
          'task load_patients: the salesforce org has no object Patient_c (close names: Patient__c, Patients__c); check source.object in tasks/patients.yaml (API names of custom objects end in __c)',
        );
      } finally {
        server.objects.delete('Patients__c');
      }
    });

    test('an unknown field is named with close names', async () => {
      const error = await failure('', (files) => {
        files['tasks/patients.yaml'] = files['tasks/patients.yaml']!.replace('BirthDate__c,', 'Birthdate,');
      });
      assert.equal(
        error,
        'task load_patients: the salesforce object Patient__c has no field Birthdate (close names: BirthDate__c); check source.fields in tasks/patients.yaml',
      );
    });

    test('a failed Bulk job says its errorMessage', async () => {
      server.failNextBulkJob = 'Query timed out: too many records';
      const error = await failure('  bulk: always\n');
      assert.match(
        error,
        /^task load_patients: the Bulk API 2\.0 query job 750\w+ on Patient__c ended Failed: Query timed out: too many records; check source\.fields in tasks\/patients\.yaml, or set `bulk: never`$/,
      );
    });

    test('an unreachable login URL is named', async () => {
      const error = await failure('', (files) => {
        files['tasks/patients.yaml'] = files['tasks/patients.yaml']!.replace(
          server.url,
          'http://127.0.0.1:1',
        );
      });
      assert.match(
        error,
        /^task load_patients: cannot log in to Salesforce at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*; check source\.login_url in tasks\/patients\.yaml/,
      );
    });
  });
});
