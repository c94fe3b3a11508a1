// `tessera schema infer SOURCE`: a CSV with PHI and non-ISO dates drafted into a fresh `tessera
// init` repo that validates, applies, runs and answers with the masks applied; and samples of a
// PostgreSQL table, an S3 object and a NATS stream (whose messages a later real run still reads).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { InferSchemaResult } from '../../src/platform/schema-inference.ts';
import { applied, natsAvailable, NATS_URL, query, runOnce, streamRepo } from '../ingest/nats-fixture.ts';
import { writeRepo } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { startS3Server } from '../support/s3-server.ts';
import { requireService } from '../support/services.ts';

const PATIENTS_CSV = `patient_id,SSN,First Name,last_name,birth_date,zip,contact,phone,zip_code_count,notes
p-1,123-45-6789,Ann,Lee,03/15/1950,02139,ann@example.org,(617) 555-0101,3,
p-2,987-65-4321,Bob,Ray,12/01/1961,90210,bob@mail.example,(310) 555-0199,5,follow up
p-3,555-12-3456,Cy,Fox,07/04/1975,10001,cy@example.net,(212) 555-0123,7,
`;

function parsed(stdout: string): InferSchemaResult {
  return JSON.parse(stdout) as InferSchemaResult;
}

function field(result: InferSchemaResult, name: string) {
  const found = result.fields.find((candidate) => candidate.name === name);
  assert.ok(found, `no field ${name} among ${result.fields.map((candidate) => candidate.name).join(', ')}`);
  return found;
}

describe('schema infer from a CSV into a fresh repo', () => {
  let repo: string;
  before(async () => {
    repo = join(await mkdtemp(join(tmpdir(), 'tessera-infer-')), 'clinic');
    const init = await tesseraInProcess(['init', repo]);
    assert.equal(init.code, 0, init.stderr);
    await writeFile(join(repo, 'data/patients.csv'), PATIENTS_CSV);
    await writeFile(
      join(repo, 'access/clinical.yaml'),
      'kind: role\nname: clinical_analyst\nmembers: [group:analysts]\ngrants:\n  - tables: [clinical.patients]\n',
    );
  });

  test('prints the draft without writing anything, PHI flagged with reasons', async () => {
    const printed = await tesseraInProcess(
      ['schema', 'infer', 'data/patients.csv', '--table', 'clinical.patients'],
      {
        cwd: repo,
      },
    );
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /# ---- schemas\/clinical\/patients.proto/);
    assert.match(printed.stdout, /Likely PHI \(social security numbers\): its name suggests/);
    assert.match(
      printed.stdout,
      /contact: email addresses \(100% of 3 sampled values look like an email address\) → mask HASH/,
    );
    assert.match(printed.stdout, /primary key guessed: patient_id/);
  });

  test('--out writes files that validate, apply, run, and query masked', async () => {
    const inferred = await tesseraInProcess(
      ['schema', 'infer', 'data/patients.csv', '--name', 'clinical.patients', '--out', '.', '--json'],
      { cwd: repo },
    );
    assert.equal(inferred.code, 0, inferred.stdout + inferred.stderr);
    const result = parsed(inferred.stdout);
    assert.deepEqual(result.written, [
      'schemas/clinical/patients.proto',
      'tables/clinical.patients.yaml',
      'tasks/ingest_clinical_patients.yaml',
    ]);
    assert.equal(result.rowsSampled, 3);
    assert.equal(result.primaryKey, 'patient_id');
    assert.deepEqual(
      result.fields
        .filter((entry) => entry.phi)
        .map((entry) => `${entry.name}:${entry.phi!.mask}:${entry.phi!.by}`),
      [
        'ssn:HASH:name',
        'first_name:REDACT:name',
        'last_name:REDACT:name',
        'birth_date:DATE_YEAR:name',
        'zip:ZIP3:name',
        'contact:HASH:values',
        'phone:REDACT:name',
      ],
    );
    assert.equal(field(result, 'zip_code_count').phi, undefined);
    assert.equal(field(result, 'notes').required, false);
    assert.equal(field(result, 'ssn').required, true);
    const task = await readFile(join(repo, 'tasks/ingest_clinical_patients.yaml'), 'utf8');
    assert.match(task, /uri: data\/patients.csv/);
    assert.match(task, /date_formats:\n\s+- "%m\/%d\/%Y"/);
    assert.match(task, /First Name: first_name/);
    assert.match(task, /target: clinical.patients/);
    assert.match(await readFile(join(repo, 'tables/clinical.patients.yaml'), 'utf8'), /owner: data-team/);

    const again = await tesseraInProcess(
      ['schema', 'infer', 'data/patients.csv', '--name', 'clinical.patients', '--out', '.'],
      {
        cwd: repo,
      },
    );
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds schemas\/clinical\/patients.proto.*add --force/);
    const forced = await tesseraInProcess(
      ['schema', 'infer', 'data/patients.csv', '--name', 'clinical.patients', '--out', '.', '--force'],
      { cwd: repo },
    );
    assert.equal(forced.code, 0, forced.stderr);

    const validate = await tesseraInProcess(['validate'], { cwd: repo });
    assert.equal(validate.code, 0, validate.stdout + validate.stderr);
    assert.doesNotMatch(validate.stdout, /error/);
    const apply = await tesseraInProcess(['apply'], { cwd: repo });
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    const run = await tesseraInProcess(['run', 'ingest_clinical_patients'], { cwd: repo });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const masked = await tesseraInProcess(
      [
        'query',
        'select ssn, first_name, birth_date, zip, contact, zip_code_count from clinical.patients order by patient_id',
        '--as',
        'ana@example.org',
        '--json',
      ],
      { cwd: repo },
    );
    assert.equal(masked.code, 0, masked.stdout + masked.stderr);
    const rows = JSON.parse(masked.stdout) as Record<string, unknown>[];
    assert.equal(rows.length, 3);
    assert.match(String(rows[0]!.ssn), /^[0-9a-f]{64}$/);
    assert.equal(rows[0]!.first_name, '[REDACTED]');
    assert.match(String(rows[0]!.birth_date), /^1950-01-01/);
    assert.equal(rows[0]!.zip, '021');
    assert.match(String(rows[0]!.contact), /^[0-9a-f]{64}$/);
    assert.equal(Number(rows[0]!.zip_code_count), 3);
  });

  test('says what is wrong with bad input', async () => {
    const unknownFormat = await tesseraInProcess(['schema', 'infer', 'data/patients.txt'], { cwd: repo });
    assert.equal(unknownFormat.code, 2);
    assert.match(unknownFormat.stderr, /cannot tell the format of data\/patients.txt.*--format/);
    const badName = await tesseraInProcess(['schema', 'infer', 'data/patients.csv', '--name', 'Patients'], {
      cwd: repo,
    });
    assert.equal(badName.code, 2);
    assert.match(badName.stderr, /--name Patients is not a table name/);
    const missing = await tesseraInProcess(['schema', 'infer', 'data/nothing-*.csv'], { cwd: repo });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no file matches .*data\/nothing-\*\.csv; check the path or glob/);
    await writeFile(join(repo, 'data/broken.json'), '{"a": 1');
    const broken = await tesseraInProcess(['schema', 'infer', 'data/broken.json'], { cwd: repo });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /cannot read .*data\/broken.json as json: .*Malformed JSON/);
    const noTable = await tesseraInProcess(['schema', 'infer', 'postgres://postgres@127.0.0.1:5432/test'], {
      cwd: repo,
    });
    assert.equal(noTable.code, 2);
    assert.match(noTable.stderr, /exactly one of --table TABLE and --query SQL/);
  });
});

const PG_URL = process.env.TESSERA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const postgres = await requireService(`PostgreSQL at ${new URL(PG_URL).host}`, async () => {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => {});
  }
});

describe('schema infer from a PostgreSQL table', { skip: postgres.skip }, () => {
  const table = `tessera_infer_${randomBytes(5).toString('hex')}`;
  before(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(
      `create table ${table} (id bigint primary key, full_name text not null, dob date, mrn text, visits int, amount numeric(12,2))`,
    );
    await client.query(
      `insert into ${table} select g, 'Person ' || g, date '1960-01-01' + g, 'M' || g, g % 7, g * 1.5 from generate_series(1, 500) g`,
    );
    await client.end();
  });
  after(async () => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`drop table if exists ${table}`);
    await client.end();
  });

  test('samples --sample rows through the postgres reader and drafts a postgres task', async () => {
    const repo = await writeRepo({
      'tessera.yaml': 'name: pg-infer\n',
      'owners/o.yaml': 'kind: owner\nname: records\n',
    });
    // Trust authentication accepts any password: this one only shows it is never printed.
    const withPassword = new URL(PG_URL);
    withPassword.password = 'Sup3r-s3cret';
    const inferred = await tesseraInProcess(
      ['schema', 'infer', withPassword.toString(), '--table', `public.${table}`, '--sample', '100', '--json'],
      { cwd: repo },
    );
    assert.equal(inferred.code, 0, inferred.stdout + inferred.stderr);
    const result = parsed(inferred.stdout);
    assert.equal(result.rowsSampled, 100);
    assert.equal(result.table, `public.${table}`);
    assert.equal(result.primaryKey, 'id');
    assert.equal(field(result, 'full_name').phi?.mask, 'REDACT');
    assert.equal(field(result, 'dob').phi?.mask, 'DATE_YEAR');
    assert.equal(field(result, 'dob').protoType, 'google.type.Date');
    assert.equal(field(result, 'mrn').phi?.mask, 'HASH');
    assert.equal(field(result, 'visits').phi, undefined);
    const task = result.files.find((file) => file.path.startsWith('tasks/'))!.text;
    assert.match(task, /type: postgres/);
    assert.doesNotMatch(inferred.stdout + inferred.stderr, /Sup3r-s3cret/);
    assert.match(task, /url: postgres:\/\/[^:@]+:\$\{SOURCE_DB_PASSWORD\}@/);
    assert.match(task, new RegExp(`table: public.${table}`));
    assert.match(result.files.find((file) => file.path.startsWith('tables/'))!.text, /owner: records/);
  });
});

describe('schema infer from an S3 object', () => {
  test('reads the object through the s3 reader with the repo s3 settings', async () => {
    const s3 = await startS3Server(['intake']);
    try {
      await s3.put(
        'intake',
        'daily/members-1.csv',
        'member_id,email,plan\nm1,a@x.org,gold\nm2,b@y.org,silver\n',
      );
      const repo = await writeRepo({
        'tessera.yaml': `name: s3-infer\ns3: { endpoint: "${s3.endpoint}", region: us-east-1, path_style: true }\n`,
      });
      const inferred = await tesseraInProcess(
        ['schema', 'infer', 's3://intake/daily/*.csv', '--name', 'plans.members', '--json'],
        { cwd: repo },
      );
      assert.equal(inferred.code, 0, inferred.stdout + inferred.stderr);
      const result = parsed(inferred.stdout);
      assert.equal(result.rowsSampled, 2);
      assert.equal(field(result, 'email').phi?.category, 'email addresses');
      assert.equal(field(result, 'plan').phi, undefined);
      assert.match(
        result.files.find((file) => file.path.startsWith('tasks/'))!.text,
        /uri: s3:\/\/intake\/daily\/\*.csv/,
      );
    } finally {
      await s3.close();
    }
  });
});

const nats = await natsAvailable();

describe('schema infer from a NATS stream', { skip: nats.skip }, () => {
  test('samples without consuming: the task still reads every message afterwards', async () => {
    const stream = await applied(await streamRepo());
    try {
      await stream.publish(
        Array.from({ length: 5 }, (_, index) => ({
          body: { event_id: `e${index}`, amount: index * 2.5, email: `u${index}@example.org` },
        })),
      );
      const inferred = await tesseraInProcess(
        ['schema', 'infer', NATS_URL, '--stream', stream.stream, '--subject', stream.subject, '--json'],
        { cwd: stream.repo },
      );
      assert.equal(inferred.code, 0, inferred.stdout + inferred.stderr);
      const result = parsed(inferred.stdout);
      assert.equal(result.rowsSampled, 5);
      assert.deepEqual(
        result.fields.map((entry) => entry.name),
        ['event_id', 'amount', 'email'],
      );
      assert.equal(field(result, 'email').phi?.mask, 'HASH');
      assert.match(result.files.find((file) => file.path.startsWith('tasks/'))!.text, /mode: append/);

      const byTask = await tesseraInProcess(['schema', 'infer', '--task', 'load_events', '--json'], {
        cwd: stream.repo,
      });
      assert.equal(byTask.code, 0, byTask.stdout + byTask.stderr);
      assert.equal(parsed(byTask.stdout).rowsSampled, 5);
      assert.equal(parsed(byTask.stdout).table, 'ops.events');

      const { run } = await runOnce(stream.repo);
      assert.equal(run.status, 'succeeded', run.error);
      const rows = await query(stream.repo, 'select count(*) as n from ops.events');
      assert.equal(Number(rows[0]!.n), 5);
      const consumers = await (
        await stream.connection.jetstreamManager()
      ).consumers
        .list(stream.stream)
        .next();
      assert.deepEqual(
        consumers.map((consumer) => consumer.name),
        ['tessera-load_events'],
      );
    } finally {
      await stream.close();
    }
  });
});
