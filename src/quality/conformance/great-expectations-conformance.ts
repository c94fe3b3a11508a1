import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EngineSession } from '../../engines/engine.ts';
import type { CheckResult } from '../../model/index.ts';
import { runChecks } from '../check-runner.ts';
import { EXPECTATIONS } from '../expectation-catalog.ts';
import { compareWithExpected, type GeTestCase } from './conformance-comparison.ts';
import { datasetStatements, type GeDataset, type SqlBackend } from './conformance-dataset.ts';

/**
 * Runs Great Expectations' own test definitions (`tests/test_definitions/*.json`: datasets, each
 * with test cases of `in` arguments and expected `out`) through `runChecks`. Tessera is a SQL
 * backend closest to PostgreSQL: a case runs as PostgreSQL when its `only_for` allows it (absent,
 * `postgresql` or `sqlalchemy`), else as SQLite when it names `sqlite`; the dataset is typed with
 * that backend's declared schema. Skipped, with the reason: cases only for other backends, cases
 * suppressed for PostgreSQL (or all SQLAlchemy backends), pandas-syntax row conditions, and
 * expectations Tessera does not implement.
 */

interface GeTestFile {
  expectation_type: string;
  datasets: ((GeDataset | GeMultiTableDataset) & {
    tests: GeTestCase[];
    only_for?: string[] | null;
    suppress_test_for?: string[] | null;
  })[];
}

/**
 * GE's multi-table cases (`expect_table_row_count_to_equal_other_table`): `data` lists named
 * tables; the first is the one validated, the others are what `other_table_name` names.
 */
interface GeMultiTableDataset {
  data: (GeDataset & { dataset_name: string })[];
  dataset_name?: string;
}

/** The tables of one loaded dataset: the validated one, and every one by its GE name. */
interface LoadedTables {
  validated: string;
  byName: Map<string, string>;
}

/** The outcome of one GE test case. */
export interface ConformanceCase {
  file: string;
  dataset: string;
  title: string;
  status: 'passed' | 'failed' | 'skipped';
  /** Why it failed ("expected …, got …") or why it was skipped. */
  detail?: string;
}

/** Every case's outcome, and the totals. */
export interface ConformanceReport {
  cases: ConformanceCase[];
  passed: number;
  failed: number;
  skipped: number;
  /** Skip reason → number of cases. */
  skipReasons: Record<string, number>;
  /** passed / (passed + failed); 0 when nothing applied. */
  passRate: number;
}

/** Options of `runGreatExpectationsConformance`. */
export interface ConformanceOptions {
  /** Folder of GE test-definition JSON files. */
  directory: string;
  /** A session the runner may create and drop scratch tables in. */
  session: EngineSession;
  /** Unexpected values kept per result; large so `unexpected_list` can be compared whole. */
  sampleSize?: number;
}

/** Run every case of every `*.json` file in the folder. */
export async function runGreatExpectationsConformance(
  options: ConformanceOptions,
): Promise<ConformanceReport> {
  const sampleSize = options.sampleSize ?? 10_000;
  const cases: ConformanceCase[] = [];
  const files = readdirSync(options.directory)
    .filter((name) => name.endsWith('.json'))
    .sort();
  let tables = 0;
  for (const fileName of files) {
    const file = parseGeJson(readFileSync(join(options.directory, fileName), 'utf8')) as Partial<GeTestFile>;
    if (typeof file.expectation_type !== 'string' || !Array.isArray(file.datasets)) continue;
    const label = basename(fileName, '.json');
    for (const [index, dataset] of file.datasets.entries()) {
      const datasetLabel = dataset.dataset_name ?? `dataset ${index + 1}`;
      const loaded = new Map<SqlBackend, LoadedTables | Error>();
      for (const test of dataset.tests ?? []) {
        const at = { file: label, dataset: datasetLabel, title: test.title };
        const choice = chooseBackend(file.expectation_type, dataset, test);
        if ('skip' in choice) {
          cases.push({ ...at, status: 'skipped', detail: choice.skip });
          continue;
        }
        if (!loaded.has(choice.backend)) {
          const prefix = `ge_conformance_${tables++}`;
          loaded.set(choice.backend, await loadDatasets(options.session, prefix, dataset, choice.backend));
        }
        const tablesOfCase = loaded.get(choice.backend)!;
        if (tablesOfCase instanceof Error) {
          cases.push({
            ...at,
            status: 'failed',
            detail: `dataset could not be loaded: ${tablesOfCase.message}`,
          });
          continue;
        }
        const [result] = await runChecks(
          options.session,
          tablesOfCase.validated,
          [{ expectation: file.expectation_type, args: test.in ?? {}, severity: 'error' }],
          { sampleSize, resolveTable: (name) => tablesOfCase.byName.get(name) },
        );
        const difference = compareWithExpected(test, result as CheckResult, sampleSize);
        cases.push(
          difference === undefined
            ? { ...at, status: 'passed' }
            : { ...at, status: 'failed', detail: difference },
        );
      }
      for (const loadedTables of loaded.values()) {
        if (loadedTables instanceof Error) continue;
        for (const table of new Set(loadedTables.byName.values()))
          await options.session.run(`DROP TABLE IF EXISTS ${table}`);
      }
    }
  }
  return summarize(cases);
}

type BackendChoice = { backend: SqlBackend } | { skip: string };

function chooseBackend(
  expectation: string,
  dataset: GeTestFile['datasets'][number],
  test: GeTestCase,
): BackendChoice {
  const onlyFor = [dataset.only_for, test.only_for].filter((list): list is string[] => Array.isArray(list));
  const suppressed = [...(dataset.suppress_test_for ?? []), ...(test.suppress_test_for ?? [])];
  const allowed = (backend: SqlBackend) =>
    onlyFor.every((list) => list.includes(backend) || list.includes('sqlalchemy'));
  let backend: SqlBackend;
  if (allowed('postgresql')) backend = 'postgresql';
  else if (allowed('sqlite')) backend = 'sqlite';
  else return { skip: `only for ${[...new Set(onlyFor.flat())].sort().join(', ')}` };
  if (suppressed.includes(backend) || suppressed.includes('sqlalchemy')) {
    return { skip: `suppressed for ${suppressed.includes(backend) ? backend : 'sqlalchemy'}` };
  }
  if (test.in?.condition_parser === 'pandas') return { skip: 'row_condition in pandas syntax' };
  if (!EXPECTATIONS.has(expectation)) return { skip: `expectation ${expectation} is not supported` };
  return { backend };
}

/** Load the dataset (every table of a multi-table one) as `prefix`, `prefix_1`, …; all or nothing. */
async function loadDatasets(
  session: EngineSession,
  prefix: string,
  dataset: GeDataset | GeMultiTableDataset,
  backend: SqlBackend,
): Promise<LoadedTables | Error> {
  const parts: { name: string; dataset: GeDataset }[] = Array.isArray(dataset.data)
    ? dataset.data.map((part) => ({ name: part.dataset_name, dataset: part }))
    : [{ name: dataset.dataset_name ?? prefix, dataset: dataset as GeDataset }];
  const byName = new Map<string, string>();
  const created: string[] = [];
  try {
    for (const [index, part] of parts.entries()) {
      const table = index === 0 ? prefix : `${prefix}_${index}`;
      created.push(table);
      for (const statement of datasetStatements(table, part.dataset, backend)) await session.run(statement);
      byName.set(part.name, table);
    }
    return { validated: prefix, byName };
  } catch (error) {
    for (const table of created) await session.run(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * GE writes its test files with Python's `json`, which spells non-finite numbers `NaN`,
 * `Infinity` and `-Infinity`; read them as JavaScript numbers.
 */
export function parseGeJson(text: string): unknown {
  const marker = '\u0000ge-number:';
  const quoted = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (token) =>
    token.startsWith('"') ? token : JSON.stringify(marker + token),
  );
  return JSON.parse(quoted, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(marker) ? Number(value.slice(marker.length)) : value,
  );
}

function summarize(cases: ConformanceCase[]): ConformanceReport {
  const count = (status: ConformanceCase['status']) => cases.filter((item) => item.status === status).length;
  const skipReasons: Record<string, number> = {};
  for (const item of cases)
    if (item.status === 'skipped') skipReasons[item.detail!] = (skipReasons[item.detail!] ?? 0) + 1;
  const passed = count('passed');
  const failed = count('failed');
  return {
    cases,
    passed,
    failed,
    skipped: count('skipped'),
    skipReasons,
    passRate: passed + failed === 0 ? 0 : passed / (passed + failed),
  };
}

/**
 * The report as printed: one `FAIL file › dataset › title: expected … got …` line per failing
 * case, one `SKIP reason: N` line per skip reason, then `N passed, N failed, N skipped`.
 */
export function formatConformanceReport(report: ConformanceReport): string[] {
  const lines = report.cases
    .filter((item) => item.status === 'failed')
    .map((item) => `FAIL ${item.file} › ${item.dataset} › ${item.title}: ${item.detail}`);
  const reasons = Object.entries(report.skipReasons).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [reason, count] of reasons) lines.push(`SKIP ${reason}: ${count}`);
  lines.push(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
  return lines;
}
