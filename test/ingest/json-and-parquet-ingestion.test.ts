import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { RunFailedError } from '../../src/diagnostics/errors.ts';
import { quoteLiteral } from '../../src/engines/engine.ts';
import { field, ingestFixture, ingestionTask, outputFileOf } from './ingest-fixture.ts';

const fixture = ingestFixture();

const eventFields = [
  field('id', 'BIGINT'),
  field('at', 'TIMESTAMPTZ'),
  field('active', 'BOOLEAN'),
  field('kind', { kind: 'enum', name: 'Kind', values: ['visit', 'call'] }),
  field('tags', { kind: 'list', element: { kind: 'scalar', sql: 'VARCHAR' } }, { nullable: true }),
  field('score', 'DOUBLE', { nullable: true }),
];

describe('NDJSON and JSON ingestion', () => {
  test('NDJSON values are conformed: numbers, strings, booleans, timestamps, lists', async () => {
    const repo = await fixture.repo({
      'data/events.ndjson': [
        '{"id": 1, "at": "2020-01-02T03:04:05+01:00", "active": true, "kind": "visit", "tags": ["a", "b"], "score": 1.5, "extra": 1}',
        '{"id": "2", "at": "2020-01-02", "active": "yes", "kind": "call", "score": "7"}',
      ].join('\n'),
    });
    const result = await fixture.ingest(
      repo,
      ingestionTask({ type: 'ndjson', uri: 'data/events.ndjson' }),
      eventFields,
    );

    assert.equal(result.badRowCount, 0);
    assert.deepEqual(result.unmatchedSourceColumns, ['extra']);
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.columns.map((column) => column.type),
      ['BIGINT', 'TIMESTAMP WITH TIME ZONE', 'BOOLEAN', 'VARCHAR', 'VARCHAR[]', 'DOUBLE'],
    );
    assert.deepEqual(written.rows, [
      { id: 1, at: '2020-01-02T02:04:05Z', active: true, kind: 'visit', tags: ['a', 'b'], score: 1.5 },
      { id: 2, at: '2020-01-02T00:00:00Z', active: true, kind: 'call', tags: null, score: 7 },
    ]);
  });

  test('an NDJSON bad row is named by its record number', async () => {
    const repo = await fixture.repo({
      'data/events.ndjson': [
        '{"id": 1, "at": "2020-01-02", "active": true, "kind": "visit"}',
        '{"id": 2, "at": "2020-01-02", "active": true, "kind": "visit"}',
        '{"id": 3.5, "at": "2020-01-02", "active": true, "kind": "visit"}',
      ].join('\n'),
    });
    const task = ingestionTask({ type: 'ndjson', uri: 'data/events.ndjson' }, { action: 'fail' });
    const error = await fixture.ingest(repo, task, eventFields).catch((caught: unknown) => caught);

    assert.ok(error instanceof RunFailedError);
    assert.equal(
      error.message,
      'task ingest_patients: 1 bad row of 3, and bad_rows.action is fail:\n' +
        '  data/events.ndjson: record 3: column id: value "3.5" is not a whole number (field `id` is BIGINT)',
    );
    assert.equal(existsSync(outputFileOf(repo)), false);
  });

  test('a JSON array bad row is named by its element index, counted from 0', async () => {
    const repo = await fixture.repo({
      'data/events.json': JSON.stringify([
        { id: 1, at: '2020-01-02', active: true, kind: 'visit' },
        { id: 2, at: 'yesterday', active: true, kind: 'visit' },
        { id: 3, at: '2020-01-03', active: 'maybe', kind: 'visit' },
      ]),
    });
    const result = await fixture.ingest(
      repo,
      ingestionTask({ type: 'json', uri: 'data/events.json' }, { maxFraction: 1 }),
      eventFields,
    );

    assert.equal(result.rowCount, 1);
    assert.deepEqual(result.badRows, [
      {
        file: 'data/events.json',
        line: 1,
        column: 'at',
        value: 'yesterday',
        reason: 'value "yesterday" is not an ISO 8601 timestamp',
      },
      {
        file: 'data/events.json',
        line: 2,
        column: 'active',
        value: 'maybe',
        reason: 'value "maybe" is not a boolean (true/false, yes/no, 1/0)',
      },
    ]);
    assert.ok(result.log.some((line) => line.includes('data/events.json: element [1]: column at')));
  });
});

describe('Parquet ingestion', () => {
  test('typed Parquet columns are converted to the field types; bad rows are named by row number', async () => {
    const repo = await fixture.repo();
    const source = join(repo, 'data', 'visits.parquet');
    await mkdir(join(repo, 'data'));
    await fixture.run(
      `COPY (SELECT * FROM (VALUES ` +
        `(CAST(1 AS BIGINT), TIMESTAMP '2020-01-02 03:04:05', 2.0::DOUBLE, 'visit', '01/02/2020'), ` +
        `(CAST(2 AS BIGINT), TIMESTAMP '2020-01-03 00:00:00', 2.5::DOUBLE, 'visit', '01/03/2020'), ` +
        `(CAST(3 AS BIGINT), TIMESTAMP '2020-01-04 00:00:00', 4.0::DOUBLE, 'bogus', '01/04/2020')` +
        `) AS t(visit_id, started, visits, kind, seen)) TO ${quoteLiteral(source)} (FORMAT parquet)`,
    );
    const fields = [
      field('visit_id', 'INTEGER'),
      field('started', 'TIMESTAMPTZ'),
      field('visits', 'INTEGER'),
      field('kind', 'VARCHAR', { allowed: ['visit', 'call'] }),
      field('seen', 'TIMESTAMPTZ'),
    ];
    const task = ingestionTask(
      { type: 'parquet', uri: 'data/*.parquet', options: { timestamp_formats: ['%m/%d/%Y'] } },
      { maxFraction: 1 },
    );
    const result = await fixture.ingest(repo, task, fields);

    assert.deepEqual(
      result.badRows.map((row) => [row.line, row.column, row.reason]),
      [
        [2, 'visits', 'value "2.5" is not a whole number (field `visits` is INTEGER)'],
        [3, 'kind', 'value "bogus" is not one of: visit, call'],
      ],
    );
    const written = await fixture.readParquet(outputFileOf(repo));
    assert.deepEqual(
      written.columns.map((column) => column.type),
      ['INTEGER', 'TIMESTAMP WITH TIME ZONE', 'INTEGER', 'VARCHAR', 'TIMESTAMP WITH TIME ZONE'],
    );
    assert.deepEqual(written.rows, [
      {
        visit_id: 1,
        started: '2020-01-02T03:04:05Z',
        visits: 2,
        kind: 'visit',
        seen: '2020-01-02T00:00:00Z',
      },
    ]);
  });
});
