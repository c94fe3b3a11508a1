import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findDeclassifications, inheritRowFilters, ProjectionLineage } from '../../src/governance/index.ts';
import { definitions, field, projectionTask, roleDef, tableDef } from '../catalog/definition-builders.ts';

const patients = tableDef('clinical.patients', {
  fields: [
    field('patient_id', 1, 'VARCHAR', { primaryKey: true }),
    field('ssn', 2, 'VARCHAR', { sensitivity: 'PHI', mask: 'HASH' }),
    field('email', 3, 'VARCHAR', { sensitivity: 'PII', mask: 'EMAIL_DOMAIN' }),
    field('state', 4, 'VARCHAR'),
  ],
});

describe('findDeclassifications', () => {
  test('a declared field derived from a sensitive column without a sensitivity of its own is listed', async () => {
    const keys = tableDef('analytics.keys', {
      fields: [
        field('patient_id', 1, 'VARCHAR'),
        field('person_key', 2, 'VARCHAR'),
        field('state', 3, 'VARCHAR'),
      ],
    });
    const found = await findDeclassifications(
      definitions({
        tables: [patients, keys],
        tasks: [
          projectionTask(
            'build_keys',
            'analytics.keys',
            'select patient_id, upper(ssn) || email as person_key, state from clinical.patients',
          ),
        ],
      }),
    );
    assert.deepEqual(found, [
      { table: 'analytics.keys', column: 'person_key', from: 'clinical.patients.ssn', sensitivity: 'PHI' },
    ]);
  });

  test('a declared sensitivity, an inferred target and an unrelated column are not declassifications', async () => {
    const declared = tableDef('analytics.keys', {
      fields: [field('person_key', 1, 'VARCHAR', { sensitivity: 'PII', mask: 'HASH' })],
    });
    const inferred = tableDef('analytics.inferred', { fields: undefined });
    const found = await findDeclassifications(
      definitions({
        tables: [patients, declared, inferred],
        tasks: [
          projectionTask('build_keys', 'analytics.keys', 'select ssn as person_key from clinical.patients'),
          projectionTask('build_inferred', 'analytics.inferred', 'select ssn, state from clinical.patients'),
        ],
      }),
    );
    assert.deepEqual(found, []);
  });

  test('sensitivity is followed through inferred tables to the declared column it started from', async () => {
    const summary = tableDef('analytics.summary', { fields: undefined });
    const export_ = tableDef('exports.partner', {
      fields: [field('key', 1, 'VARCHAR'), field('patients', 2, 'BIGINT')],
    });
    const found = await findDeclassifications(
      definitions({
        tables: [patients, summary, export_],
        tasks: [
          // Declared first: the upstream inferred table's lineage must still be computed before it.
          projectionTask(
            'build_export',
            'exports.partner',
            'select contact as key, count(*) as patients from analytics.summary group by contact',
          ),
          projectionTask(
            'build_summary',
            'analytics.summary',
            'select email as contact, state from clinical.patients',
          ),
        ],
      }),
    );
    assert.deepEqual(found, [
      { table: 'exports.partner', column: 'key', from: 'clinical.patients.email', sensitivity: 'PII' },
    ]);
  });

  test('a projection whose SQL does not parse declassifies nothing (validate reports it)', async () => {
    const keys = tableDef('analytics.keys', { fields: [field('person_key', 1, 'VARCHAR')] });
    const found = await findDeclassifications(
      definitions({
        tables: [patients, keys],
        tasks: [projectionTask('build_keys', 'analytics.keys', 'select ssn as person_key from where')],
      }),
    );
    assert.deepEqual(found, []);
  });

  test('one projection lineage computed for both reviews gives what each computes alone', async () => {
    const byState = tableDef('analytics.by_state', {
      fields: [field('person_key', 1, 'VARCHAR'), field('visits', 2, 'BIGINT')],
    });
    const repo = definitions({
      tables: [patients, byState],
      tasks: [
        projectionTask(
          'build_by_state',
          'analytics.by_state',
          'select ssn as person_key, count(*) as visits from clinical.patients group by ssn',
        ),
      ],
      roles: [roleDef('east', { rowFilters: { 'clinical.patients': "state = 'NY'" } })],
    });
    const lineage = await ProjectionLineage.of(repo);
    const declassifications = await findDeclassifications(repo, lineage);
    assert.deepEqual(declassifications, [
      {
        table: 'analytics.by_state',
        column: 'person_key',
        from: 'clinical.patients.ssn',
        sensitivity: 'PHI',
      },
    ]);
    assert.deepEqual(declassifications, await findDeclassifications(repo));
    const shared = await inheritRowFilters(repo, lineage);
    assert.deepEqual(
      shared.findings.map(({ table, upstream, columns }) => ({ table, upstream, columns })),
      [{ table: 'analytics.by_state', upstream: 'clinical.patients', columns: ['state'] }],
    );
    assert.deepEqual(shared.findings, (await inheritRowFilters(repo)).findings);
  });
});
