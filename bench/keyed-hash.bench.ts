// How to store a HASH-masked column's keyed hash when a version is written, side by side in one
// DuckDB connection, on the same source rows: each option writes the rows plus the hash to Parquet,
// against a plain write of the same rows (the baseline). Two sources: every SSN distinct (the usual
// case for an identifier) and 10,000 distinct SSNs (like bench/ingest.bench.ts's file).
//
//   hex + halves, composed SQL   HMAC composed from two sha256 calls (mask-compiler.ts), storing the
//                                64-character hex and its halves as UUIDs, uncompressed (the writer
//                                before: uncompressed was what kept reading the hex cheap);
//   halves, composed SQL         the same HMAC, only the halves stored, zstd (the writer now);
//   halves, distinct + join      HMAC of each distinct value once, joined back to the rows;
//   halves, node UDF             HMAC by node:crypto in a scalar function.
//
// Every option's file is checked against node:crypto's HMAC, value for value, before it is timed.
import { DuckDBInstance, DuckDBScalarFunction, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { DuckDBVarCharVector } from '@duckdb/node-api/lib/vectors/DuckDBVarCharVector.js';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteLiteral } from '../src/engines/engine.ts';
import {
  HASH_KEY_VARIABLE_SQL,
  digestHalvesSql,
  digestHexSql,
  hmacSha256Sql,
  setHashKeyVariableSql,
} from '../src/governance/index.ts';
import { measure, median, type Timing } from './timing.ts';

const ROWS = Number(process.env.KEYED_HASH_BENCH_ROWS ?? 500_000);
const ROUNDS = Number(process.env.KEYED_HASH_BENCH_ROUNDS ?? 3);
const KEY = 'keyed-hash-bench-key';
const CHECKED_ROWS = 2_000;

type Option = (source: string, file: string) => string;

const halves = (hex: string) => {
  const [high, low] = digestHalvesSql(hex);
  return `${high} AS ssn__hash_hi, ${low} AS ssn__hash_lo`;
};
const hmac = hmacSha256Sql('ssn', HASH_KEY_VARIABLE_SQL);

const OPTIONS: Record<string, Option> = {
  'hex + halves, composed SQL': (source, file) =>
    `COPY (SELECT *, ${halves('ssn__hash')} FROM (SELECT *, ${hmac} AS ssn__hash FROM ${source})) ` +
    `TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION uncompressed)`,
  'halves, composed SQL': (source, file) =>
    `COPY (SELECT * EXCLUDE (digest), ${halves('digest')} FROM (SELECT *, ${hmac} AS digest FROM ${source})) ` +
    `TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`,
  'halves, distinct + join': (source, file) =>
    `COPY (WITH digests AS (SELECT ssn, ${hmac} AS digest FROM (SELECT DISTINCT ssn FROM ${source}) AS distinct_values) ` +
    `SELECT s.*, ${halves('d.digest')} FROM ${source} AS s LEFT JOIN digests AS d ON d.ssn = s.ssn) ` +
    `TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`,
  'halves, node UDF': (source, file) =>
    `COPY (SELECT * EXCLUDE (digest), ${halves('digest')} FROM (SELECT *, bench_hmac_sha256(ssn) AS digest FROM ${source})) ` +
    `TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`,
};

export default async function (): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'tessera-keyed-hash-bench-'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    registerUdf(connection);
    await connection.run(setHashKeyVariableSql(KEY));
    for (const [label, distinct] of [
      ['every SSN distinct', ROWS],
      ['10,000 distinct SSNs', 10_000],
    ] as const) {
      const sourceFile = join(folder, 'source.parquet');
      await connection.run(
        `COPY (SELECT i AS patient_id, printf('%09d', (i * 7919) % ${distinct}) AS ssn, 'Name' || (i % 5000) AS first_name, ` +
          `lpad(CAST(i * 7 % 100000 AS VARCHAR), 5, '0') AS zip, round((i * 37 % 1000000) / 100.0, 2) AS expenses ` +
          `FROM range(${ROWS}) AS t(i)) TO ${quoteLiteral(sourceFile)} (FORMAT parquet)`,
      );
      const source = `read_parquet(${quoteLiteral(sourceFile)})`;
      const out = join(folder, 'out.parquet');
      for (const [name, option] of Object.entries(OPTIONS)) {
        await connection.run(option(source, out));
        await check(connection, out, name);
      }
      const plain: Timing[] = [];
      const timings = new Map<string, Timing[]>(Object.keys(OPTIONS).map((name) => [name, []]));
      for (let round = 0; round < ROUNDS; round++) {
        plain.push(
          await measure(() =>
            connection.run(
              `COPY (SELECT * FROM ${source}) TO ${quoteLiteral(out)} (FORMAT parquet, COMPRESSION zstd)`,
            ),
          ),
        );
        for (const [name, option] of Object.entries(OPTIONS)) {
          timings.get(name)!.push(await measure(() => connection.run(option(source, out))));
        }
      }
      const baseline = median(plain.map((timing) => timing.wall));
      console.log(
        `keyed hash at write, ${ROWS.toLocaleString('en-US')} rows, ${label}: plain write ${baseline.toFixed(2)} s; median of ${ROUNDS} interleaved rounds`,
      );
      for (const [name, runs] of timings) {
        const wall = median(runs.map((timing) => timing.wall));
        console.log(`  ${name}: ${wall.toFixed(2)} s = ${(wall / baseline).toFixed(2)}x the plain write`);
      }
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(folder, { recursive: true, force: true });
  }
}

/** The halves in `file` must rebuild node:crypto's HMAC of every checked row's SSN. */
async function check(connection: DuckDBConnection, file: string, name: string): Promise<void> {
  const reader = await connection.runAndReadAll(
    `SELECT ssn, ${digestHexSql('ssn__hash_hi', 'ssn__hash_lo')} AS digest FROM read_parquet(${quoteLiteral(file)}) ` +
      `USING SAMPLE ${CHECKED_ROWS} ROWS`,
  );
  const rows = reader.getRowObjectsJS();
  if (rows.length === 0) throw new Error(`${name}: no rows written`);
  for (const row of rows) {
    const expected = createHmac('sha256', KEY).update(String(row.ssn)).digest('hex');
    if (row.digest !== expected)
      throw new Error(`${name}: HMAC of ${String(row.ssn)} is ${String(row.digest)}, not ${expected}`);
  }
}

/** `bench_hmac_sha256(VARCHAR)`: the hex HMAC by node:crypto, one call per row. */
function registerUdf(connection: DuckDBConnection): void {
  connection.registerScalarFunction(
    DuckDBScalarFunction.create({
      name: 'bench_hmac_sha256',
      returnType: VARCHAR,
      parameterTypes: [VARCHAR],
      mainFunction: (_info, input, output) => {
        const values = input.getColumnVector(0) as DuckDBVarCharVector;
        const result = output as DuckDBVarCharVector;
        for (let row = 0; row < input.rowCount; row++) {
          const value = values.getItem(row);
          result.setItem(row, value === null ? null : createHmac('sha256', KEY).update(value).digest('hex'));
        }
        result.flush();
      },
    }),
  );
}
