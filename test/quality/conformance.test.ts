import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import {
  formatConformanceReport,
  runGreatExpectationsConformance,
} from '../../src/quality/conformance/great-expectations-conformance.ts';

// GE's test definitions live beside the repository (shared with the other projects), never in it.
const directory = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'shared',
  'conformance',
  'great_expectations',
);
const present = existsSync(directory);
const skip = !present && process.env.CI !== 'true' ? `GE test definitions not found at ${directory}` : false;

describe('Great Expectations conformance', () => {
  it('passes at least 95% of the cases that apply to a SQL backend', { skip }, async () => {
    assert.ok(present, `GE test definitions are missing: ${directory}`);
    const engine = await DuckdbEngine.create({ threads: 1 });
    const session = await engine.openSession();
    try {
      const report = await runGreatExpectationsConformance({ directory, session });
      const summary = formatConformanceReport(report).join('\n');
      assert.ok(report.passed > 0 && report.skipped > 0, summary);
      assert.ok(report.passRate >= 0.95, summary);
      assert.equal(report.passed + report.failed + report.skipped, report.cases.length);
    } finally {
      session.close();
      await engine.close();
    }
  });

  it('loads every table of a multi-table case and reads Python JSON (NaN, Infinity)', async () => {
    // A definition file in GE's format, with our own data: the first table is validated, the
    // others are what `other_table_name` names; Python's json writes non-finite numbers bare.
    const folder = mkdtempSync(join(tmpdir(), 'tessera-ge-'));
    const table = (name: string, rows: number) => ({
      dataset_name: name,
      data: { id: Array.from({ length: rows }, (_, index) => index + 1) },
    });
    writeFileSync(
      join(folder, 'expect_table_row_count_to_equal_other_table.json'),
      `{"expectation_type": "expect_table_row_count_to_equal_other_table", "datasets": [{
        "data": ${JSON.stringify([table('wards', 3), table('wards_copy', 3), table('wards_old', 2)])},
        "tests": [
          {"title": "same", "only_for": ["sqlalchemy"], "in": {"other_table_name": "wards_copy"},
           "out": {"success": true, "observed_value": {"self": 3, "other": 3}}},
          {"title": "fewer", "only_for": ["sqlalchemy"], "in": {"other_table_name": "wards_old"},
           "out": {"success": false, "observed_value": {"self": 3, "other": 2}}},
          {"title": "unknown", "in": {"other_table_name": "nowhere"}, "out": {}, "error": {}}
        ]}]}`,
    );
    writeFileSync(
      join(folder, 'expect_column_mean_to_be_between.json'),
      `{"expectation_type": "expect_column_mean_to_be_between", "datasets": [{
        "data": {"x": [1.0, 2.0, 4.0]},
        "tests": [{"title": "mean", "in": {"column": "x", "max_value": 3, "meta": {"bins": [-Infinity, 0, Infinity], "p": NaN}},
                   "out": {"success": true, "observed_value": 2.3}, "tolerance": 0.02}]}]}`,
    );
    const engine = await DuckdbEngine.create({ threads: 1 });
    const session = await engine.openSession();
    try {
      const report = await runGreatExpectationsConformance({ directory: folder, session });
      const summary = formatConformanceReport(report).join('\n');
      assert.deepEqual([report.passed, report.failed, report.skipped], [4, 0, 0], summary);
      const left = await session.query(
        "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE 'ge_%'",
      );
      assert.equal(Number(left.rows[0]!.n), 0, 'every loaded table is dropped');
    } finally {
      session.close();
      await engine.close();
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
