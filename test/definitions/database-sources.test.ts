// `source: { type: postgres | mysql, url, table | query, cursor }` in task YAML: what validate accepts
// and the problems it reports at the offending key, with the fix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadDefinitions } from '../../src/definitions/index.ts';
import { OWNER_YAML, PATIENT_PROTO, formatted, tableYaml, writeCatalogRepo } from './catalog-repo-fixture.ts';

async function load(source: string, env: Record<string, string> = {}, mode = 'merge') {
  const root = await writeCatalogRepo({
    'tessera.yaml': 'name: t\ngovernance:\n  hash_key: ${TESSERA_HASH_KEY}\n',
    'owners/o.yaml': OWNER_YAML,
    'schemas/test.proto': PATIENT_PROTO,
    'tables/t.yaml': tableYaml('clinical.patients', 'clinical.Patient'),
    'tasks/t.yaml': `kind: task
name: load_patients
type: ingestion
target: clinical.patients
mode: ${mode}
source:
${source}`,
  });
  return loadDefinitions(root, { env: { TESSERA_HASH_KEY: 'test-key', ...env }, cache: false });
}

describe('database sources in task YAML', () => {
  it('reads url, table and cursor, with the password from the environment', async () => {
    const { definitions, diagnostics } = await load(
      '  type: postgres\n  url: postgres://reader:${PGPASSWORD}@db.internal:5432/ehr\n  table: public.patients\n  cursor: updated_at\n',
      { PGPASSWORD: 'hunter22' },
    );
    assert.deepEqual(formatted(diagnostics), []);
    assert.deepEqual(definitions.tasks[0]!.source, {
      type: 'postgres',
      options: {},
      columns: {},
      database: {
        url: 'postgres://reader:hunter22@db.internal:5432/ehr',
        table: 'public.patients',
        cursor: 'updated_at',
      },
    });
  });

  it('accepts a whole URL from one variable, and a query instead of a table', async () => {
    const { definitions, diagnostics } = await load(
      '  type: mysql\n  url: ${EHR_DB_URL}\n  query: select * from patients where active\n',
      { EHR_DB_URL: 'mariadb://reader:hunter22@db.internal/ehr' },
      'replace',
    );
    assert.deepEqual(formatted(diagnostics), []);
    assert.equal(definitions.tasks[0]!.source?.database?.query, 'select * from patients where active');
  });

  it('refuses a password written into the repo, never echoing it', async () => {
    const { diagnostics } = await load(
      '  type: postgres\n  url: postgres://reader:hunter22@db.internal:5432/ehr\n  table: patients\n',
    );
    assert.deepEqual(formatted(diagnostics), [
      'tasks/t.yaml:8:8: error plain-secret: task load_patients: the password in `source.url` is written in the repo, where everyone who can read it sees it; give it as `${VAR}` (e.g. `postgres://USER:${PGPASSWORD}@HOST:5432/DATABASE`) and export the variable where tessera runs',
    ]);
  });

  it('reports a missing url, a missing table or query, and a cursor on mode replace, each at its key', async () => {
    const { diagnostics } = await load('  type: mysql\n  cursor: updated_at\n', {}, 'replace');
    assert.deepEqual(formatted(diagnostics), [
      'tasks/t.yaml:6:1: error missing-key: task load_patients: a mysql source needs a `url`, e.g. `url: mysql://USER:${MYSQL_PASSWORD}@HOST:3306/DATABASE`',
      'tasks/t.yaml:6:1: error missing-key: task load_patients: a mysql source needs a `table` (e.g. `table: public.orders`) or a `query` (a SELECT)',
      'tasks/t.yaml:8:11: error invalid-value: task load_patients: with `source.cursor`, each run reads only the rows changed since the last one, and mode replace would publish just those as the whole table; set `mode: merge` (changed rows replace theirs by primary key) or `mode: append`',
    ]);
  });

  it('reports a URL of the wrong scheme, both table and query, and a table name it cannot quote', async () => {
    const { diagnostics } = await load(
      '  type: postgres\n  url: mysql://db.internal/ehr\n  table: "patients; drop table x"\n  query: select 1\n',
    );
    assert.deepEqual(formatted(diagnostics), [
      'tasks/t.yaml:8:8: error invalid-value: task load_patients: `source.url` is not a postgres URL; write it as `postgres://USER:${PGPASSWORD}@HOST:5432/DATABASE` (postgres:// or postgresql://)',
      'tasks/t.yaml:9:10: error invalid-value: task load_patients: `source.table` must be `name` or `schema.name` (letters, digits, _ and $); for anything else write a `query`',
      'tasks/t.yaml:10:3: error unexpected-key: task load_patients: a postgres source reads a `table` or a `query`, not both; remove one',
    ]);
  });

  it('refuses database keys on a file source', async () => {
    const { diagnostics } = await load(
      '  type: csv\n  uri: patients.csv\n  cursor: updated_at\n',
      {},
      'append',
    );
    assert.deepEqual(formatted(diagnostics), [
      'tasks/t.yaml:9:3: error unexpected-key: task load_patients: `cursor` belongs to database sources (type postgres or mysql); a csv source reads the files at `uri`',
    ]);
  });
});
