// With a PostgreSQL engine, `validate` holds every projection's SQL to the portable subset (SQL that
// gives the same rows on DuckDB and PostgreSQL): each construct outside it is a `non-portable-sql`
// error at its place in the .sql file or the inline `sql` value, saying what to write instead. SQL
// inside the subset validates cleanly, and with DuckDB nothing is checked. Role row filters, which
// run inside every governed query, are held to the same subset.
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { tesseraInProcess } from '../support/in-process-cli.ts';
import { OWNER_YAML, PATIENT_PROTO, tableYaml, writeCatalogRepo } from './catalog-repo-fixture.ts';

const projection = (name: string, target: string, sql: string) =>
  `kind: task\nname: ${name}\ntype: projection\ntarget: ${target}\nsql: ${sql}\n`;

/** patients (declared) → analytics.by_gender (a .sql file) → analytics.genders (inline SQL). */
function repoFiles(engine: string, byGender: string, genders: string): Record<string, string> {
  return {
    'tessera.yaml': `name: clinic\nengine: ${engine}\ngovernance:\n  hash_key: test-key\n`,
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

async function validate(files: Record<string, string>): Promise<{ code: number; lines: string[] }> {
  const repo = await writeCatalogRepo(files);
  try {
    const result = await tesseraInProcess(['--repo', repo, 'validate']);
    return {
      code: result.code,
      lines: result.stdout
        .trim()
        .split('\n')
        .filter((line) => line !== ''),
    };
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
}

const ENGINE = 'postgres://tessera@db.example:5432/warehouse';
const PORTABLE_BY_GENDER =
  "select gender, count(*) as patients,\n  max(extract(year from birth_date)) as last_year\nfrom clinical.patients\nwhere zip like '0%'\ngroup by gender\n";
const PORTABLE_GENDERS = 'select upper(gender) as gender, patients from analytics.by_gender';

describe('projection SQL with a PostgreSQL engine', () => {
  it('reports constructs outside the portable subset at their line and column, with what to write instead', async () => {
    const { code, lines } = await validate(
      repoFiles(
        ENGINE,
        "select gender, count(*) as patients,\n  strftime(max(birth_date), '%Y') as last_year\nfrom clinical.patients\ngroup by gender\n",
        'select gender, len(gender) as letters from analytics.by_gender',
      ),
    );
    assert.equal(code, 2, lines.join('\n'));
    const found = lines.filter((line) => line.includes('non-portable-sql'));
    assert.deepEqual(found, [
      'sql/by_gender.sql:2:3: error non-portable-sql: task build_by_gender: `strftime` is not portable between DuckDB and PostgreSQL; with a PostgreSQL engine format the value where it is read, or use `extract(… FROM …)`',
      'tasks/tasks.yaml:17:22: error non-portable-sql: task build_genders: `len` is not portable between DuckDB and PostgreSQL; with a PostgreSQL engine use `length(text)`',
    ]);
  });

  it('validates SQL inside the portable subset cleanly', async () => {
    const { code, lines } = await validate(repoFiles(ENGINE, PORTABLE_BY_GENDER, PORTABLE_GENDERS));
    assert.equal(code, 0, lines.join('\n'));
    assert.ok(!lines.some((line) => line.includes('error')), lines.join('\n'));
  });

  it('checks nothing with the DuckDB engine', async () => {
    const { code, lines } = await validate(
      repoFiles(
        'duckdb',
        "select gender, count(*) as patients,\n  strftime(max(birth_date), '%Y') as last_year\nfrom clinical.patients\ngroup by gender\n",
        'select gender, len(gender) as letters from analytics.by_gender',
      ),
    );
    assert.equal(code, 0, lines.join('\n'));
  });

  it('holds role row filters to the subset too, principal_attr and principal_name included', async () => {
    const role = (filter: string) =>
      `kind: role\nname: analyst\nmembers: [group:analytics]\ngrants:\n  - tables: ['clinical.*']\nrow_filters:\n  clinical.patients: ${JSON.stringify(filter)}\n`;
    const files = repoFiles(ENGINE, PORTABLE_BY_GENDER, PORTABLE_GENDERS);
    const clean = await validate({
      ...files,
      'access/roles.yaml': role("zip like principal_attr('zip3') || '%' or principal_name() = 'admin'"),
    });
    assert.equal(clean.code, 0, clean.lines.join('\n'));
    const { code, lines } = await validate({
      ...files,
      'access/roles.yaml': role("list_contains(['CA', 'NY'], principal_attr('state'))"),
    });
    assert.equal(code, 2, lines.join('\n'));
    assert.deepEqual(
      lines.filter((line) => line.includes('non-portable-sql')),
      [
        'access/roles.yaml:7:22: error non-portable-sql: role analyst: the row filter on clinical.patients: lists (`[1, 2]`) are DuckDB-only; with a PostgreSQL engine write `x IN (1, 2)` or `ARRAY[1, 2]`',
        'access/roles.yaml:7:23: error non-portable-sql: role analyst: the row filter on clinical.patients: `list_contains` is not portable between DuckDB and PostgreSQL; with a PostgreSQL engine use `x IN (…)`',
      ],
    );
  });
});
