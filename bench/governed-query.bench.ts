// Governance overhead on the read path: a join + aggregation over 5,000,000 rows (1M patients ⋈ 4M
// claims, grouped by state) through `Platform.query` as a principal who sees three masks (HASH on
// the SSNs, DATE_YEAR, ZIP3) and a row filter, against the same query run raw by the engine on the
// same Parquet files with the same row filter. Target: ≤ 1.2×. Two joins are measured: on the
// patient id (the masked columns aggregated, the hashed SSN counted distinct), and on the hashed SSN
// itself. Both read precomputed hashes, and compare the digests' 16-byte halves where the raw
// query compares 11-character SSNs (see src/governance/digest-comparisons.ts). A third query is a
// selective scan that returns the masked columns themselves, so the hashes are shown as hex, rebuilt
// from the stored halves.
//
// The data goes through the real platform (apply + run: conform, precomputed hashes, validations),
// once: the repo is cached under bench/.data/ keyed by row count. Delete it to regenerate.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteLiteral, type EngineSession } from '../src/engines/engine.ts';
import { Platform } from '../src/platform.ts';
import { internalsOf } from '../src/platform/internals.ts';
import { parquetRelation } from '../src/runner/index.ts';
import { measure, median, type Timing } from './timing.ts';

const PATIENTS = 1_000_000;
const CLAIMS = 4_000_000;
const REPEATS = 15;
/**
 * A query whose raw run takes less than 200 ms is run more often (15 × 200 ms / its time, at most
 * this many rounds): a 20 ms query's median over 15 runs moves by more than the 20% it is judged on
 * when the machine is shared.
 */
const MAX_REPEATS = 150;
const TARGET = 1.2;
const HASH_KEY = 'governed-query-bench-key';
const ANALYST = 'bob@example.org';
/** Bump when the generated repo changes shape, so an old cache is not reused. */
const DATA_VERSION = 7;

/** Two shapes of analyst query, each with the three masks at work and the row filter. */
const QUERIES: Record<string, string> = {
  /** Claims joined to patients on the patient id; the masked columns are aggregated. */
  'join on an id': `select p.state,
       min(p.birth_date) as oldest_birth_year,
       count(distinct p.zip) as zip_areas,
       count(distinct p.ssn) as people,
       count(*) as claims,
       round(sum(c.amount), 2) as amount
from bench.patients p
join bench.claims c on c.patient_id = p.patient_id
group by p.state`,
  /** Claims joined to patients on the (hashed) SSN: the join key itself is masked. */
  'join on the hashed SSN': `select p.state,
       min(p.birth_date) as oldest_birth_year,
       count(distinct p.zip) as zip_areas,
       count(*) as claims,
       round(sum(c.amount), 2) as amount
from bench.patients p
join bench.claims c on c.subscriber_ssn = p.ssn
group by p.state`,
  /** About 1% of the patients, every column shown: the masks applied to the rows returned. */
  'selective scan': `select p.patient_id, p.ssn, p.birth_date, p.zip, p.state
from bench.patients p
where p.patient_id between 'P0100000' and 'P0109999'
order by p.patient_id`,
};
const ROW_FILTER = "state = 'CA'";

const REPO_FILES: Record<string, string> = {
  'tessera.yaml': `name: governed-query-bench
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
  string zip = 4 [(tessera.field) = { sensitivity: PHI, mask: ZIP3 }];
  string state = 5;
}

// One claim, by the subscriber's SSN.
message Claim {
  string claim_id = 1 [(tessera.field) = { primary_key: true }];
  string subscriber_ssn = 2 [(tessera.field) = { sensitivity: PHI, mask: HASH }];
  double amount = 3;
  string patient_id = 4;
}
`,
  'tables/bench.yaml': `kind: table
name: bench.patients
owner: bench
schema: schemas/bench.proto#bench.Patient
---
kind: table
name: bench.claims
owner: bench
schema: schemas/bench.proto#bench.Claim
`,
  'tasks/bench.yaml': `kind: task
name: ingest_patients
type: ingestion
target: bench.patients
source: { type: parquet, uri: data/patients.parquet }
---
kind: task
name: ingest_claims
type: ingestion
target: bench.claims
source: { type: parquet, uri: data/claims.parquet }
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

export default async function (): Promise<void> {
  const repo = join(
    dirname(fileURLToPath(import.meta.url)),
    '.data',
    `governed-query-v${DATA_VERSION}-${PATIENTS + CLAIMS}`,
  );
  if (!existsSync(join(repo, '.ready'))) await generate(repo);

  const platform = await Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: HASH_KEY } });
  const session = await (await internalsOf(platform).engine()).openSession();
  try {
    // GOVERNED_QUERIES=scan runs only the queries whose label holds one of the comma-separated words.
    const only = process.env.GOVERNED_QUERIES?.split(',').filter(Boolean) ?? [];
    for (const [label, query] of Object.entries(QUERIES)) {
      if (only.length === 0 || only.some((word) => label.includes(word))) {
        await compare(platform, session, label, query);
      }
    }
  } finally {
    session.close();
    await platform.close();
  }
}

/** Run `query` governed and raw, interleaved, and print the ratio. */
async function compare(
  platform: Platform,
  session: EngineSession,
  label: string,
  query: string,
): Promise<void> {
  const raw = await rawQuery(platform, query);
  const governed = () => platform.query(query, { principal: ANALYST });
  const baseline = () => session.query(raw);

  // Same answer (a join on hashes pairs exactly what a join on SSNs pairs): the same work.
  const [first, reference] = [(await governed()).rows, (await baseline()).rows];
  const summary = (rows: Record<string, unknown>[]) =>
    rows.map((row) => [row.state, row.claims, row.amount, row.patient_id]);
  if (JSON.stringify(summary(first)) !== JSON.stringify(summary(reference))) {
    throw new Error(
      `${label}: governed and raw answers differ: ${JSON.stringify(first)} vs ${JSON.stringify(reference)}`,
    );
  }
  const guarded = (await governed()).guarded;
  const comparesSsn = /count\(distinct p\.ssn\)|= p\.ssn/.test(query);
  if (
    guarded.masksApplied.length < 3 ||
    !/CAST\(ssn__hash_hi AS BLOB\)/.test(guarded.sql) ||
    (comparesSsn && !/p\.ssn__hash_hi/.test(guarded.sql))
  ) {
    throw new Error(
      `${label}: expected the masks, HASH rebuilt from the stored halves, digests compared by their halves`,
    );
  }

  const governedTimes: Timing[] = [];
  const rawTimes: Timing[] = [];
  const started = performance.now();
  await baseline();
  const rounds = Math.min(
    MAX_REPEATS,
    Math.max(REPEATS, Math.round(REPEATS * (200 / (performance.now() - started)))),
  );
  for (let round = 0; round < rounds; round++) {
    // Alternate who goes first, so neither always runs on the warmer cache.
    if (round % 2 === 0) {
      governedTimes.push(await measure(governed));
      rawTimes.push(await measure(baseline));
    } else {
      rawTimes.push(await measure(baseline));
      governedTimes.push(await measure(governed));
    }
  }
  const wall = [median(governedTimes.map((t) => t.wall)), median(rawTimes.map((t) => t.wall))] as const;
  const cpu = [median(governedTimes.map((t) => t.cpu)), median(rawTimes.map((t) => t.cpu))] as const;
  const rows = (PATIENTS + CLAIMS).toLocaleString('en-US');
  console.log(
    `governed query (${label}): ${rows} rows, 3 masks + row filter: ${(wall[0] * 1000).toFixed(0)} ms vs raw ${(wall[1] * 1000).toFixed(0)} ms = ` +
      `${(wall[0] / wall[1]).toFixed(2)}x (target ≤ ${TARGET}x); cpu ${(cpu[0] / cpu[1]).toFixed(2)}x; ` +
      `median of ${rounds} interleaved runs; ${first.length} rows${first[0]?.claims === undefined ? '' : `, ${String(first[0].claims)} claims for state CA`}`,
  );
}

/** The same query on the same files, with the row filter and without anything else of governance. */
async function rawQuery(platform: Platform, query: string): Promise<string> {
  const relation = async (table: string) => {
    const version = await internalsOf(platform).store.getCurrentVersion(table);
    if (!version)
      throw new Error(`${table} has no version: delete ${platform.definitions.project.root} and rerun`);
    return parquetRelation(internalsOf(platform).storage, version.files);
  };
  return query
    .replace(
      'from bench.patients p',
      `from (select * from ${await relation('bench.patients')} where ${ROW_FILTER}) p`,
    )
    .replace('join bench.claims c', `join ${await relation('bench.claims')} c`);
}

/** Write the repo and its source files, then apply and run it through the platform. */
async function generate(repo: string): Promise<void> {
  await rm(repo, { recursive: true, force: true });
  for (const [path, content] of Object.entries(REPO_FILES)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
  const started = performance.now();
  const platform = await Platform.open({ repo, env: { ...process.env, TESSERA_HASH_KEY: HASH_KEY } });
  try {
    const session = await (await internalsOf(platform).engine()).openSession();
    try {
      await writeSources(session, join(repo, 'data'));
    } finally {
      session.close();
    }
    await platform.apply();
    const runs = await platform.run({ tasks: [], all: true });
    const failed = runs.filter((run) => run.status !== 'succeeded');
    if (failed.length > 0) throw new Error(`generation failed: ${failed.map((run) => run.error).join('; ')}`);
  } finally {
    await platform.close();
  }
  await writeFile(join(repo, '.ready'), new Date().toISOString());
  console.log(
    `generated and published ${(PATIENTS + CLAIMS).toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s (cached in ${repo})`,
  );
}

/** Deterministic sources: hash(i, salt) is a pseudo-random number per row and purpose. */
async function writeSources(session: EngineSession, directory: string): Promise<void> {
  await mkdir(directory, { recursive: true });
  await session.run(`
    CREATE OR REPLACE TEMP MACRO ssn_of(i) AS printf('%03d-%02d-%04d', 100 + hash(i, 'ssn1') % 800, 10 + hash(i, 'ssn2') % 89, 1000 + hash(i, 'ssn3') % 9000);
    CREATE OR REPLACE TEMP MACRO patient_of(e) AS 1 + (hash(e, 'patient') % ${PATIENTS})::BIGINT;
  `);
  await session.run(`COPY (
    SELECT printf('P%07d', i) AS patient_id,
           ssn_of(i) AS ssn,
           DATE '1925-01-01' + (hash(i, 'birth') % 35000)::INTEGER AS birth_date,
           printf('%05d', 1000 + hash(i, 'zip') % 98000) AS zip,
           ['CA','NY','TX','FL','WA','MA','IL','NH','WY','NV'][1 + (hash(i, 'state') % 10)::INTEGER] AS state
    FROM range(1, ${PATIENTS + 1}) AS t(i)
  ) TO ${quoteLiteral(join(directory, 'patients.parquet'))} (FORMAT parquet)`);
  await session.run(`COPY (
    SELECT printf('C%08d', e) AS claim_id,
           ssn_of(patient_of(e)) AS subscriber_ssn,
           round(20 + (hash(e, 'amount') % 400000) / 100.0, 2) AS amount,
           printf('P%07d', patient_of(e)) AS patient_id
    FROM range(1, ${CLAIMS + 1}) AS t(e)
  ) TO ${quoteLiteral(join(directory, 'claims.parquet'))} (FORMAT parquet)`);
}
