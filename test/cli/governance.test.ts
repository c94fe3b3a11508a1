// Governance through the real CLI on the healthcare example (SPEC §1 Access, §5): masks, denied
// columns, row filters, grants, tokens, the audit log, `store: deidentified`, precomputed hashes
// and the declassifications `plan` lists.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCatalogStore } from '../../src/catalog/open-catalog-store.ts';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral } from '../../src/engines/engine.ts';
import { TokenService } from '../../src/governance/token-service.ts';
import { writeFiles, writeRepo, type CliResult } from '../support/cli.ts';
import { tesseraInProcess } from '../support/in-process-cli.ts';

const HASH_KEY = 'governance-test-key';
const ROTATED_KEY = 'governance-test-key-rotated';
const ANALYST = 'bob@example.org';
const CLINICIAN = 'carol@example.org';
const NO_GRANT = 'dave@example.org';
const SSN_PATTERN = /^\d{3}-\d{2}-\d{4}$/;
const HEX_64 = /^[0-9a-f]{64}$/;
/** A raw SSN only the de-identified table's source holds, on a row whose birth date is bad. */
const BAD_ROW_SSN = '987-65-4329';
const BAD_ROW_BIRTH_DATE = '31/02/1970-raw';

const hmac = (value: string, key = HASH_KEY) => createHmac('sha256', key).update(value).digest('hex');

/** A de-identified copy of the patients table, and a declared projection that declassifies the SSN. */
const extraFiles = {
  'tables/governance.yaml': `kind: table
name: clinical.patients_deidentified
owner: clinical-data
description: Patients as stored for research sharing; raw identifiers never land.
schema: schemas/clinical.proto#clinical.Patient
store: deidentified
---
kind: table
name: analytics.person_keys
owner: analytics
description: A join key per patient for a partner.
schema: schemas/keys.proto#analytics.PersonKey
`,
  'schemas/keys.proto': `syntax = "proto3";
package analytics;
import "tessera/options.proto";

// One row per patient.
message PersonKey {
  string patient_id = 1 [(tessera.field) = { primary_key: true }];
  string person_key = 2;
}
`,
  'tasks/governance.yaml': `kind: task
name: ingest_patients_deidentified
type: ingestion
target: clinical.patients_deidentified
source:
  type: csv
  uri: data/deidentified/patients.csv
  options: { delimiter: ',', header: true, null_values: [''], timestamp_formats: ['%m/%d/%Y'] }
  columns: { Id: patient_id, BIRTHDATE: birth_date, DEATHDATE: death_date }
bad_rows: { action: quarantine, max_fraction: 0.01 }
---
kind: task
name: build_person_keys
type: projection
target: analytics.person_keys
sql: select patient_id, ssn as person_key from clinical.patients
`,
  // The keys drop \`state\`, so the patients' row filter cannot follow them: someone must decide.
  'access/partners.yaml': `kind: role
name: partner-exports
members: [group:partners]
grants:
  - tables: [analytics.person_keys]
row_filters: { analytics.person_keys: "true" }
`,
};

describe('governance through the CLI on the healthcare example', () => {
  let repo: string;
  const cli = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    tesseraInProcess(args, { cwd: repo, env: { TESSERA_HASH_KEY: HASH_KEY, TESSERA_TOKEN: '', ...env } });
  const query = async (
    sql: string,
    as?: string,
    env: Record<string, string> = {},
  ): Promise<Record<string, unknown>[]> => {
    const result = await cli(['query', sql, '--format', 'json', ...(as ? ['--as', as] : [])], env);
    assert.equal(result.code, 0, `${sql} as ${as ?? 'local-admin'}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>[];
  };

  before(async () => {
    repo = join(await mkdtemp(join(tmpdir(), 'tessera-governance-')), 'clinical');
    const init = await tesseraInProcess(['init', repo, '--example', 'healthcare', '--rows', '500']);
    assert.equal(init.code, 0, init.stderr);
    const patients = await readFile(join(repo, 'data/patients.csv'), 'utf8');
    await writeFiles(repo, {
      ...extraFiles,
      'data/deidentified/patients.csv': `${patients.trimEnd()}\nP999999,${BAD_ROW_SSN},Zed,Quarry,${BAD_ROW_BIRTH_DATE},,F,CA,94110,,10.00\n`,
    });
    const apply = await cli(['apply']);
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    const run = await cli(['--json', 'run', '--all']);
    assert.equal(run.code, 0, run.stdout + run.stderr);
  });

  after(async () => {
    await rm(join(repo, '..'), { recursive: true, force: true });
  });

  test('an analyst sees hashed SSNs that join across tables, year-only birth dates, ZIP3 and their state only', async () => {
    const rows = await query('select * from clinical.patients', ANALYST);
    assert.ok(rows.length > 10, 'the analyst sees some patients');
    const all = await query('select count(*) as n, count(distinct state) as states from clinical.patients');
    assert.ok(rows.length < Number(all[0]!.n), 'but fewer than exist');
    for (const row of rows) {
      assert.equal(row.state, 'CA');
      assert.match(String(row.ssn), HEX_64);
      assert.match(String(row.birth_date), /^\d{4}-01-01T00:00:00Z$/);
      assert.match(String(row.zip), /^\d{3}$/);
      assert.equal(row.first_name, '[REDACTED]');
      assert.ok(!('last_name' in row), 'a denied column is absent from select *');
      assert.ok(!('ssn__hash' in row), 'precomputed hash columns are never columns of the table');
    }

    // The same keyed hash in both tables: the masked columns still join.
    const clear = await query(
      `select patient_id, ssn from clinical.patients where state = 'CA' order by patient_id limit 1`,
    );
    const [mine] = await query(
      `select ssn from clinical.patients where patient_id = '${String(clear[0]!.patient_id)}'`,
      ANALYST,
    );
    assert.equal(mine!.ssn, hmac(String(clear[0]!.ssn)), 'HASH is HMAC-SHA256 under the project key');
    const joined = await query(
      `select p.patient_id, p.ssn, c.subscriber_ssn, c.patient_id as claim_patient
       from clinical.patients p join clinical.claims c on c.subscriber_ssn = p.ssn`,
      ANALYST,
    );
    assert.ok(joined.length > 0, 'the join on hashed SSNs returns rows');
    for (const row of joined) {
      assert.equal(row.ssn, row.subscriber_ssn);
      assert.equal(row.patient_id, row.claim_patient, 'hashed SSNs match the same patient in both tables');
    }
  });

  test('claims and encounters follow their patients: an analyst reads only those of their state', async () => {
    const sql = (table: string) =>
      `select count(*) as n, count(distinct patient_id) as patients from clinical.${table}`;
    const expected = async (table: string) =>
      (
        await query(
          `select count(*) as n from clinical.${table} x
           where x.patient_id in (select patient_id from clinical.patients where state = 'CA')`,
        )
      )[0]!.n;
    for (const table of ['claims', 'encounters']) {
      const [all] = await query(sql(table));
      const [mine] = await query(sql(table), ANALYST);
      assert.equal(mine!.n, await expected(table), `${table}: exactly those of CA patients`);
      assert.ok(Number(mine!.n) > 0 && Number(mine!.n) < Number(all!.n), `${table}: some, not all`);
    }
    const summary = await query('select distinct state from analytics.patient_summary', ANALYST);
    assert.deepEqual(summary, [{ state: 'CA' }], 'the reviewed summary keeps its declared filter');
  });

  test('an analyst naming a denied column gets "column not found"', async () => {
    const denied = await cli(['query', 'select last_name from clinical.patients', '--as', ANALYST]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /column "last_name" not found/i);
    assert.doesNotMatch(denied.stderr, /warehouse|read_parquet/, 'no storage path in the message');
  });

  test('a clinician with unmask: [PHI] sees clear values', async () => {
    const rows = await query(
      'select ssn, birth_date, zip, last_name, state from clinical.patients',
      CLINICIAN,
    );
    assert.equal(rows.length, 500, 'no row filter for the clinician');
    assert.ok(rows.every((row) => SSN_PATTERN.test(String(row.ssn))));
    assert.ok(
      rows.some((row) => !String(row.birth_date).includes('-01-01T')),
      'full birth dates',
    );
    assert.ok(rows.every((row) => /^\d{5}$/.test(String(row.zip))));
    assert.ok(rows.every((row) => typeof row.last_name === 'string' && row.last_name !== '[REDACTED]'));
    assert.ok(new Set(rows.map((row) => row.state)).size > 1);
  });

  test('a principal with no grant gets "table not found"', async () => {
    const result = await cli(['query', 'select * from clinical.patients', '--as', NO_GRANT]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /table clinical\.patients not found/);
    const undeclared = await cli(['query', 'select 1', '--as', 'mallory@example.org']);
    assert.equal(undeclared.code, 2);
    assert.match(undeclared.stderr, /principal mallory@example\.org is not declared/);
  });

  test('tokens: printed once, act as their principal, list without secrets, refused once revoked or expired', async () => {
    const created = await cli(['--json', 'token', 'create', '--principal', ANALYST, '--expires-in', '30d']);
    assert.equal(created.code, 0, created.stderr);
    const { token, id, expiresAt } = JSON.parse(created.stdout) as {
      token: string;
      id: string;
      expiresAt: string;
    };
    assert.match(token, /^tsr_[A-Za-z0-9_-]{43}$/);
    const days = (Date.parse(expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in 30 days, not ${days}`);

    const viaToken = await cli([
      'query',
      'select distinct state from clinical.patients',
      '--token',
      token,
      '--format',
      'json',
    ]);
    assert.equal(viaToken.code, 0, viaToken.stderr);
    assert.deepEqual(JSON.parse(viaToken.stdout), [{ state: 'CA' }], 'the token acts as the analyst');
    const viaEnv = await cli(['query', 'select distinct state from clinical.patients', '--format', 'json'], {
      TESSERA_TOKEN: token,
    });
    assert.deepEqual(JSON.parse(viaEnv.stdout), [{ state: 'CA' }], 'TESSERA_TOKEN works like --token');

    const list = await cli(['token', 'list']);
    assert.match(list.stdout, new RegExp(`${id}\\s+${ANALYST.replaceAll('.', '\\.')}\\s+active`));
    assert.ok(!list.stdout.includes(token.slice(4, 20)), 'no secret in the list');
    for (const file of ['catalog.db', 'catalog.db-wal']) {
      const bytes = await readFile(join(repo, '.tessera', file)).catch(() => Buffer.alloc(0));
      assert.ok(!bytes.includes(Buffer.from(token)), `the catalog (${file}) never holds the token itself`);
    }

    assert.equal((await cli(['token', 'revoke', id])).code, 0);
    const revoked = await cli(['query', 'select 1 as one', '--token', token]);
    assert.equal(revoked.code, 1);
    assert.match(revoked.stderr, /token is not valid: it is unknown, expired or revoked/);
    const listed = JSON.parse((await cli(['--json', 'token', 'list'])).stdout) as {
      id: string;
      status: string;
    }[];
    assert.equal(listed.find((entry) => entry.id === id)?.status, 'revoked');
    assert.equal((await cli(['token', 'revoke', 'no-such-id'])).code, 2);

    const shortLived = await cli(['--json', 'token', 'create', '--principal', ANALYST, '--expires-in', '1s']);
    const lifetime = JSON.parse(shortLived.stdout) as { createdAt: string; expiresAt: string };
    assert.equal(Date.parse(lifetime.expiresAt) - Date.parse(lifetime.createdAt), 1000);
    // A one-second token made two seconds ago, by a token service whose clock says so: expired,
    // without waiting for it.
    const store = await openCatalogStore(`sqlite:${join(repo, '.tessera', 'catalog.db')}`);
    let expiring: string;
    try {
      const earlier = new TokenService(store, {
        isDeclaredPrincipal: () => true,
        now: () => new Date(Date.now() - 2000),
      });
      expiring = (await earlier.create(ANALYST, 1000)).token;
    } finally {
      await store.close();
    }
    const expired = await cli(['query', 'select 1 as one', '--token', expiring]);
    assert.equal(expired.code, 1);
    assert.match(expired.stderr, /token is not valid/);

    const forNobody = await cli(['token', 'create', '--principal', 'mallory@example.org']);
    assert.equal(forNobody.code, 2);
    assert.match(forNobody.stderr, /principal mallory@example\.org is not declared/);
    assert.equal((await cli(['query', 'select 1', '--as', ANALYST, '--token', token])).code, 2);
  });

  test('the audit log records allowed and refused queries with what governance applied', async () => {
    const sql = `select ssn, zip from clinical.patients where gender = 'F' -- audit probe`;
    const allowed = await query(sql, ANALYST);
    const refusedSql = `select * from read_parquet('${join(repo, '.tessera/warehouse/clinical/patients')}/*/part-0.parquet')`;
    assert.equal((await cli(['query', refusedSql, '--as', ANALYST])).code, 1);
    assert.equal((await cli(['query', 'select * from clinical.providers', '--as', NO_GRANT])).code, 1);

    const json = await cli(['--json', 'audit', '--limit', '500']);
    assert.equal(json.code, 0, json.stderr);
    const entries = JSON.parse(json.stdout) as {
      principal: string;
      sql: string;
      outcome: string;
      reason?: string;
      tables: string[];
      columns: { table: string; column: string }[];
      masks: { table: string; column: string; mask: string }[];
      rowFilters: { table: string; filter: string }[];
      rowsReturned?: number;
      at: string;
    }[];
    const probe = entries.find((entry) => entry.sql === sql);
    assert.ok(probe, 'the allowed query is audited with its SQL as written');
    assert.equal(probe.principal, ANALYST);
    assert.equal(probe.outcome, 'allowed');
    assert.equal(probe.rowsReturned, allowed.length);
    assert.deepEqual(probe.tables, ['clinical.patients']);
    assert.deepEqual(probe.columns.map((column) => column.column).sort(), ['gender', 'ssn', 'zip']);
    assert.deepEqual(probe.masks.map((mask) => `${mask.column}:${mask.mask}`).sort(), [
      'ssn:HASH',
      'zip:ZIP3',
    ]);
    assert.deepEqual(probe.rowFilters, [
      { table: 'clinical.patients', filter: "state = principal_attr('state')" },
    ]);
    assert.ok(Math.abs(Date.parse(probe.at) - Date.now()) < 120_000);

    const fileRead = entries.find((entry) => entry.sql === refusedSql);
    assert.equal(fileRead?.outcome, 'refused');
    assert.match(fileRead?.reason ?? '', /read_parquet is not allowed/);
    const noGrant = entries.find((entry) => entry.sql === 'select * from clinical.providers');
    assert.deepEqual(
      { principal: noGrant?.principal, outcome: noGrant?.outcome, reason: noGrant?.reason },
      { principal: NO_GRANT, outcome: 'refused', reason: 'table clinical.providers not found' },
    );
    const denied = entries.find((entry) => entry.sql === 'select last_name from clinical.patients');
    assert.equal(denied?.outcome, 'failed', 'the guard let it through; the engine found no such column');

    // Never the hash key, never the rewritten SQL (it names storage paths).
    const keyHex = Buffer.from(HASH_KEY).toString('hex');
    const withoutUserSql = entries.map(({ sql: _sql, ...entry }) => entry);
    assert.doesNotMatch(JSON.stringify(withoutUserSql), /warehouse|read_parquet\(\[|__hash/);
    assert.ok(!json.stdout.includes(keyHex) && !json.stdout.includes(HASH_KEY));

    const mine = JSON.parse((await cli(['--json', 'audit', '--principal', NO_GRANT])).stdout) as {
      principal: string;
    }[];
    assert.ok(mine.length >= 2 && mine.every((entry) => entry.principal === NO_GRANT));
    const text = await cli(['audit', '--limit', '2']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /dave@example\.org\s+REFUSED/);
    assert.match(text.stdout, /reason: table clinical\.providers not found/);
  });

  test('store: deidentified writes masked values: raw values are in none of its Parquet files', async () => {
    const folder = join(repo, '.tessera/warehouse/clinical/patients_deidentified');
    const files = (await readdir(folder, { recursive: true }))
      .map(String)
      .filter((file) => file.includes('.'));
    assert.deepEqual(
      files.map((file) => file.replace(/^.*[/\\]/, '')),
      ['part-0.parquet'],
      'no incoming or quarantine file is left beside the version file',
    );
    const engine = await DuckdbEngine.create();
    const session = await engine.openSession();
    try {
      const path = quoteLiteral(join(folder, files[0]!));
      const stored = (await session.query(`SELECT * FROM read_parquet(${path})`)).rows;
      const source = (
        await session.query(
          `SELECT SSN AS ssn, first_name, last_name, BIRTHDATE AS birth FROM read_csv(${quoteLiteral(join(repo, 'data/patients.csv'))}, all_varchar = true)`,
        )
      ).rows;
      assert.equal(stored.length, 500, 'the bad row is quarantined, the others stored');
      const storedText = JSON.stringify(stored);
      for (const row of source) {
        assert.ok(!storedText.includes(String(row.ssn)), `raw SSN ${String(row.ssn)} is not stored`);
        assert.ok(!storedText.includes(`"${String(row.last_name)}"`), 'raw last names are not stored');
      }
      assert.ok(!storedText.includes(BAD_ROW_SSN));
      const hashedSource = new Set(source.map((raw) => hmac(String(raw.ssn))));
      for (const row of stored) {
        assert.ok(hashedSource.has(String(row.ssn)), 'the SSN is stored as HASH shows it');
        assert.match(String(row.birth_date), /-01-01/);
        assert.match(String(row.zip), /^\d{3}$/);
        assert.equal(row.last_name, '[REDACTED]');
      }
      const columns = Object.keys(stored[0]!);
      assert.ok(
        !columns.some((column) => column.endsWith('__hash')),
        'nothing to precompute: values are stored masked',
      );
    } finally {
      session.close();
      await engine.close();
    }

    // Readers see the stored values, masked once: the clinician's unmask has nothing to unmask.
    const [row] = await query(
      `select d.ssn, d.birth_date, p.ssn as clear_ssn from clinical.patients_deidentified d
       join clinical.patients p using (patient_id) order by patient_id limit 1`,
      CLINICIAN,
    );
    assert.equal(row!.ssn, hmac(String(row!.clear_ssn)), 'stored masked exactly as HASH shows it');
    assert.match(String(row!.birth_date), /^\d{4}-01-01T00:00:00Z$/);

    // Nor do raw values of the bad row reach the run's log.
    const [run] = JSON.parse(
      (await cli(['--json', 'runs', '--task', 'ingest_patients_deidentified'])).stdout,
    ) as {
      id: string;
    }[];
    const log = (await cli(['logs', run!.id])).stdout;
    assert.match(log, /1 bad rows quarantined/);
    assert.match(log, /column BIRTHDATE: value \[not shown: PHI\] is not a timestamp/);
    assert.ok(!log.includes(BAD_ROW_BIRTH_DATE) && !log.includes(BAD_ROW_SSN), log);
  });

  test('HASH reads the precomputed hash column, and falls back to hashing when the key has rotated', async () => {
    const engine = await DuckdbEngine.create();
    const session = await engine.openSession();
    try {
      const folder = join(repo, '.tessera/warehouse/clinical/patients');
      const metadata = await session.query(
        `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${quoteLiteral(`${folder}/*/part-0.parquet`)})`,
      );
      const byKey = Object.fromEntries(metadata.rows.map((row) => [row.key, row.value]));
      assert.deepEqual(JSON.parse(String(byKey['tessera.hash_digest_columns'])), {
        ssn: ['ssn__hash_hi', 'ssn__hash_lo'],
      });
      assert.match(String(byKey['tessera.hash_key_fingerprint']), /^[0-9a-f]{8}$/);
    } finally {
      session.close();
      await engine.close();
    }
    const [clear] = await query(
      `select ssn from clinical.patients where state = 'CA' order by patient_id limit 1`,
    );
    const sql = `select ssn from clinical.patients order by patient_id limit 1`;
    const [current] = await query(sql, ANALYST);
    assert.equal(current!.ssn, hmac(String(clear!.ssn)));
    const [rotated] = await query(sql, ANALYST, { TESSERA_HASH_KEY: ROTATED_KEY });
    assert.equal(
      rotated!.ssn,
      hmac(String(clear!.ssn), ROTATED_KEY),
      'the stored hash of the old key is not trusted',
    );

    const show = await cli(['--json', 'show', 'analytics.patient_summary']);
    const fields = (JSON.parse(show.stdout) as { fields: { name: string; mask?: string }[] }).fields;
    assert.deepEqual(
      fields.filter((field) => field.name.startsWith('ssn')),
      [fields.find((field) => field.name === 'ssn')],
      'a projection inherits HASH on ssn; its hash column is not a field',
    );
    assert.equal(fields.find((field) => field.name === 'ssn')?.mask, 'HASH');
  });

  test('plan lists the declassification a declared projection schema makes, and the runner honours it', async () => {
    const plan = await cli(['plan']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /No changes/);
    assert.match(plan.stdout, /Declassifications to review/);
    assert.match(plan.stdout, /analytics\.person_keys\.person_key\s+← clinical\.patients\.ssn \(PHI\)/);
    const json = JSON.parse((await cli(['--json', 'plan'])).stdout) as { declassifications: unknown[] };
    assert.deepEqual(json.declassifications, [
      {
        table: 'analytics.person_keys',
        column: 'person_key',
        from: 'clinical.patients.ssn',
        sensitivity: 'PHI',
      },
    ]);

    // A declared schema is authoritative: the declassified column is stored and shown in clear.
    const rows = await query('select person_key from analytics.person_keys limit 5', ANALYST);
    assert.ok(rows.length > 0 && rows.every((row) => SSN_PATTERN.test(String(row.person_key))));

    // Declaring the sensitivity keeps it protected, and the plan no longer lists it.
    await writeFile(
      join(repo, 'schemas/keys.proto'),
      extraFiles['schemas/keys.proto'].replace(
        'string person_key = 2;',
        'string person_key = 2 [(tessera.field) = { sensitivity: PHI, mask: HASH }];',
      ),
    );
    const protectedPlan = await cli(['--json', 'plan']);
    assert.deepEqual(
      (JSON.parse(protectedPlan.stdout) as { declassifications: unknown[] }).declassifications,
      [],
    );
  });
});

test('TESSERA_MODE=production: the CLI is nobody until a token says who, and the hash key is required', async () => {
  const repo = await writeRepo({
    'tessera.yaml':
      'name: prod\ngovernance:\n  profile: hipaa-safe-harbor\n  hash_key: ${TESSERA_HASH_KEY}\n',
  });
  const production = { TESSERA_MODE: 'production' };
  const validate = await tesseraInProcess(['validate'], { cwd: repo, env: production });
  assert.equal(validate.code, 2);
  assert.match(validate.stdout, /TESSERA_HASH_KEY/);
  const dev = await tesseraInProcess(['validate'], { cwd: repo });
  assert.equal(dev.code, 0, 'dev mode only warns');

  const keyed = { ...production, TESSERA_HASH_KEY: 'a-production-key' };
  assert.equal((await tesseraInProcess(['apply'], { cwd: repo, env: keyed })).code, 0);
  const anonymous = await tesseraInProcess(['query', 'select 1 as one'], { cwd: repo, env: keyed });
  assert.notEqual(anonymous.code, 0);
  assert.match(anonymous.stderr, /token/i);
});
