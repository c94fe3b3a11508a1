// A PostgreSQL source table against DuckDB alone, side by side in one process, on the same table
// (5M rows by default, made with generate_series and dropped afterwards):
//   duckdb alone   `COPY (SELECT * FROM t) TO STDOUT (FORMAT csv, HEADER)` streamed to a CSV file,
//                  then DuckDB `COPY (SELECT * FROM read_csv(file)) TO parquet` — no checks;
//   tessera        `tessera run` of a `type: postgres` task — COPY streamed into the staged CSV,
//                  conformed to the schema (typed, checked), written, counted, published.
// Each prints rows/s and peak RSS (sampled every 10 ms while it runs; the growth over the RSS it
// started with is what the read added, since DuckDB's buffers outlive a statement).
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { quoteLiteral } from '../src/engines/engine.ts';
import { Platform } from '../src/platform.ts';
import { internalsOf } from '../src/platform/internals.ts';
import { measure, median, type Timing } from './timing.ts';

const ROWS = Number(process.env.POSTGRES_SOURCE_BENCH_ROWS ?? 5_000_000);
const ROUNDS = Number(process.env.POSTGRES_SOURCE_BENCH_ROUNDS ?? 3);
const URL_ =
  process.env.TESSERA_BENCH_POSTGRES_URL ??
  process.env.TESSERA_TEST_POSTGRES_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const TABLE = `tessera_bench_orders_${process.pid}`;

const REPO: Record<string, string> = {
  'tessera.yaml': 'name: postgres-source-bench\n',
  'owners/bench.yaml': 'kind: owner\nname: bench\n',
  'schemas/bench.proto': `syntax = "proto3";
package bench;
import "tessera/options.proto";
import "google/protobuf/timestamp.proto";
import "google/type/date.proto";
message Order {
  int64 id = 1 [(tessera.field) = { primary_key: true }];
  string customer = 2;
  string amount = 3 [(tessera.field) = { decimal: "12,2" }];
  int32 quantity = 4;
  google.protobuf.Timestamp updated_at = 5;
  google.type.Date placed_on = 6;
  bool active = 7;
}
`,
  'tables/bench.yaml': `kind: table
name: bench.orders
owner: bench
schema: schemas/bench.proto#bench.Order
retention: { keep_versions: 1 }
`,
  'tasks/bench.yaml': `kind: task
name: ingest_orders
type: ingestion
target: bench.orders
source:
  type: postgres
  url: ${URL_}
  table: ${TABLE}
`,
};

interface Sample extends Timing {
  /** Peak RSS while it ran, bytes. */
  peakRss: number;
  /** Peak RSS minus the RSS when it started, bytes. */
  growth: number;
}

export default async function (): Promise<void> {
  const admin = new pg.Client({ connectionString: URL_, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    console.log(
      `skipped: PostgreSQL at ${new URL(URL_).host} is not reachable (${(error as Error).message})`,
    );
    return;
  }
  const repo = await mkdtemp(join(tmpdir(), 'tessera-postgres-source-bench-'));
  let platform: Platform | undefined;
  try {
    await admin.query(
      `CREATE TABLE ${TABLE} (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL, ` +
        `quantity int NOT NULL, updated_at timestamptz NOT NULL, placed_on date NOT NULL, active boolean NOT NULL)`,
    );
    await admin.query(
      `INSERT INTO ${TABLE} SELECT i, 'customer ' || (i % 50000), (i * 37 % 1000000) / 100.0, i % 100, ` +
        `timestamptz '2026-01-01 00:00:00+00' + i * interval '1 second', date '2020-01-01' + (i % 2000), i % 2 = 0 ` +
        `FROM generate_series(1, ${ROWS}) AS s(i)`,
    );
    const size = await admin.query<{ size: string }>(
      `SELECT pg_size_pretty(pg_total_relation_size('${TABLE}')) AS size`,
    );
    for (const [path, content] of Object.entries(REPO)) {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), content);
    }
    platform = await Platform.open({ repo });
    await platform.apply();
    const session = await (await internalsOf(platform).engine()).openSession();
    const csv = join(repo, 'copy.csv');
    const parquet = join(repo, 'duckdb.parquet');
    const duckdbAlone = async () => {
      const client = new pg.Client({ connectionString: URL_ });
      await client.connect();
      try {
        const copy = client.query(copyTo(`COPY (SELECT * FROM ${TABLE}) TO STDOUT (FORMAT csv, HEADER)`));
        await pipeline(copy, createWriteStream(csv));
      } finally {
        await client.end();
      }
      await session.run(
        `COPY (SELECT * FROM read_csv(${quoteLiteral(csv)})) TO ${quoteLiteral(parquet)} (FORMAT parquet)`,
      );
      await rm(csv);
    };
    const tessera = async () => {
      const [run] = await platform!.run({ tasks: ['ingest_orders'] });
      if (run?.status !== 'succeeded' || run.rowsWritten !== ROWS) {
        throw new Error(`bench: ingest_orders ${run?.status}: ${run?.error ?? `${run?.rowsWritten} rows`}`);
      }
    };
    const baseline: Sample[] = [];
    const ours: Sample[] = [];
    try {
      // Interleaved, so a noisy neighbour slows every side alike.
      for (let round = 0; round < ROUNDS; round++) {
        baseline.push(await sampled(duckdbAlone));
        ours.push(await sampled(tessera));
      }
    } finally {
      session.close();
    }
    const wall = (samples: Sample[]) => median(samples.map((sample) => sample.wall));
    const cpu = (samples: Sample[]) => median(samples.map((sample) => sample.cpu));
    const peak = (samples: Sample[]) => Math.max(...samples.map((sample) => sample.peakRss));
    const growth = (samples: Sample[]) => Math.max(...samples.map((sample) => sample.growth));
    const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
    const rate = (samples: Sample[]) => `${Math.round(ROWS / wall(samples)).toLocaleString('en-US')} rows/s`;
    console.log(
      `postgres source (COPY streamed to a staged CSV, conform + publish): ${ROWS.toLocaleString('en-US')} rows ` +
        `(table ${size.rows[0]?.size}): ${wall(ours).toFixed(2)} s, ${rate(ours)} vs duckdb alone ` +
        `${wall(baseline).toFixed(2)} s, ${rate(baseline)} = ${(wall(ours) / wall(baseline)).toFixed(2)}x ` +
        `(cpu ${(cpu(ours) / cpu(baseline)).toFixed(2)}x)`,
    );
    console.log(
      `  peak RSS: tessera ${mb(peak(ours))} (+${mb(growth(ours))} over its start) vs duckdb alone ` +
        `${mb(peak(baseline))} (+${mb(growth(baseline))}) = ${(peak(ours) / peak(baseline)).toFixed(2)}x`,
    );
    console.log(
      `  runs (s): duckdb ${baseline.map((t) => t.wall.toFixed(2)).join(' ')}; ` +
        `tessera ${ours.map((t) => t.wall.toFixed(2)).join(' ')}; median of ${ROUNDS} interleaved rounds`,
    );
  } finally {
    await platform?.close();
    await admin.query(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => {});
    await admin.end();
    await rm(repo, { recursive: true, force: true });
  }
}

/** Time `work` and sample the process's RSS while it runs. */
async function sampled(work: () => Promise<void>): Promise<Sample> {
  const start = process.memoryUsage.rss();
  let peakRss = start;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 10);
  try {
    const timing = await measure(work);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { ...timing, peakRss, growth: peakRss - start };
  } finally {
    clearInterval(timer);
  }
}
