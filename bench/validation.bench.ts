// Validation gate cost: ten typical checks over a 5M-row staged Parquet version, against one full
// scan that aggregates every column once (count, min, max). Target: ≤ 1.5× the scan.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckdbEngine } from '../src/engines/duckdb/duckdb-engine.ts';
import { quoteIdentifier, type EngineSession } from '../src/engines/engine.ts';
import type { ValidationDef } from '../src/model/index.ts';
import { runChecks } from '../src/quality/index.ts';
import { measure, median, type Timing } from './timing.ts';

const ROWS = 5_000_000;
const REPEATS = 7;
const TARGET = 1.5;

const check = (expectation: string, args: Record<string, unknown>): ValidationDef => ({
  expectation,
  args,
  severity: 'error',
});

const TEN_TYPICAL_CHECKS: ValidationDef[] = [
  check('expect_column_values_to_not_be_null', { column: 'order_id' }),
  check('expect_column_values_to_be_unique', { column: 'order_id' }),
  check('expect_column_values_to_be_between', { column: 'amount', min_value: 0, max_value: 2000 }),
  check('expect_column_values_to_be_in_set', {
    column: 'status',
    value_set: ['new', 'paid', 'shipped', 'delivered', 'cancelled'],
  }),
  check('expect_column_values_to_match_regex', { column: 'ssn', regex: '^[0-9]{3}-[0-9]{2}-[0-9]{4}$' }),
  check('expect_column_value_lengths_to_be_between', { column: 'code', min_value: 3, max_value: 10 }),
  check('expect_column_mean_to_be_between', { column: 'amount', min_value: 500, max_value: 1500 }),
  check('expect_compound_columns_to_be_unique', { column_list: ['order_group', 'line_no'] }),
  check('expect_table_row_count_to_be_between', { min_value: 1 }),
  check('expect_column_pair_values_a_to_be_greater_than_b', { column_A: 'amount', column_B: 'cost' }),
];

/** Deterministic order lines: range() plus hash-derived columns, written as a staged version would be. */
async function writeOrders(session: EngineSession, path: string): Promise<void> {
  await session.run(`COPY (
    SELECT
      i AS order_id,
      i // 4 AS order_group,
      CAST(i % 4 AS INTEGER) AS line_no,
      CAST(hash(i, 1) % 200000 AS BIGINT) AS customer_id,
      600 + CAST(hash(i, 2) % 100000 AS DOUBLE) / 100 AS amount,
      CAST(hash(i, 3) % 50000 AS DOUBLE) / 100 AS cost,
      ['new', 'paid', 'shipped', 'delivered', 'cancelled'][1 + CAST(hash(i, 4) % 5 AS INTEGER)] AS status,
      printf('%03d-%02d-%04d', hash(i, 5) % 1000, hash(i, 6) % 100, hash(i, 7) % 10000) AS ssn,
      substr(to_hex(hash(i, 8)), 1, 3 + CAST(hash(i, 9) % 8 AS INTEGER)) AS code,
      TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i, 10) % 31536000 AS BIGINT)) AS created_at
    FROM range(${ROWS}) r(i)
  ) TO '${path}' (FORMAT parquet)`);
}

export default async function (): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'tessera-validation-bench-'));
  const engine = await DuckdbEngine.create();
  const session = await engine.openSession();
  try {
    const file = join(directory, 'orders.parquet');
    await writeOrders(session, file);
    const relation = `read_parquet(['${file}'])`;
    const { columns } = await session.query(`SELECT * FROM ${relation} LIMIT 0`);
    const everyColumn = columns.map(({ name }) => {
      const column = quoteIdentifier(name);
      return `count(${column}), min(${column}), max(${column})`;
    });
    const fullScan = `SELECT count(*), ${everyColumn.join(', ')} FROM ${relation}`;

    // Warm the file cache and check the checks pass: a failing check would add sample queries.
    await session.query(fullScan);
    const failed = (await runChecks(session, relation, TEN_TYPICAL_CHECKS)).filter(
      (result) => !result.success,
    );
    if (failed.length > 0) throw new Error(`bench checks should pass: ${JSON.stringify(failed)}`);

    const scans: Timing[] = [];
    const checks: Timing[] = [];
    for (let round = 0; round < REPEATS; round++) {
      scans.push(await measure(() => session.query(fullScan)));
      checks.push(await measure(() => runChecks(session, relation, TEN_TYPICAL_CHECKS)));
    }
    const rows = ROWS.toLocaleString('en-US');
    for (const kind of ['wall', 'cpu'] as const) {
      const checked = median(checks.map((timing) => timing[kind]));
      const scanned = median(scans.map((timing) => timing[kind]));
      const label = kind === 'wall' ? 'validation' : 'validation (CPU time)';
      console.log(
        `${label}: ${TEN_TYPICAL_CHECKS.length} checks over ${rows} rows: ${checked.toFixed(2)} s vs full scan ${scanned.toFixed(2)} s = ${(checked / scanned).toFixed(2)}x (target ≤ ${TARGET}x)`,
      );
    }
  } finally {
    session.close();
    await engine.close();
    rmSync(directory, { recursive: true, force: true });
  }
}
