import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CheckResult, Incident, Run } from '../../src/model/index.ts';
import { incidentKeys, notificationCause, runOutcomeEvents } from '../../src/notify/run-events.ts';

const run = (patch: Partial<Run>): Run => ({
  id: 'r1',
  task: 'ingest_members',
  status: 'failed',
  attempt: 1,
  trigger: 'manual',
  queuedAt: '2026-12-06T00:00:00.000Z',
  ...patch,
});
const check = (severity: 'error' | 'warn'): CheckResult => ({
  expectation: 'expect_column_values_to_not_be_null',
  args: { column: 'dob' },
  severity,
  success: false,
  unexpectedCount: 3,
  elementCount: 10,
});
const incident = (key: string): Incident => ({
  id: key,
  key,
  kind: 'task_failed',
  severity: 'error',
  task: 'ingest_members',
  cause: 'care.members not published: boom',
  status: 'open',
  openedAt: '2026-12-06T00:00:00.000Z',
  notifiedAt: '2026-12-06T00:00:00.000Z',
  eventCount: 1,
});
const at = '2026-12-06T01:00:00.000Z';

describe('the events a run outcome means', () => {
  test('a failure is a task_failed naming the table and the cause; a failure that will be retried is nothing yet', () => {
    const failed = run({ error: 'data/members.csv: required field `dob` is missing\n  more detail' });
    const [event, ...rest] = runOutcomeEvents({
      run: failed,
      table: 'care.members',
      failedChecks: [],
      openIncidents: [],
      at,
    });
    assert.deepEqual(rest, []);
    assert.equal(event?.kind, 'task_failed');
    assert.equal(event?.incidentKey, incidentKeys.taskFailed('ingest_members'));
    assert.equal(
      event?.cause,
      'care.members not published: data/members.csv: required field `dob` is missing',
    );
    assert.deepEqual(
      runOutcomeEvents({
        run: failed,
        table: 'care.members',
        failedChecks: [],
        openIncidents: [],
        willRetry: true,
        at,
      }),
      [],
    );
  });

  test('checks that stopped publication are validation_failed; warn-level ones on a published version are a warning', () => {
    const [stopped] = runOutcomeEvents({
      run: run({ error: 'validation failed' }),
      table: 'care.members',
      failedChecks: [check('error')],
      openIncidents: [],
      at,
    });
    assert.equal(stopped?.kind, 'validation_failed');
    assert.equal(stopped?.severity, 'error');
    const [warned] = runOutcomeEvents({
      run: run({ status: 'succeeded' }),
      table: 'care.members',
      failedChecks: [check('warn')],
      openIncidents: [],
      publishedVersion: 4,
      at,
    });
    assert.equal(warned?.severity, 'warning');
    assert.equal(
      warned?.cause,
      'care.members published version 4 with warnings: expect_column_values_to_not_be_null(dob): 3 of 10 rows unexpected',
    );
  });

  test('a success recovers every open incident of the task, but a warning that comes back stays open', () => {
    const open = [
      incident(incidentKeys.taskFailed('ingest_members')),
      incident(incidentKeys.validationWarned('ingest_members')),
    ];
    const clean = runOutcomeEvents({
      run: run({ status: 'succeeded' }),
      table: 'care.members',
      failedChecks: [],
      openIncidents: open,
      publishedVersion: 5,
      at,
    });
    assert.deepEqual(
      clean.map((event) => [event.kind, event.incidentKey]),
      open.map((entry) => ['recovered', entry.key]),
    );
    const stillWarning = runOutcomeEvents({
      run: run({ status: 'succeeded' }),
      table: 'care.members',
      failedChecks: [check('warn')],
      openIncidents: open,
      at,
    });
    assert.deepEqual(
      stillWarning.map((event) => [event.kind, event.incidentKey]),
      [
        ['validation_failed', incidentKeys.validationWarned('ingest_members')],
        ['recovered', incidentKeys.taskFailed('ingest_members')],
      ],
    );
    assert.deepEqual(
      runOutcomeEvents({
        run: run({ status: 'skipped' }),
        table: 'care.members',
        failedChecks: [],
        openIncidents: open,
        at,
      }),
      [],
    );
  });

  test('a quoted value never reaches a notification; names in backticks and apostrophes stay', () => {
    assert.equal(
      notificationCause(
        "Conversion Error: Could not convert string '987-65-4321' to INT32 in `ssn`, the table's column",
      ),
      "Conversion Error: Could not convert string [value not shown] to INT32 in `ssn`, the table's column",
    );
    assert.equal(
      notificationCause('bad rows:\n  line 2: value "x\'y" is not a date'),
      'bad rows: line 2: value [value not shown] is not a date',
    );
  });
});
