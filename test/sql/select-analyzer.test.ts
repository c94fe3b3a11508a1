import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import {
  analyzeSelect,
  deserializeSql,
  parseSql,
  referencedTables,
  statementKeywords,
} from '../../src/sql/index.ts';

describe('analyzeSelect', () => {
  test('lists tables with AT clauses, CTE names and table functions', async () => {
    const analysis = await analyzeSelect(
      "WITH recent AS (SELECT * FROM clinical.patients AT (VERSION => 2)), x AS (SELECT * FROM recent) SELECT * FROM x, range(3), read_csv('a.csv') JOIN analytics.summary USING (id)",
    );
    assert.deepEqual(
      analysis.tables.map((table) => [table.name, table.at?.unit]),
      [
        ['clinical.patients', 'VERSION'],
        ['analytics.summary', undefined],
      ],
    );
    assert.deepEqual(analysis.cteNames, ['recent', 'x']);
    assert.deepEqual(analysis.tableFunctions, ['range', 'read_csv']);
  });

  test('a CTE name is not a table, but the same name qualified is', async () => {
    const analysis = await analyzeSelect(
      'WITH patients AS (SELECT 1 AS a) SELECT * FROM patients, clinical.patients',
    );
    assert.deepEqual(
      analysis.tables.map((table) => table.name),
      ['clinical.patients'],
    );
  });

  test('more than one statement is refused', async () => {
    await assert.rejects(analyzeSelect('SELECT 1; SELECT 2'), /only one statement per query is allowed/);
  });

  test('a statement that is not a query names its keyword', async () => {
    await assert.rejects(analyzeSelect("COPY t TO '/tmp/x.csv'"), (error: unknown) => {
      assert.ok(error instanceof QueryError);
      assert.equal(error.message, 'only SELECT and WITH queries are allowed; `COPY` is refused');
      return true;
    });
    await assert.rejects(analyzeSelect('SELECT 1; DROP TABLE t'), /`DROP` is refused/);
  });

  test('a syntax error carries DuckDB’s message', async () => {
    await assert.rejects(analyzeSelect('SELECT FROM WHERE'), /syntax error/);
  });
});

describe('referencedTables', () => {
  test('follows DuckDB CTE scoping: earlier CTEs only, no self reference, recursion on the recursive side', async () => {
    const [statement] = await parseSql(
      'WITH a AS (SELECT * FROM b), b AS (SELECT * FROM b), RECURSIVE_NOT AS (SELECT 1) SELECT * FROM a, b',
    );
    // `a` reads a table `b` (declared later), `b` reads a table `b` (itself is not visible yet).
    assert.deepEqual(
      referencedTables(statement!.node).map((table) => table.name),
      ['b', 'b'],
    );
    const [recursive] = await parseSql(
      'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r',
    );
    assert.deepEqual(referencedTables(recursive!.node), []);
  });
});

describe('parseSql and deserializeSql', () => {
  test('round-trip doubles, samples and integers beyond 2^53 exactly', async () => {
    const [statement] = await parseSql(
      'SELECT 1e3 AS a, 9007199254740993 AS b, 0.1::DOUBLE AS c FROM t USING SAMPLE 10 PERCENT (system)',
    );
    const sql = await deserializeSql(statement!.document);
    assert.match(sql, /9007199254740993/);
    assert.match(sql, /1000\.0/);
    assert.match(sql, /10\.0%/);
  });
});

describe('statementKeywords', () => {
  test('skips comments, strings and quoted identifiers', () => {
    assert.deepEqual(
      statementKeywords(
        "-- COPY\n/* DROP /* nested */ */ select ';DROP'; \"x;y\"; with a as (select 1) select 1;; copy t to 'f'",
      ),
      ['SELECT', 'WITH', 'COPY'],
    );
    assert.deepEqual(statementKeywords('select $$ ; drop $$; attach'), ['SELECT', 'ATTACH']);
  });
});
