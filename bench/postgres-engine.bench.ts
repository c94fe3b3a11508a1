// `engine: postgres://…` against what PostgreSQL (or DuckDB) does alone, side by side in this
// process, on one ingested table of 1,000,000 patients (SSN with a HASH mask, birth date with
// DATE_YEAR, a row filter on the state for the analyst) and one projection over it:
//   1. loading a version: `EngineVersions`' load (DuckDB writes the version as CSV, `COPY … FROM
//      STDIN`) vs PostgreSQL alone copying the same CSV into a plain table; and the whole ingestion
//      run (conform + publish + load) vs the same run with `engine: duckdb`;
//   2. governed queries: `Platform.query` as the analyst vs the same SQL written by hand with the
//      same masks' SQL and filter, run with `pg` on the version table (an aggregate; a selective
//      query returning about 100 masked rows);
//   3. the projection: a run on PostgreSQL vs on DuckDB, and vs its SELECT run alone in PostgreSQL
//      with `COPY … TO STDOUT` into a file.
// Each PostgreSQL repo gets a database of its own, dropped afterwards. The source Parquet file
// is generated once and cached under bench/.data/.
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { DuckdbEngine } from '../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type VersionColumn } from '../src/engines/engine.ts';
import { postgresDialect } from '../src/engines/postgres/postgres-dialect.ts';
import { PostgresEngine } from '../src/engines/postgres/postgres-engine.ts';
import { Platform } from '../src/platform.ts';
import { internalsOf } from '../src/platform/internals.ts';
import { EngineVersions, tableRelation } from '../src/runner/index.ts';
import { measure, median, type Timing } from './timing.ts';

const PATIENTS = Number(process.env.POSTGRES_ENGINE_BENCH_ROWS ?? 1_000_000);
/** Rounds of the runs and loads (each side once per round, alternating who goes first). */
const ROUNDS = Number(process.env.POSTGRES_ENGINE_BENCH_ROUNDS ?? 3);
/** Rounds of each query. */
const QUERY_ROUNDS = 9;
const SERVER = process.env.TESSERA_BENCH_POSTGRES_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const HASH_KEY = 'postgres-engine-bench-key';
const ANALYST = 'bob@example.org';
/** Bump when the generated source changes shape, so an old cache is not reused. */
const DATA_VERSION = 1;
const TABLE = 'bench.patients';
const VERSION_TABLE = postgresDialect.identifier(`${TABLE}__v1`);

const REPO_FILES: Record<string, string> = {
  'tessera.yaml': `name: postgres-engine-bench
governance:
  profile: hipaa-safe-harbor
  hash_key: \${TESSERA_HASH_KEY}
`,
  'owners/bench.yaml': 'kind: owner\nname: bench\nmembers: [bench@example.org]\n',
  'schemas/bench.proto': `syntax = "proto3";
package bench;
import "tessera/options.proto";
import "google/type/date.proto";

// One patient.
message Patient {
  string patient_id = 1 [(tessera.field) = { primary_key: true }];
  string ssn = 2 [(tessera.field) = { sensitivity: PHI, mask: HASH }];
  google.type.Date birth_date = 3 [(tessera.field) = { sensitivity: PHI, mask: DATE_YEAR }];
  string state = 4;
  double balance = 5;
}
`,
  'tables/bench.yaml': `kind: table
name: bench.patients
owner: bench
schema: schemas/bench.proto#bench.Patient
---
kind: table
name: bench.state_summary
owner: bench
`,
  'tasks/bench.yaml': `kind: task
name: ingest_patients
type: ingestion
target: bench.patients
source: { type: parquet, uri: data/patients.parquet }
---
kind: task
name: build_state_summary
type: projection
target: bench.state_summary
sql: |
  select state,
         count(*) as patients,
         count(distinct substr(patient_id, 1, 5)) as id_blocks,
         cast(sum(balance) as decimal(14, 2)) as balance
  from bench.patients
  group by state
`,
  'access/access.yaml': `kind: role
name: analyst
members: [group:analytics]
grants: [{ tables: ['bench.*'] }]
row_filters: { bench.patients: "state = principal_attr('state')" }
---
kind: principal
name: ${ANALYST}
groups: [analytics]
attributes: { state: CA }
`,
};

/** The projection's SELECT as PostgreSQL runs it on the version table. */
const PROJECTION_SQL = `select state, count(*) as patients, count(distinct substr(patient_id, 1, 5)) as id_blocks,
  cast(sum(balance) as numeric(14, 2)) as balance from ${VERSION_TABLE} group by state`;

/** The analyst's queries, and the same by hand: the masks' SQL (as the guard writes it for PostgreSQL) and the filter. */
const KEY_SQL = `decode('${Buffer.from(HASH_KEY).toString('hex')}', 'hex')`;
const HASHED_SSN = `encode(hmac(convert_to(ssn, 'UTF8'), ${KEY_SQL}, 'sha256'), 'hex')`;
const YEAR = `CAST(date_part('year', birth_date) AS integer)`;
/** DATE_YEAR: January 1 of the year, years 90 or more ago top-coded (as of today, as the guard does). */
const BIRTH_YEAR = `make_date((${YEAR} + greatest(0, (${new Date().getUTCFullYear() - 90} - ${YEAR}))), 1, 1)`;
const QUERIES: { label: string; governed: string; byHand: string }[] = [
  {
    label: 'aggregate',
    governed: `select state, count(*) as patients, count(distinct ssn) as people,
       min(birth_date) as oldest_birth_year, cast(sum(balance) as decimal(14, 2)) as balance
from bench.patients group by state`,
    byHand: `select state, count(*) as patients, count(distinct ${HASHED_SSN}) as people,
       min(${BIRTH_YEAR}) as oldest_birth_year, cast(sum(balance) as numeric(14, 2)) as balance
from ${VERSION_TABLE} where state = 'CA' group by state`,
  },
  {
    label: 'selective, ~100 masked rows',
    governed: `select patient_id, ssn, birth_date, state from bench.patients
where patient_id between 'P0100000' and 'P0100999' order by patient_id`,
    byHand: `select patient_id, ${HASHED_SSN} as ssn, ${BIRTH_YEAR} as birth_date, state from ${VERSION_TABLE}
where state = 'CA' and patient_id between 'P0100000' and 'P0100999' order by patient_id`,
  },
];

interface Opened {
  platform: Platform;
  repo: string;
  database?: string;
}

export default async function (): Promise<void> {
  const admin = new pg.Client({ connectionString: `${SERVER}/test`, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    console.log(
      `skipped: PostgreSQL at ${new URL(SERVER).host} is not reachable (${(error as Error).message})`,
    );
    return;
  }
  const source = await sourceFile();
  const rows = PATIENTS.toLocaleString('en-US');
  const opened: Opened[] = [];
  const databases: string[] = [];
  try {
    // 1b. The whole ingestion run on each engine, each round on a fresh repo (and database).
    const runTimes: Record<'duckdb' | 'postgres', Timing[]> = { duckdb: [], postgres: [] };
    let latest: Partial<Record<'duckdb' | 'postgres', Opened>> = {};
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['postgres', 'duckdb'] as const) : (['duckdb', 'postgres'] as const);
      for (const engine of order) {
        const database =
          engine === 'postgres' ? `tessera_bench_pg_engine_${process.pid}_${round}` : undefined;
        if (database) {
          await admin.query(`CREATE DATABASE ${database}`);
          databases.push(database);
        }
        const repo = await openRepo(source, database ? `${SERVER}/${database}` : 'duckdb');
        const entry: Opened = { ...repo, database };
        opened.push(entry);
        runTimes[engine].push(await measure(() => runOk(repo.platform, 'ingest_patients')));
        const previous = latest[engine];
        latest = { ...latest, [engine]: entry };
        if (previous) await closeOpened(previous, admin);
      }
    }
    const onPostgres = latest.postgres!;
    const onDuckdb = latest.duckdb!;
    const pgUrl = `${SERVER}/${onPostgres.database!}`;

    // 1a. Loading the version into PostgreSQL, against COPY of the same CSV alone.
    await compareLoad(onPostgres.platform, pgUrl, rows);
    ratioLine(
      `whole ingestion run (conform, publish, load), ${rows} rows: engine postgres vs duckdb`,
      runTimes.postgres,
      runTimes.duckdb,
      'duckdb',
    );

    // 2. Governed queries.
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    try {
      await client.query(`SET TimeZone = 'UTC'`);
      for (const query of QUERIES) await compareQuery(onPostgres.platform, client, query, rows);

      // 3. The projection.
      await compareProjection(onPostgres.platform, onDuckdb.platform, client, rows);
    } finally {
      await client.end();
    }
  } finally {
    for (const entry of opened) await closeOpened(entry, admin).catch(() => undefined);
    for (const database of databases) {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    }
    await admin.end();
  }
}

/** `work` (tessera) vs `baseline`, interleaved, one line: medians of wall and CPU. */
function ratioLine(label: string, tessera: Timing[], baseline: Timing[], baselineName: string): void {
  const wall = [median(tessera.map((t) => t.wall)), median(baseline.map((t) => t.wall))] as const;
  const cpu = [median(tessera.map((t) => t.cpu)), median(baseline.map((t) => t.cpu))] as const;
  const shown = (seconds: number) =>
    seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
  console.log(
    `${label}: ${shown(wall[0])} vs ${baselineName} ${shown(wall[1])} = ${(wall[0] / wall[1]).toFixed(2)}x ` +
      `(this process's cpu ${(cpu[0] / Math.max(cpu[1], 1e-6)).toFixed(2)}x); median of ${tessera.length} interleaved runs`,
  );
}

async function interleaved(
  rounds: number,
  tessera: () => Promise<unknown>,
  baseline: () => Promise<unknown>,
): Promise<[Timing[], Timing[]]> {
  const ours: Timing[] = [];
  const theirs: Timing[] = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      ours.push(await measure(tessera));
      theirs.push(await measure(baseline));
    } else {
      theirs.push(await measure(baseline));
      ours.push(await measure(tessera));
    }
  }
  return [ours, theirs];
}

/**
 * `EngineVersions.relation` loading the current version under another table name (so the
 * platform's own table and view stay), against `COPY … FROM STDIN` of the CSV that load writes,
 * into a plain table of the same columns. Also times DuckDB writing that CSV alone.
 */
async function compareLoad(platform: Platform, pgUrl: string, rows: string): Promise<void> {
  const { store, storage } = internalsOf(platform);
  const engine = await PostgresEngine.create(pgUrl);
  const version = (await store.getCurrentVersion(TABLE))!;
  const fields = (await store.getTable(TABLE))!.fields;
  const columns: VersionColumn[] = fields.map((field) => ({ name: field.name, type: field.type }));
  const local = await DuckdbEngine.create();
  const folder = await mkdtemp(join(tmpdir(), 'tessera-pg-engine-bench-'));
  const csvFile = join(folder, 'version.csv');
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const loadedAs = 'bench.load_copy';
  const plain = 'bench_plain_copy';
  try {
    const session = await local.openSession();
    const writeCsv = () =>
      session.run(
        `COPY (SELECT ${engine.versionTables.interchangeSelect(columns)} FROM ${tableRelation(storage, version.files, fields)}) ` +
          `TO ${quoteLiteral(csvFile)} (FORMAT csv, HEADER)`,
      );
    const csvTimes: Timing[] = [];
    for (let round = 0; round < ROUNDS; round++) csvTimes.push(await measure(writeCsv));
    session.close();

    const load = async () => {
      await client.query(
        `DROP TABLE IF EXISTS ${postgresDialect.identifier(`${loadedAs}__v${version.version}`)}`,
      );
      const versions = new EngineVersions(engine.versionTables, storage, local);
      await versions.relation(loadedAs, version, fields);
    };
    const definitions = columns.map(
      (column) => `${postgresDialect.identifier(column.name)} ${postgresDialect.columnType(column.type)}`,
    );
    const copyAlone = async () => {
      await client.query(`DROP TABLE IF EXISTS ${plain}`);
      await client.query(`CREATE TABLE ${plain} (${definitions.join(', ')})`);
      await pipeline(
        createReadStream(csvFile),
        client.query(copyFrom(`COPY ${plain} FROM STDIN (FORMAT csv, HEADER true)`)),
      );
    };
    const [loads, copies] = await interleaved(ROUNDS, load, copyAlone);
    const loaded = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${postgresDialect.identifier(`${loadedAs}__v${version.version}`)}`,
    );
    const copied = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${plain}`);
    if (loaded.rows[0]!.n !== PATIENTS || copied.rows[0]!.n !== PATIENTS) {
      throw new Error(
        `loaded ${loaded.rows[0]!.n} and copied ${copied.rows[0]!.n} rows, expected ${PATIENTS}`,
      );
    }
    ratioLine(
      `load a version into PostgreSQL (DuckDB → CSV → COPY FROM STDIN), ${rows} rows: EngineVersions vs COPY of the same CSV alone`,
      loads,
      copies,
      'COPY',
    );
    console.log(
      `  of which DuckDB writing the CSV: ${median(csvTimes.map((t) => t.wall)).toFixed(2)} s (median of ${csvTimes.length})`,
    );
  } finally {
    await client.query(`DROP TABLE IF EXISTS ${plain}`).catch(() => undefined);
    await client.end();
    await local.close();
    await rm(folder, { recursive: true, force: true });
  }
}

/** The analyst's query through `Platform.query` vs the same by hand on the version table. */
async function compareQuery(
  platform: Platform,
  client: pg.Client,
  query: (typeof QUERIES)[number],
  rows: string,
): Promise<void> {
  const governed = () => platform.query(query.governed, { principal: ANALYST });
  const byHand = () => client.query(query.byHand);
  const first = await governed();
  const reference = await byHand();
  if (first.guarded.masksApplied.length < 1 || first.guarded.rowFiltersApplied.length !== 1) {
    throw new Error(`${query.label}: expected masks and the row filter: ${first.guarded.sql}`);
  }
  const summary = (values: Record<string, unknown>[]) =>
    JSON.stringify(
      values.map((row) => [row.state, row.patients, row.people, row.patient_id, row.ssn].map(String)),
    );
  if (summary(first.rows) !== summary(reference.rows)) {
    throw new Error(
      `${query.label}: governed and by-hand answers differ: ${summary(first.rows).slice(0, 400)} vs ${summary(reference.rows).slice(0, 400)}\n${first.guarded.sql}`,
    );
  }
  const [ours, theirs] = await interleaved(QUERY_ROUNDS, governed, byHand);
  ratioLine(
    `governed query on PostgreSQL (${query.label}; ${rows} rows, HASH + DATE_YEAR + row filter, ${first.rows.length} rows back): Platform.query vs by hand with pg`,
    ours,
    theirs,
    'pg',
  );
}

/** The projection run on each engine, and its SELECT alone in PostgreSQL copied out to a file. */
async function compareProjection(
  onPostgres: Platform,
  onDuckdb: Platform,
  client: pg.Client,
  rows: string,
): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'tessera-pg-engine-bench-'));
  try {
    const [postgresRuns, duckdbRuns] = await interleaved(
      ROUNDS,
      () => runOk(onPostgres, 'build_state_summary'),
      () => runOk(onDuckdb, 'build_state_summary'),
    );
    const copyOut = () =>
      pipeline(
        client.query(copyTo(`COPY (${PROJECTION_SQL}) TO STDOUT (FORMAT csv, HEADER true)`)),
        createWriteStream(join(folder, 'out.csv')),
      );
    const [postgresAgain, copies] = await interleaved(
      ROUNDS,
      () => runOk(onPostgres, 'build_state_summary'),
      copyOut,
    );
    const answer = (platform: Platform) =>
      platform.query('select state, patients, id_blocks from bench.state_summary order by state', {
        principal: ANALYST,
      });
    const [fromPostgres, fromDuckdb] = [(await answer(onPostgres)).rows, (await answer(onDuckdb)).rows];
    if (JSON.stringify(fromPostgres) !== JSON.stringify(fromDuckdb) || fromPostgres.length === 0) {
      throw new Error(
        `the projection differs: ${JSON.stringify(fromPostgres)} vs ${JSON.stringify(fromDuckdb)}`,
      );
    }
    const written = await internalsOf(onPostgres).store.getCurrentVersion('bench.state_summary');
    ratioLine(
      `projection run (group by over ${rows} rows, ${written?.rowCount} rows out): engine postgres vs duckdb`,
      postgresRuns,
      duckdbRuns,
      'duckdb',
    );
    ratioLine(
      `projection run on PostgreSQL vs its SELECT alone (COPY … TO STDOUT into a file)`,
      postgresAgain,
      copies,
      'COPY',
    );
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

async function runOk(platform: Platform, task: string): Promise<void> {
  const [run] = await platform.run({ tasks: [task] });
  if (run?.status !== 'succeeded') throw new Error(`${task}: ${run?.status}: ${run?.error}`);
}

/** A fresh repo on `engine`, applied, reading the cached source through a link. */
async function openRepo(source: string, engine: string): Promise<{ platform: Platform; repo: string }> {
  const repo = await mkdtemp(join(tmpdir(), 'tessera-pg-engine-bench-'));
  for (const [path, content] of Object.entries(REPO_FILES)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
  await mkdir(join(repo, 'data'));
  await symlink(source, join(repo, 'data', 'patients.parquet'));
  const env = { ...process.env, TESSERA_HASH_KEY: HASH_KEY, TESSERA_ENGINE: engine };
  const platform = await Platform.open({ repo, env });
  await platform.apply();
  return { platform, repo };
}

async function closeOpened(entry: Opened, admin: pg.Client): Promise<void> {
  await entry.platform.close();
  await rm(entry.repo, { recursive: true, force: true });
  if (entry.database) await admin.query(`DROP DATABASE IF EXISTS ${entry.database} WITH (FORCE)`);
}

/** The source Parquet file, written once: hash(i, salt) is a pseudo-random number per row and purpose. */
async function sourceFile(): Promise<string> {
  const folder = join(
    dirname(fileURLToPath(import.meta.url)),
    '.data',
    `postgres-engine-v${DATA_VERSION}-${PATIENTS}`,
  );
  const file = join(folder, 'patients.parquet');
  if (existsSync(join(folder, '.ready'))) return file;
  await mkdir(folder, { recursive: true });
  const duckdb = await DuckdbEngine.create();
  try {
    const session = await duckdb.openSession();
    await session.run(`COPY (
      SELECT printf('P%07d', i) AS patient_id,
             printf('%03d-%02d-%04d', 100 + hash(i, 'ssn1') % 800, 10 + hash(i, 'ssn2') % 89, 1000 + hash(i, 'ssn3') % 9000) AS ssn,
             DATE '1925-01-01' + (hash(i, 'birth') % 35000)::INTEGER AS birth_date,
             ['CA','NY','TX','FL','WA','MA','IL','NH','WY','NV'][1 + (hash(i, 'state') % 10)::INTEGER] AS state,
             round((hash(i, 'balance') % 1000000) / 100.0, 2)::DOUBLE AS balance
      FROM range(1, ${PATIENTS + 1}) AS t(i)
    ) TO ${quoteLiteral(file)} (FORMAT parquet)`);
    session.close();
  } finally {
    await duckdb.close();
  }
  await writeFile(join(folder, '.ready'), new Date().toISOString());
  return file;
}
