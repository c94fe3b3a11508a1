// `validate` binds each projection's SQL against empty tables of what it reads (declared schemas,
// and the columns inferred for upstream projections): unknown columns, functions and argument
// types are reported at their place in the .sql file, with did-you-mean from the upstream columns.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { formatted, OWNER_YAML, PATIENT_PROTO, tableYaml, writeCatalogRepo } from './catalog-repo-fixture.ts';

const projection = (name: string, target: string, sql: string) =>
  `kind: task\nname: ${name}\ntype: projection\ntarget: ${target}\nsql: ${sql}\n`;

/** patients (declared) → analytics.by_gender (inferred) → analytics.genders (inferred). */
function repoFiles(
  byGender: string,
  genders = 'select gender, patients from analytics.by_gender',
): Record<string, string> {
  return {
    'tessera.yaml': 'name: clinic\ngovernance:\n  hash_key: test-key\n',
    'owners/clinical-data.yaml': OWNER_YAML,
    'schemas/test.proto': PATIENT_PROTO,
    'tables/tables.yaml': [
      tableYaml('clinical.patients', 'clinical.Patient'),
      'kind: table\nname: analytics.by_gender\nowner: clinical-data\n',
      'kind: table\nname: analytics.genders\nowner: clinical-data\n',
    ].join('---\n'),
    'tasks/tasks.yaml': [
      'kind: task\nname: ingest_patients\ntype: ingestion\ntarget: clinical.patients\nsource: { type: csv, uri: data/patients.csv }\n',
      projection('build_by_gender', 'analytics.by_gender', 'sql/by_gender.sql'),
      projection('build_genders', 'analytics.genders', JSON.stringify(genders)),
    ].join('---\n'),
    'sql/by_gender.sql': byGender,
  };
}

const errors = async (files: Record<string, string>, cache = false) => {
  const root = await writeCatalogRepo(files);
  try {
    const { diagnostics } = await loadDefinitions(root, { env: {}, cache });
    return formatted(diagnostics.filter((diagnostic) => diagnostic.severity === 'error'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
};

describe('projection SQL bound by validate', () => {
  it('passes SQL that binds, through a chain of inferred projections', async () => {
    assert.deepEqual(
      await errors(
        repoFiles('select gender, count(*) as patients\nfrom clinical.patients\ngroup by gender\n'),
      ),
      [],
    );
  });

  it('reports an unknown column at its line and column in the .sql file, with did-you-mean', async () => {
    assert.deepEqual(
      await errors(
        repoFiles(
          '-- per gender\nselect p.gendr, count(*) as patients\nfrom clinical.patients p\ngroup by 1\n',
        ),
      ),
      [
        'sql/by_gender.sql:2:8: error unknown-column: task build_by_gender: column `gendr` is not a column of clinical.patients (did you mean `gender`?)',
      ],
      'the downstream projection, whose input is unknown now, is not reported too',
    );
  });

  it('checks a projection against the columns inferred for the one it reads', async () => {
    assert.deepEqual(
      await errors(
        repoFiles(
          'select gender, count(*) as patients from clinical.patients group by gender',
          'select gender, patient from analytics.by_gender',
        ),
      ),
      [
        'tasks/tasks.yaml:17:22: error unknown-column: task build_genders: column `patient` is not a column of analytics.by_gender (did you mean `patients`?)',
      ],
    );
  });

  it('reports unknown functions and argument types no function takes', async () => {
    assert.deepEqual(
      await errors(repoFiles('select gender,\n  cont(*) as patients\nfrom clinical.patients group by 1')),
      [
        'sql/by_gender.sql:2:3: error unknown-function: task build_by_gender: `cont` is not a function (did you mean `count`?)',
      ],
    );
    assert.deepEqual(
      await errors(repoFiles('select gender, upper(healthcare_expenses) as patients from clinical.patients')),
      [
        'sql/by_gender.sql:1:16: error sql-type: task build_by_gender: no function matches the argument types of `upper(DOUBLE)`; it takes upper(VARCHAR); cast the arguments, e.g. CAST(x AS VARCHAR)',
      ],
    );
  });

  it('never reads a file while binding: table functions over files are left to the run', async () => {
    assert.deepEqual(
      await errors(repoFiles("select gender, 1 as patients from read_csv('/etc/passwd'), clinical.patients")),
      [],
    );
  });

  it('leaves to the run what reads a table in a namespace DuckDB reserves', async () => {
    const files = repoFiles('select gender, count(*) as patients from clinical.patients group by 1');
    files['tables/tables.yaml'] = files['tables/tables.yaml']!.replaceAll(
      'clinical.patients',
      'temp.patients',
    );
    files['tasks/tasks.yaml'] = files['tasks/tasks.yaml']!.replaceAll('clinical.patients', 'temp.patients');
    files['sql/by_gender.sql'] = 'select gendr, count(*) as patients from temp.patients group by 1';
    assert.deepEqual(await errors(files), []);
  });

  it('keeps what binding found in the cache, keyed by the SQL and the upstream schemas', async () => {
    const files = repoFiles('select p.gendr, count(*) as patients from clinical.patients p group by 1');
    const root = await writeCatalogRepo(files);
    try {
      const expected = [
        'sql/by_gender.sql:1:8: error unknown-column: task build_by_gender: column `gendr` is not a column of clinical.patients (did you mean `gender`?)',
      ];
      for (let run = 0; run < 2; run++) {
        const { diagnostics } = await loadDefinitions(root, { env: {} });
        assert.deepEqual(
          formatted(diagnostics.filter((d) => d.severity === 'error')),
          expected,
          `run ${run}`,
        );
      }
      // The same SQL against another upstream schema is bound again: `gendr` exists there, and
      // the projection reading its output learns the new columns.
      await writeFile(
        join(root, 'schemas/test.proto'),
        PATIENT_PROTO.replace('string gender     = 7', 'string gendr = 7'),
      );
      const { diagnostics } = await loadDefinitions(root, { env: {} });
      assert.deepEqual(formatted(diagnostics.filter((d) => d.severity === 'error')), [
        'tasks/tasks.yaml:17:14: error unknown-column: task build_genders: column `gender` is not a column of analytics.by_gender (did you mean `gendr`?)',
      ]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
