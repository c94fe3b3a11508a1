// Ingestion against DuckDB alone, side by side in one process on the same 5M-row CSV:
//   duckdb alone   COPY (SELECT * FROM read_csv(path)) TO parquet — auto-detected, no checks;
//   tessera        `tessera run` of an ingestion task — conform to the schema (typed, checked,
//                  dates in a declared format), write, count, publish in the catalog;
//   tessera+hash   the same with the SSN HASH-masked, so each version also stores its keyed hash
//                  as the digest's two halves (governed reads rebuild the hex; joins compare them).
//                  The file has 10,000 distinct SSNs, so the writer hashes each once and joins the
//                  digests back (version-file-writer.ts); bench/keyed-hash.bench.ts also measures
//                  a column of distinct values, hashed per row.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { quoteLiteral, type EngineSession } from '../src/engines/engine.ts';
import { Platform } from '../src/platform.ts';
import { internalsOf } from '../src/platform/internals.ts';
import { measure, median, type Timing } from './timing.ts';

const ROWS = 5_000_000;
const ROUNDS = Number(process.env.INGEST_BENCH_ROUNDS ?? 3);

const PATIENT_FIELDS = (ssnOptions: string) => `
  int64 patient_id = 1 [(tessera.field) = { primary_key: true }];
  string ssn = 2${ssnOptions};
  string first_name = 3;
  google.protobuf.Timestamp birth_date = 4;
  string zip = 5;
  string gender = 6 [(tessera.field) = { allowed: ["F", "M", "U"] }];
  double healthcare_expenses = 7;
  int32 encounters = 8;
  bool active = 9;`;

const SOURCE = `source:
  type: csv
  uri: patients.csv
  options: { header: true, timestamp_formats: ["%m/%d/%Y"] }
  columns: { Id: patient_id, FIRST: first_name, BIRTHDATE: birth_date }`;

const REPO: Record<string, string> = {
  'tessera.yaml': 'name: ingest-bench\ngovernance:\n  hash_key: ingest-bench-key\n',
  'owners/bench.yaml': 'kind: owner\nname: bench\n',
  'schemas/bench.proto': `syntax = "proto3";
package bench;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";
message Patient {${PATIENT_FIELDS('')}
}
message HashedPatient {${PATIENT_FIELDS(' [(tessera.field) = { sensitivity: PHI, mask: HASH }]')}
}
`,
  'tables/bench.yaml': `kind: table
name: bench.patients
owner: bench
schema: schemas/bench.proto#bench.Patient
retention: { keep_versions: 1 }
---
kind: table
name: bench.hashed_patients
owner: bench
schema: schemas/bench.proto#bench.HashedPatient
retention: { keep_versions: 1 }
`,
  'tasks/bench.yaml': `kind: task
name: ingest_patients
type: ingestion
target: bench.patients
${SOURCE}
---
kind: task
name: ingest_hashed_patients
type: ingestion
target: bench.hashed_patients
${SOURCE}
`,
};

export default async function (): Promise<void> {
  const repo = await mkdtemp(join(tmpdir(), 'tessera-ingest-bench-'));
  for (const [path, content] of Object.entries(REPO)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
  const platform = await Platform.open({ repo });
  const session = await (await internalsOf(platform).engine()).openSession();
  try {
    const csv = join(repo, 'patients.csv');
    await generatePatients(session, csv);
    await platform.apply();
    const run = (task: string) => async () => {
      const [result] = await platform.run({ tasks: [task] });
      if (result?.status !== 'succeeded' || result.rowsWritten !== ROWS) {
        throw new Error(
          `bench: ${task} ${result?.status}: ${result?.error ?? `${result?.rowsWritten} rows`}`,
        );
      }
    };

    const duckdbAlone: Timing[] = [];
    const tessera: Timing[] = [];
    const hashed: Timing[] = [];
    // Interleaved, so a noisy neighbour slows every side alike.
    for (let round = 0; round < ROUNDS; round++) {
      duckdbAlone.push(
        await measure(() =>
          session.run(
            `COPY (SELECT * FROM read_csv(${quoteLiteral(csv)})) TO ${quoteLiteral(join(repo, 'duckdb.parquet'))} (FORMAT parquet)`,
          ),
        ),
      );
      tessera.push(await measure(run('ingest_patients')));
      hashed.push(await measure(run('ingest_hashed_patients')));
    }
    const baseline = median(duckdbAlone.map((timing) => timing.wall));
    const baselineCpu = median(duckdbAlone.map((timing) => timing.cpu));
    const line = (label: string, timings: Timing[], target: string) => {
      const wall = median(timings.map((timing) => timing.wall));
      const cpu = median(timings.map((timing) => timing.cpu));
      console.log(
        `${label}: ${ROWS.toLocaleString('en-US')} rows: ${wall.toFixed(2)} s vs duckdb alone ${baseline.toFixed(2)} s = ` +
          `${(wall / baseline).toFixed(2)}x${target} (cpu ${(cpu / baselineCpu).toFixed(2)}x)`,
      );
    };
    line('ingestion (conform + publish)', tessera, ' (target ≤ 1.3x)');
    line(
      'ingestion with a HASH-masked column (keyed hash stored as its halves; 10,000 distinct SSNs)',
      hashed,
      ' (target ≤ 1.3x)',
    );
    console.log(
      `  runs (s): duckdb ${duckdbAlone.map((t) => t.wall.toFixed(2)).join(' ')}; ` +
        `tessera ${tessera.map((t) => t.wall.toFixed(2)).join(' ')}; ` +
        `with hash ${hashed.map((t) => t.wall.toFixed(2)).join(' ')}; median of ${ROUNDS} interleaved rounds`,
    );
  } finally {
    session.close();
    await platform.close();
    await rm(repo, { recursive: true, force: true });
  }
}

/** A deterministic healthcare-like CSV, written by DuckDB. */
async function generatePatients(session: EngineSession, file: string): Promise<void> {
  await session.run(
    `COPY (SELECT i AS Id, printf('%03d-%02d-%04d', i % 1000, i % 100, i % 10000) AS SSN, 'Name' || (i % 5000) AS FIRST, ` +
      `strftime(DATE '1920-01-01' + CAST(i % 30000 AS INTEGER), '%m/%d/%Y') AS BIRTHDATE, ` +
      `lpad(CAST(i * 7 % 100000 AS VARCHAR), 5, '0') AS ZIP, ['F', 'M', 'U'][i % 3 + 1] AS GENDER, ` +
      `round((i * 37 % 1000000) / 100.0, 2) AS HEALTHCARE_EXPENSES, CAST(i * 13 % 1000 AS INTEGER) AS ENCOUNTERS, ` +
      `CASE WHEN i % 2 = 0 THEN 'yes' ELSE 'no' END AS ACTIVE ` +
      `FROM range(${ROWS}) AS t(i)) TO ${quoteLiteral(file)} (HEADER)`,
  );
}
