import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
});
