// Great Expectations conformance: runs GE's own test definitions through Tessera's validation gate.
// Usage: node --import tsx scripts/conformance.ts [--dir DIR]
// Default DIR: <repo>/../shared/conformance/great_expectations. Exit 0 when ≥ 95% of the cases that
// apply to a SQL backend pass, else 1.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckdbEngine } from '../src/engines/duckdb/duckdb-engine.ts';
import {
  formatConformanceReport,
  runGreatExpectationsConformance,
} from '../src/quality/conformance/great-expectations-conformance.ts';

const REQUIRED_PASS_RATE = 0.95;

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const dirFlag = argv.indexOf('--dir');
const directory =
  dirFlag >= 0 && argv[dirFlag + 1]
    ? resolve(argv[dirFlag + 1]!)
    : resolve(repository, '..', 'shared', 'conformance', 'great_expectations');

if (!existsSync(directory)) {
  console.error(
    `conformance: no such folder ${directory}; pass --dir DIR with GE test-definition JSON files`,
  );
  process.exit(2);
}

const engine = await DuckdbEngine.create({ threads: 1 });
const session = await engine.openSession();
try {
  const report = await runGreatExpectationsConformance({ directory, session });
  for (const line of formatConformanceReport(report)) console.log(line);
  process.exitCode = report.passed + report.failed > 0 && report.passRate >= REQUIRED_PASS_RATE ? 0 : 1;
} finally {
  session.close();
  await engine.close();
}
