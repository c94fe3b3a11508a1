// Ingestion against DuckDB alone: the same 5M-row CSV to Parquet, once auto-detected and copied
// (no checks at all), once through `ingestFiles` with a schema (typed, checked, conformed).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral, type EngineSession } from '../src/engines/engine.ts';
import { ingestFiles } from '../src/ingest/index.ts';
import type { FieldDef, FieldType, TaskDef } from '../src/model/index.ts';

const ROWS = 5_000_000;
const ROUNDS = Number(process.env.INGEST_BENCH_ROUNDS ?? 5);

export default async function (): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'tessera-ingest-bench-'));
  const engine = await DuckdbEngine.create();
  const session = await engine.openSession();
  try {
    const csv = join(folder, 'patients.csv');
    await generatePatients(session, csv);
    const task = patientsTask(csv);
    const fields = patientFields();

    const duckdbAlone: Timing[] = [];
    const tessera: Timing[] = [];
    // Interleaved, so a noisy neighbour slows both sides alike.
    for (let round = 0; round < ROUNDS; round++) {
      duckdbAlone.push(
        await timed(() =>
          session.run(
            `COPY (SELECT * FROM read_csv(${quoteLiteral(csv)})) TO ${quoteLiteral(join(folder, 'duckdb.parquet'))} (FORMAT parquet)`,
          ),
        ),
      );
      tessera.push(
        await timed(async () => {
          const result = await ingestFiles({
            session,
            task,
            fields,
            repoRoot: folder,
            outputFile: join(folder, 'tessera.parquet'),
          });
          if (result.rowCount !== ROWS || result.badRowCount !== 0) {
            throw new Error(
              `bench: expected ${ROWS} good rows, got ${result.rowCount} (+${result.badRowCount} bad)`,
            );
          }
        }),
      );
    }
    const wall = (timings: Timing[]) => timings.map((timing) => timing.wallSeconds);
    const cpu = (timings: Timing[]) => timings.map((timing) => timing.cpuSeconds);
    const ours = median(wall(tessera));
    const theirs = median(wall(duckdbAlone));
    console.log(
      `ingestion: ${ROWS.toLocaleString('en-US')} rows: tessera ${ours.toFixed(1)} s vs duckdb alone ${theirs.toFixed(1)} s ` +
        `= ${(ours / theirs).toFixed(2)}x (target ≤ 1.3x)`,
    );
    // On a shared machine the fastest run and the CPU time (all threads) are steadier than the median.
    const fastest = Math.min(...wall(tessera)) / Math.min(...wall(duckdbAlone));
    const cpuRatio = median(cpu(tessera)) / median(cpu(duckdbAlone));
    console.log(
      `  fastest runs ${Math.min(...wall(tessera)).toFixed(2)} s vs ${Math.min(...wall(duckdbAlone)).toFixed(2)} s = ` +
        `${fastest.toFixed(2)}x; CPU time (median) ${median(cpu(tessera)).toFixed(1)} s vs ` +
        `${median(cpu(duckdbAlone)).toFixed(1)} s = ${cpuRatio.toFixed(2)}x`,
    );
    console.log(
      `  runs (s): tessera ${wall(tessera)
        .map((time) => time.toFixed(2))
        .join(' ')}; duckdb ${wall(duckdbAlone)
        .map((time) => time.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    session.close();
    await engine.close();
    await rm(folder, { recursive: true, force: true });
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

function patientsTask(csv: string): TaskDef {
  return {
    name: 'ingest_patients',
    type: 'ingestion',
    target: 'clinical.patients',
    source: {
      type: 'csv',
      uri: csv,
      options: { header: true, timestamp_formats: ['%m/%d/%Y'] },
      columns: { Id: 'patient_id', FIRST: 'first_name', BIRTHDATE: 'birth_date' },
    },
    mode: 'replace',
    badRows: { action: 'fail', maxFraction: 0 },
    retries: { attempts: 1, backoffMs: 0 },
    dependsOn: [],
    at: { file: 'tasks/ingest_patients.yaml', line: 1, column: 1 },
  };
}

function patientFields(): FieldDef[] {
  const field = (name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef => ({
    name,
    number: 0,
    type,
    nullable: false,
    ...extra,
  });
  const scalar = (
    sql: 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMPTZ',
  ): FieldType => ({
    kind: 'scalar',
    sql,
  });
  return [
    field('patient_id', scalar('BIGINT'), { primaryKey: true }),
    field('ssn', scalar('VARCHAR'), { sensitivity: 'PHI', mask: 'HASH' }),
    field('first_name', scalar('VARCHAR')),
    field('birth_date', scalar('TIMESTAMPTZ')),
    field('zip', scalar('VARCHAR')),
    field('gender', { kind: 'enum', name: 'Gender', values: ['F', 'M', 'U'] }),
    field('healthcare_expenses', scalar('DOUBLE')),
    field('encounters', scalar('INTEGER')),
    field('active', scalar('BOOLEAN')),
  ].map((item, index) => ({ ...item, number: index + 1 }));
}

interface Timing {
  wallSeconds: number;
  /** User + system CPU time of this process: DuckDB's threads included. */
  cpuSeconds: number;
}

async function timed(work: () => Promise<unknown>): Promise<Timing> {
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await work();
  const cpu = process.cpuUsage(cpuBefore);
  return { wallSeconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
