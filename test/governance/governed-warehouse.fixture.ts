import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type EngineSession } from '../../src/engines/engine.ts';
import {
  guardQuery,
  hashKeyLiteral,
  type AccessPrincipal,
  type GuardContext,
  type GuardedQuery,
  type ResolvedRelation,
} from '../../src/governance/index.ts';
import type { FieldDef, FieldType, RoleDef } from '../../src/model/index.ts';

/**
 * A real warehouse for governance tests: Parquet files in a temp folder holding sensitive values,
 * a role that denies `ssn`, masks PHI and filters rows by state, and a sandboxed DuckDB session
 * that can only read that folder.
 */

export const HASH_KEY = 'test-hash-key-do-not-use';

const at = { file: 'access/roles.yaml', line: 1, column: 1 };
const varchar: FieldType = { kind: 'scalar', sql: 'VARCHAR' };
const field = (name: string, number: number, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef => ({
  name,
  number,
  type,
  nullable: true,
  ...extra,
});

export const PATIENT_FIELDS: FieldDef[] = [
  field('patient_id', 1, varchar, { primaryKey: true }),
  field('ssn', 2, varchar, { sensitivity: 'PHI', mask: 'HASH' }),
  field('mrn', 3, varchar, { sensitivity: 'PHI', mask: 'HASH' }),
  field('first_name', 4, varchar, { sensitivity: 'PHI', mask: 'REDACT' }),
  field('birth_date', 5, { kind: 'scalar', sql: 'DATE' }, { sensitivity: 'PHI', mask: 'DATE_YEAR' }),
  field('zip', 6, varchar, { sensitivity: 'PHI', mask: 'ZIP3' }),
  field('state', 7, varchar),
  field('email', 8, varchar, { sensitivity: 'PII', mask: 'EMAIL_DOMAIN' }),
];

export const VISIT_FIELDS: FieldDef[] = [
  field('visit_id', 1, varchar, { primaryKey: true }),
  field('patient_id', 2, varchar),
  field('state', 3, varchar),
  field('cost', 4, { kind: 'scalar', sql: 'DOUBLE' }),
];

export const CLAIM_FIELDS: FieldDef[] = [field('claim_id', 1, varchar), field('secret', 2, varchar)];

type PatientRow = {
  patient_id: string;
  ssn: string;
  mrn: string;
  first_name: string;
  birth_date: string;
  zip: string;
  state: string;
  email: string;
};

const CURRENT_PATIENTS: PatientRow[] = [
  {
    patient_id: 'P-CA-1',
    ssn: '111-11-1111',
    mrn: 'MRN-CA-0001',
    first_name: 'Alicia',
    birth_date: '1980-05-17',
    zip: '94110',
    state: 'CA',
    email: 'alicia@calmail.org',
  },
  {
    patient_id: 'P-CA-2',
    ssn: '222-22-2222',
    mrn: 'MRN-CA-0002',
    first_name: 'Bertrand',
    birth_date: '1930-02-02',
    zip: '03601',
    state: 'CA',
    email: 'bertrand@calmail.org',
  },
  {
    patient_id: 'P-NY-1',
    ssn: '333-33-3333',
    mrn: 'MRN-NY-0003',
    first_name: 'Cordelia',
    birth_date: '1975-09-09',
    zip: '10001',
    state: 'NY',
    email: 'cordelia@nymail.org',
  },
  {
    patient_id: 'P-NY-2',
    ssn: '444-44-4444',
    mrn: 'MRN-NY-0004',
    first_name: 'Desmond',
    birth_date: '1966-01-30',
    zip: '10002',
    state: 'NY',
    email: 'desmond@nymail.org',
  },
];

/** Version 1 holds a patient who has since been removed: time travel must still be governed. */
const FIRST_PATIENTS: PatientRow[] = [
  {
    patient_id: 'P-CA-9',
    ssn: '999-99-9999',
    mrn: 'MRN-CA-0009',
    first_name: 'Evangeline',
    birth_date: '1990-12-12',
    zip: '90210',
    state: 'CA',
    email: 'evangeline@calmail.org',
  },
  {
    patient_id: 'P-NY-9',
    ssn: '888-88-8888',
    mrn: 'MRN-NY-0008',
    first_name: 'Fitzgerald',
    birth_date: '1955-03-03',
    zip: '10003',
    state: 'NY',
    email: 'fitzgerald@nymail.org',
  },
];

const VISITS = [
  { visit_id: 'V-CA-1', patient_id: 'P-CA-1', state: 'CA', cost: 120.5 },
  { visit_id: 'V-CA-2', patient_id: 'P-CA-2', state: 'CA', cost: 80 },
  { visit_id: 'V-NY-1', patient_id: 'P-NY-1', state: 'NY', cost: 999.25 },
];

const CLAIMS = [{ claim_id: 'C-1', secret: 'CLAIM-SECRET-777' }];

/** Strings that must never appear in a non-admin analyst's output: denied, masked, or from rows of another state. */
export const FORBIDDEN_STRINGS: string[] = [
  ...[...CURRENT_PATIENTS, ...FIRST_PATIENTS].flatMap((row) => [row.ssn, row.mrn, row.first_name, row.email]),
  ...[...CURRENT_PATIENTS, ...FIRST_PATIENTS]
    .filter((row) => row.state === 'NY')
    .map((row) => row.patient_id),
  'V-NY-1',
  '999.25',
  'CLAIM-SECRET-777',
  'nymail',
  '1980-05-17',
  '94110',
  HASH_KEY,
];

export const ANALYST_ROLE: RoleDef = {
  name: 'analyst',
  members: ['group:analytics'],
  grants: ['clinical.*'],
  denyColumns: { 'clinical.patients': ['ssn'] },
  rowFilters: {
    'clinical.patients': "state = principal_attr('state')",
    'clinical.visits': "state = principal_attr('state')",
  },
  unmask: [],
  at,
};

export const BILLING_ROLE: RoleDef = {
  name: 'billing',
  members: ['group:billing'],
  grants: ['billing.*'],
  denyColumns: {},
  rowFilters: {},
  unmask: [],
  at,
};

export const BOB: AccessPrincipal = {
  name: 'bob@example.org',
  groups: ['analytics'],
  attributes: { state: 'CA' },
};

export interface GovernedWarehouse {
  directory: string;
  engine: DuckdbEngine;
  /** A session locked to the warehouse folder, as user queries get. */
  sandbox: EngineSession;
  context(principal?: AccessPrincipal, roles?: RoleDef[]): GuardContext;
  /** Guard `sql` for `principal` (default: bob, an analyst in CA) and run it in the sandbox. */
  run(
    sql: string,
    principal?: AccessPrincipal,
  ): Promise<{ guarded: GuardedQuery; rows: Record<string, unknown>[] }>;
  close(): Promise<void>;
}

/** Write the warehouse and open the engine; call `close()` when done. */
export async function openGovernedWarehouse(): Promise<GovernedWarehouse> {
  const directory = await mkdtemp(join(tmpdir(), 'tessera-governance-'));
  const engine = await DuckdbEngine.create({ threads: 1 });
  const writer = await engine.openSession();
  const files: Record<string, string[]> = {};
  const write = async (key: string, select: string) => {
    await mkdir(join(directory, key), { recursive: true });
    const path = join(directory, key, 'part-0.parquet');
    await writer.run(`COPY (${select}) TO ${quoteLiteral(path)} (FORMAT parquet)`);
    files[key] = [path];
  };
  await write('clinical.patients/1', patientsSelect(FIRST_PATIENTS));
  await write('clinical.patients/2', patientsSelect(CURRENT_PATIENTS));
  await write('clinical.visits/1', valuesSelect(VISITS, { cost: 'DOUBLE' }));
  await write('billing.claims/1', valuesSelect(CLAIMS));
  writer.close();

  const tables: Record<string, { fields: FieldDef[]; versions: number }> = {
    'clinical.patients': { fields: PATIENT_FIELDS, versions: 2 },
    'clinical.visits': { fields: VISIT_FIELDS, versions: 1 },
    'billing.claims': { fields: CLAIM_FIELDS, versions: 1 },
  };
  const resolveRelation: GuardContext['resolveRelation'] = async (request) => {
    const table = tables[request.table];
    if (!table) return undefined;
    let version = table.versions;
    if (request.at?.unit === 'VERSION') version = request.at.value;
    if (request.at?.unit === 'TIMESTAMP') version = request.at.value < '2026-01-01' ? 1 : table.versions;
    const paths = files[`${request.table}/${version}`];
    if (!paths) return undefined;
    const relation: ResolvedRelation = {
      sql: `read_parquet([${paths.map(quoteLiteral).join(', ')}])`,
      fields: table.fields,
    };
    return relation;
  };
  const context = (
    principal: AccessPrincipal = BOB,
    roles: RoleDef[] = [ANALYST_ROLE, BILLING_ROLE],
  ): GuardContext => ({
    principal,
    roles,
    resolveRelation,
    // The key lives in a session variable, so it is never part of the SQL text (nor of error messages).
    masks: { hashKeySql: "getvariable('tessera_hash_key')", asOfDateSql: "DATE '2026-11-26'" },
  });
  const sandbox = await engine.openSession({ sandbox: { allowedDirectories: [directory] } });
  await sandbox.run(`SET VARIABLE tessera_hash_key = ${hashKeyLiteral(HASH_KEY)}`);
  return {
    directory,
    engine,
    sandbox,
    context,
    async run(sql, principal = BOB) {
      const guarded = await guardQuery(sql, context(principal));
      const result = await sandbox.query(guarded.sql);
      return { guarded, rows: result.rows };
    },
    async close() {
      sandbox.close();
      await engine.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

function patientsSelect(rows: PatientRow[]): string {
  return valuesSelect(rows, { birth_date: 'DATE' });
}

function valuesSelect(rows: Record<string, string | number>[], types: Record<string, string> = {}): string {
  const columns = Object.keys(rows[0]!);
  const values = rows
    .map(
      (row) =>
        `(${columns.map((column) => (typeof row[column] === 'number' ? String(row[column]) : quoteLiteral(String(row[column])))).join(', ')})`,
    )
    .join(', ');
  const select = columns.map((column) =>
    types[column] ? `CAST(${column} AS ${types[column]}) AS ${column}` : column,
  );
  return `SELECT ${select.join(', ')} FROM (VALUES ${values}) AS t(${columns.join(', ')})`;
}
