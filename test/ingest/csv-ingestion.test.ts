import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RunFailedError } from '../../src/diagnostics/errors.ts';
import { field, ingestFixture, ingestionTask, outputFileOf } from './ingest-fixture.ts';

const fixture = ingestFixture();

const patientFields = [
  field('patient_id', 'VARCHAR', { primaryKey: true }),
  field('birth_date', 'TIMESTAMPTZ'),
  field('gender', 'VARCHAR', { allowed: ['F', 'M', 'U'] }),
  field('visits', 'INTEGER'),
];

/** A failed ingestion's error, asserting it is a RunFailedError. */
async function failure(promise: Promise<unknown>): Promise<RunFailedError> {
  const error = await promise.then(
    () => assert.fail('expected the ingestion to fail'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof RunFailedError, `expected RunFailedError, got ${String(error)}`);
  return error;
}

describe('CSV ingestion: values are conformed to the schema', () => {
  test('ISO 8601 datetimes with Z, an offset or no zone become UTC timestamps', async () => {
    const repo = await fixture.repo({
      'data/events.csv': [
        'id,at',
        'a,2020-01-02T03:04:05Z',
        'b,2020-01-02T03:04:05+02:00',
        'c,2020-01-02 03:04:05',
        'd,2020-01-02',
        'e,2020-01-02T03:04-05:00',
        'f,2020-01-02T03:04:05.250-0130',
      ].join('\n'),
    });
    const fields = [field('id', 'VARCHAR'), field('at', 'TIMESTAMPTZ')];
    const result = await fixture.ingest(repo, ingestionTask({ uri: 'data/events.csv' }), fields);

    assert.equal(result.rowCount, 6);
    assert.equal(result.badRowCount, 0);
    // The typed single-pass read refuses `03:04-05:00` (no seconds); the checks accept it.
    assert.ok(result.log.some((line) => line.includes('conformed in a second pass')));
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(written.columns, [
      { name: 'id', type: 'VARCHAR' },
      { name: 'at', type: 'TIMESTAMP WITH TIME ZONE' },
    ]);
    assert.deepEqual(
      written.rows.map((row) => row.at),
      [
        '2020-01-02T03:04:05Z',
        '2020-01-02T01:04:05Z',
        '2020-01-02T03:04:05Z',
        '2020-01-02T00:00:00Z',
        '2020-01-02T08:04:00Z',
        '2020-01-02T04:34:05.25Z',
      ],
    );
  });

  test('a date in the listed format %m/%d/%Y becomes midnight UTC', async () => {
    const repo = await fixture.repo({ 'data/p.csv': 'id,birth_date\np1,01/31/1980\np2,12/01/2001\n' });
    const fields = [field('id', 'VARCHAR'), field('birth_date', 'TIMESTAMPTZ')];
    const task = ingestionTask({ uri: 'data/p.csv', options: { timestamp_formats: ['%m/%d/%Y'] } });
    await fixture.ingest(repo, task, fields);

    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(written.rows, [
      { id: 'p1', birth_date: '1980-01-31T00:00:00Z' },
      { id: 'p2', birth_date: '2001-12-01T00:00:00Z' },
    ]);
  });

  test('several formats: the first that parses wins, for timestamps and dates', async () => {
    const repo = await fixture.repo({
      'data/p.csv':
        'id,seen_at,born_on\n1,01/31/1980,31.01.1980\n2,1980-02-01 10:30,1980/02/01\n3,19800301,01.03.1980\n',
    });
    const fields = [field('id', 'INTEGER'), field('seen_at', 'TIMESTAMPTZ'), field('born_on', 'DATE')];
    const task = ingestionTask({
      uri: 'data/p.csv',
      options: {
        timestamp_formats: ['%m/%d/%Y', '%Y-%m-%d %H:%M', '%Y%m%d'],
        date_formats: ['%d.%m.%Y', '%Y/%m/%d'],
      },
    });
    const result = await fixture.ingest(repo, task, fields);

    assert.equal(result.badRowCount, 0);
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.columns.map((column) => column.type),
      ['INTEGER', 'TIMESTAMP WITH TIME ZONE', 'DATE'],
    );
    assert.deepEqual(written.rows, [
      { id: 1, seen_at: '1980-01-31T00:00:00Z', born_on: '1980-01-31' },
      { id: 2, seen_at: '1980-02-01T10:30:00Z', born_on: '1980-02-01' },
      { id: 3, seen_at: '1980-03-01T00:00:00Z', born_on: '1980-03-01' },
    ]);
  });

  test('booleans from yes/no, 1/0 and true/false in any case', async () => {
    const repo = await fixture.repo({ 'data/b.csv': 'id,active\n1,yes\n2,No\n3,1\n4,0\n5,TRUE\n6,false\n' });
    const fields = [field('id', 'BIGINT'), field('active', 'BOOLEAN')];
    await fixture.ingest(repo, ingestionTask({ uri: 'data/b.csv' }), fields);

    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.columns.map((column) => column.type),
      ['BIGINT', 'BOOLEAN'],
    );
    assert.deepEqual(
      written.rows.map((row) => row.active),
      [true, false, true, false, true, false],
    );
  });

  test('numeric strings become numbers of exactly the field types', async () => {
    const repo = await fixture.repo({
      'data/n.csv':
        'small,big,ratio,price,unsigned\n12,9007199254740993,3.25,10.5,7\n-3,0,1e3,0.01,0\n 4 ,-1,-0.5,2,4000000000\n',
    });
    const fields = [
      field('small', 'INTEGER'),
      field('big', 'BIGINT'),
      field('ratio', 'DOUBLE'),
      field('price', { kind: 'decimal', precision: 18, scale: 2 }),
      field('unsigned', 'UINTEGER'),
    ];
    const result = await fixture.ingest(repo, ingestionTask({ uri: 'data/n.csv' }), fields);

    assert.equal(result.badRowCount, 0);
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.columns.map((column) => column.type),
      ['INTEGER', 'BIGINT', 'DOUBLE', 'DECIMAL(18,2)', 'UINTEGER'],
    );
    assert.deepEqual(written.rows, [
      { small: 12, big: '9007199254740993', ratio: 3.25, price: 10.5, unsigned: 7 },
      { small: -3, big: 0, ratio: 1000, price: 0.01, unsigned: 0 },
      { small: 4, big: -1, ratio: -0.5, price: 2, unsigned: 4000000000 },
    ]);
  });

  test('empty strings and null_values are NULL in optional fields', async () => {
    const repo = await fixture.repo({ 'data/p.csv': 'id,death_date,note\n1,,NA\n2,NA,""\n3,2020-01-01,x\n' });
    const fields = [
      field('id', 'INTEGER'),
      field('death_date', 'TIMESTAMPTZ', { nullable: true }),
      field('note', 'VARCHAR', { nullable: true }),
    ];
    const task = ingestionTask({ uri: 'data/p.csv', options: { null_values: ['', 'NA'] } });
    const result = await fixture.ingest(repo, task, fields);

    assert.equal(result.badRowCount, 0);
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(written.rows, [
      { id: 1, death_date: null, note: null },
      { id: 2, death_date: null, note: null },
      { id: 3, death_date: '2020-01-01T00:00:00Z', note: 'x' },
    ]);
  });

  test('the session time zone is UTC during the run and restored afterwards', async () => {
    const repo = await fixture.repo({ 'data/t.csv': 'id,at\n1,2020-06-01 12:00:00\n' });
    await fixture.run(`SET TimeZone = 'America/New_York'`);
    try {
      const fields = [field('id', 'INTEGER'), field('at', 'TIMESTAMPTZ')];
      await fixture.ingest(repo, ingestionTask({ uri: 'data/t.csv' }), fields);
      const zone = await fixture.session.query(`SELECT current_setting('TimeZone') AS zone`);
      assert.equal(zone.rows[0]!.zone, 'America/New_York');
      const written = await fixture.session.query(
        `SELECT strftime(timezone('UTC', "at"), '%Y-%m-%d %H:%M') AS "at" FROM read_parquet('${outputFileOf(repo)}')`,
      );
      assert.deepEqual(written.rows, [{ at: '2020-06-01 12:00' }]);
    } finally {
      await fixture.run(`SET TimeZone = 'UTC'`);
    }
  });
});

describe('CSV ingestion: source columns are matched to fields', () => {
  test('fields match source columns case-insensitively, `columns` maps the rest, extras are listed', async () => {
    const repo = await fixture.repo({
      'data/patients.csv': 'ID,BIRTHDATE,Gender,Visits,SSN,Notes\np1,01/02/1980,F,3,123-45-6789,x\n',
    });
    const task = ingestionTask({
      uri: 'data/patients.csv',
      options: { timestamp_formats: ['%m/%d/%Y'] },
      columns: { ID: 'patient_id', BIRTHDATE: 'birth_date' },
    });
    const result = await fixture.ingest(repo, task, patientFields);

    assert.deepEqual(result.unmatchedSourceColumns, ['SSN', 'Notes']);
    assert.ok(
      result.log.includes('data/patients.csv: ignored source columns that match no field: SSN, Notes'),
    );
    assert.deepEqual(result.sourceFiles, [join(repo, 'data/patients.csv')]);
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(written.rows, [
      { patient_id: 'p1', birth_date: '1980-01-02T00:00:00Z', gender: 'F', visits: 3 },
    ]);
  });

  test('files of a glob whose columns come in another order are matched by name', async () => {
    const repo = await fixture.repo({
      'data/a.csv': 'patient_id,birth_date,gender,visits\na1,2020-01-01,F,1\n',
      'data/b.csv': 'visits,gender,birth_date,patient_id\n2,M,2021-02-02,b1\n',
    });
    const result = await fixture.ingest(repo, ingestionTask({ uri: 'data/*.csv' }), patientFields);

    assert.equal(result.badRowCount, 0);
    assert.equal(result.log.filter((line) => line.includes('second pass')).length, 0);
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(written.rows, [
      { patient_id: 'a1', birth_date: '2020-01-01T00:00:00Z', gender: 'F', visits: 1 },
      { patient_id: 'b1', birth_date: '2021-02-02T00:00:00Z', gender: 'M', visits: 2 },
    ]);
  });

  test('a missing optional field is NULL, with its type', async () => {
    const repo = await fixture.repo({ 'data/p.csv': 'id\n1\n' });
    const fields = [field('id', 'INTEGER'), field('death_date', 'TIMESTAMPTZ', { nullable: true })];
    const result = await fixture.ingest(repo, ingestionTask({ uri: 'data/p.csv' }), fields);

    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.columns.map((column) => column.type),
      ['INTEGER', 'TIMESTAMP WITH TIME ZONE'],
    );
    assert.deepEqual(written.rows, [{ id: 1, death_date: null }]);
    assert.ok(result.log.some((line) => line.includes('death_date')));
  });

  test('a required field with no source column fails, naming the file, the field and the columns found', async () => {
    const repo = await fixture.repo({ 'data/patients.csv': 'Id,SSN,Gender,visits\np1,1,F,2\n' });
    const task = ingestionTask({ uri: 'data/patients.csv', columns: { Id: 'patient_id' } });
    const error = await failure(fixture.ingest(repo, task, patientFields));

    assert.equal(
      error.message,
      'data/patients.csv: required field `birth_date` has no source column (columns found: Id, SSN, Gender, visits); ' +
        'map one with `columns: { SOURCE_NAME: birth_date }`',
    );
    assert.deepEqual(error.context, { task: 'ingest_patients', table: 'clinical.patients' });
    assert.equal(existsSync(outputFileOf(repo)), false);
  });

  test('no file matching the uri fails, naming the uri and the directory searched', async () => {
    const repo = await fixture.repo({ 'data/other.txt': 'x' });
    const error = await failure(fixture.ingest(repo, ingestionTask({ uri: 'data/*.csv' }), patientFields));
    assert.equal(
      error.message,
      `task ingest_patients: no file matches source uri \`data/*.csv\` (searched ${join(repo, 'data')})`,
    );
  });
});

describe('CSV ingestion: bad rows', () => {
  const badRowsCsv = [
    'patient_id,birth_date,gender,visits,note', // line 1
    'p1,01/02/1980,F,3,fine', // line 2
    'p2,01/03/1980,M,2,"spans', // line 3
    'two lines"', // line 4
    'p3,01/04/1980,X,1,bad gender', // line 5
    'p4,01/05/1980,U,1.5,fractional visits', // line 6
    'p5,,F,2,missing birth date', // line 7
    'p6,13/45/2020,F,2,bad date', // line 8
    'p7,01/06/1980,F,4,fine', // line 9
  ].join('\n');
  const timestampOptions = { timestamp_formats: ['%m/%d/%Y'] };

  test('quarantine under the threshold writes the good rows and a quarantine file with reasons', async () => {
    const repo = await fixture.repo({ 'data/patients.csv': badRowsCsv });
    const task = ingestionTask({ uri: 'data/patients.csv', options: timestampOptions }, { maxFraction: 0.6 });
    const result = await fixture.ingest(repo, task, patientFields);

    assert.equal(result.rowCount, 3);
    assert.equal(result.badRowCount, 4);
    assert.deepEqual(result.badRows, [
      {
        file: 'data/patients.csv',
        line: 5,
        column: 'gender',
        value: 'X',
        reason: 'value "X" is not one of: F, M, U',
      },
      {
        file: 'data/patients.csv',
        line: 6,
        column: 'visits',
        value: '1.5',
        reason: 'value "1.5" is not a whole number (field `visits` is INTEGER)',
      },
      {
        file: 'data/patients.csv',
        line: 7,
        column: 'birth_date',
        reason: 'value is missing but field `birth_date` is required',
      },
      {
        file: 'data/patients.csv',
        line: 8,
        column: 'birth_date',
        value: '13/45/2020',
        reason: 'value "13/45/2020" is not a timestamp (expected formats: %m/%d/%Y)',
      },
    ]);

    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.rows.map((row) => row.patient_id),
      ['p1', 'p2', 'p7'],
    );
    assert.equal(result.quarantineFile, join(repo, 'staging', 'part-0.quarantine.parquet'));
    const quarantined = await fixture.readParquet(result.quarantineFile!);
    assert.deepEqual(
      quarantined.columns.map((column) => column.name),
      ['file', 'line', 'column', 'value', 'reason', 'source_record'],
    );
    assert.deepEqual(
      quarantined.rows.map((row) => [row.line, row.column, row.reason]),
      result.badRows.map((row) => [row.line, row.column, row.reason]),
    );
    // The record keeps the source columns that feed fields; `note` feeds none, and nothing says
    // whether it is sensitive, so the quarantine leaves it out.
    assert.deepEqual(JSON.parse(String(quarantined.rows[0]!.source_record)), {
      patient_id: 'p3',
      birth_date: '01/04/1980',
      gender: 'X',
      visits: '1',
    });
  });

  test('action fail names the file, line, column and value of the first bad rows, and the count', async () => {
    const repo = await fixture.repo({ 'data/patients.csv': badRowsCsv });
    const task = ingestionTask({ uri: 'data/patients.csv', options: timestampOptions }, { action: 'fail' });
    const error = await failure(fixture.ingest(repo, task, patientFields));

    assert.equal(
      error.message,
      [
        'task ingest_patients: 4 bad rows of 7, and bad_rows.action is fail:',
        '  data/patients.csv:5: column gender: value "X" is not one of: F, M, U',
        '  data/patients.csv:6: column visits: value "1.5" is not a whole number (field `visits` is INTEGER)',
        '  data/patients.csv:7: column birth_date: value is missing but field `birth_date` is required',
        '  data/patients.csv:8: column birth_date: value "13/45/2020" is not a timestamp (expected formats: %m/%d/%Y)',
      ].join('\n'),
    );
    assert.equal(existsSync(outputFileOf(repo)), false);
  });

  test('a bad value of a sensitive field is named by line and column, never quoted', async () => {
    const repo = await fixture.repo({
      'data/p.csv': 'id,ssn,birth_date\n1,123-45-6789,1980-05-17\n2,987-65-4321,17/05/1980\n3,,1990-01-01\n',
    });
    const fields = [
      field('id', 'INTEGER'),
      field('ssn', 'VARCHAR', { sensitivity: 'PHI', mask: 'HASH', allowed: ['123-45-6789'] }),
      field('birth_date', 'DATE', { sensitivity: 'PHI', mask: 'DATE_YEAR' }),
    ];
    const error = await failure(
      fixture.ingest(repo, ingestionTask({ uri: 'data/p.csv' }, { action: 'fail' }), fields),
    );
    assert.equal(
      error.message,
      [
        'task ingest_patients: 2 bad rows of 3, and bad_rows.action is fail:',
        '  data/p.csv:3: column ssn: value [not shown: PHI] is not one of: 123-45-6789',
        '  data/p.csv:4: column ssn: value is missing but field `ssn` is required',
      ].join('\n'),
    );
    const quarantined = await fixture.ingest(
      repo,
      ingestionTask({ uri: 'data/p.csv' }, { action: 'quarantine', maxFraction: 1 }),
      fields.map((each) => (each.name === 'ssn' ? { ...each, allowed: undefined, nullable: true } : each)),
    );
    assert.deepEqual(
      quarantined.badRows.map((row) => row.reason),
      ['value [not shown: PHI] is not an ISO 8601 date'],
    );
    assert.doesNotMatch(JSON.stringify(quarantined.log), /17\/05\/1980|987-65-4321/);
  });

  test('a value outside an enum is a bad row', async () => {
    const repo = await fixture.repo({ 'data/p.csv': 'id,gender\n1,F\n2,female\n' });
    const fields = [
      field('id', 'INTEGER'),
      field('gender', { kind: 'enum', name: 'Gender', values: ['F', 'M', 'U'] }),
    ];
    const result = await fixture.ingest(repo, ingestionTask({ uri: 'data/p.csv' }), fields);

    assert.equal(result.rowCount, 1);
    assert.deepEqual(result.badRows, [
      {
        file: 'data/p.csv',
        line: 3,
        column: 'gender',
        value: 'female',
        reason: 'value "female" is not one of: F, M, U',
      },
    ]);
  });

  test('a mapped column is named by its source name, with the field beside it', async () => {
    const repo = await fixture.repo({ 'data/p.csv': 'Id,BIRTHDATE,gender,visits\np1,not-a-date,F,1\n' });
    const task = ingestionTask(
      {
        uri: 'data/p.csv',
        options: timestampOptions,
        columns: { Id: 'patient_id', BIRTHDATE: 'birth_date' },
      },
      { action: 'fail' },
    );
    const error = await failure(fixture.ingest(repo, task, patientFields));
    assert.match(
      error.message,
      /data\/p\.csv:2: column BIRTHDATE \(field birth_date\): value "not-a-date" is not a timestamp \(expected formats: %m\/%d\/%Y\)/,
    );
  });

  test('quarantine over max_fraction fails, names the fraction, and writes nothing', async () => {
    const repo = await fixture.repo({ 'data/patients.csv': badRowsCsv });
    const task = ingestionTask(
      { uri: 'data/patients.csv', options: timestampOptions },
      { maxFraction: 0.25 },
    );
    const error = await failure(fixture.ingest(repo, task, patientFields));

    assert.match(
      error.message,
      /^task ingest_patients: 4 bad rows of 7 \(57\.1%\) is more than bad_rows\.max_fraction 0\.25 \(25%\):\n {2}data\/patients\.csv:5: column gender/,
    );
    assert.equal(existsSync(outputFileOf(repo)), false);
    assert.equal(existsSync(join(repo, 'staging', 'part-0.quarantine.parquet')), false);
  });

  test('malformed CSV rows are bad rows at their physical line', async () => {
    const repo = await fixture.repo({
      'data/p.csv': ['id,note', '1,"a', 'b"', '2,x,extra', '3,"c', '', 'd"', '4', '5,fine'].join('\n'),
    });
    const fields = [field('id', 'INTEGER'), field('note', 'VARCHAR')];
    const result = await fixture.ingest(
      repo,
      ingestionTask({ uri: 'data/p.csv' }, { maxFraction: 0.5 }),
      fields,
    );

    assert.equal(result.rowCount, 3);
    assert.deepEqual(
      result.badRows.map((row) => [row.line, row.reason]),
      [
        [4, 'malformed CSV row: Expected Number of Columns: 2 Found: 3'],
        [8, 'malformed CSV row: Expected Number of Columns: 2 Found: 1'],
      ],
    );
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(written.rows, [
      { id: 1, note: 'a\nb' },
      { id: 3, note: 'c\n\nd' },
      { id: 5, note: 'fine' },
    ]);
  });

  test('a glob over several files names the right file and line for each bad row', async () => {
    const header = 'patient_id,birth_date,gender,visits';
    const repo = await fixture.repo({
      'data/2024/a.csv': `${header}\na1,2020-01-01,F,1\na2,2020-01-01,Q,1\n`,
      'data/2024/b.csv': `${header}\nb1,2020-01-01,F,1\nb2,2020-01-01,M,1\nb3,2020-01-01,M,x\n`,
      'data/2025/c.csv': `gender,visits,patient_id,birth_date\nM,oops,c1,2020-01-01\nF,2,c2,2020-01-01\n`,
      'data/readme.txt': 'not a csv',
    });
    const task = ingestionTask({ uri: 'data/**/*.csv' }, { maxFraction: 0.5 });
    const result = await fixture.ingest(repo, task, patientFields);

    assert.deepEqual(result.sourceFiles, [
      join(repo, 'data/2024/a.csv'),
      join(repo, 'data/2024/b.csv'),
      join(repo, 'data/2025/c.csv'),
    ]);
    assert.equal(result.rowCount, 4);
    assert.deepEqual(
      result.badRows.map((row) => `${row.file}:${row.line}:${row.column}=${row.value}`),
      ['data/2024/a.csv:3:gender=Q', 'data/2024/b.csv:4:visits=x', 'data/2025/c.csv:2:visits=oops'],
    );
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.rows.map((row) => row.patient_id),
      ['a1', 'b1', 'b2', 'c2'],
    );
  });
});
