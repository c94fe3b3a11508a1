import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import type { EngineSession } from '../../src/engines/engine.ts';
import {
  parseSingleStatement,
  rewriteTableReferences,
  type AliasedTableReference,
} from '../../src/sql/index.ts';

/** Stand-in relations: each catalog table becomes a VALUES list that names its table in a column. */
const RELATIONS: Record<string, string> = {
  'clinical.patients': "SELECT * FROM (VALUES ('p1', '111-11-1111', 'CA')) AS v(patient_id, ssn, state)",
  'clinical.visits': "SELECT * FROM (VALUES ('v1', 'p1', 10.5)) AS v(visit_id, patient_id, cost)",
};

async function rewrite(sql: string, seen: AliasedTableReference[] = []): Promise<string> {
  const statement = await parseSingleStatement(sql);
  return rewriteTableReferences(statement.document, (reference) => {
    seen.push(reference);
    const relation = RELATIONS[reference.name];
    if (!relation) throw new Error(`no relation for ${reference.name}`);
    return relation;
  });
}

describe('rewriteTableReferences', () => {
  let engine: DuckdbEngine;
  let session: EngineSession;
  before(async () => {
    engine = await DuckdbEngine.create({ threads: 1 });
    session = await engine.openSession();
  });
  after(async () => {
    session?.close();
    await engine?.close();
  });

  test('keeps an explicit alias', async () => {
    const sql = await rewrite('SELECT p.ssn FROM clinical.patients AS p');
    assert.match(sql, /\) AS p\b/);
    assert.deepEqual((await session.query(sql)).rows, [{ ssn: '111-11-1111' }]);
  });

  test('aliases an unaliased reference with its bare name, so both qualified spellings still bind', async () => {
    const sql = await rewrite(
      'SELECT patients.ssn, clinical.patients.state, patient_id FROM clinical.patients',
    );
    assert.match(sql, /\) AS patients\b/);
    assert.deepEqual((await session.query(sql)).rows, [
      { ssn: '111-11-1111', state: 'CA', patient_id: 'p1' },
    ]);
  });

  test('joins of two rewritten tables keep working', async () => {
    const sql = await rewrite(
      'SELECT clinical.patients.ssn, v.cost FROM clinical.patients JOIN clinical.visits v USING (patient_id)',
    );
    assert.deepEqual((await session.query(sql)).rows, [{ ssn: '111-11-1111', cost: 10.5 }]);
  });

  test('keeps column aliases and samples on the reference', async () => {
    const sql = await rewrite(
      'SELECT a, c FROM clinical.patients AS p(a, b, c) USING SAMPLE 100 PERCENT (bernoulli)',
    );
    assert.deepEqual((await session.query(sql)).rows, [{ a: 'p1', c: 'CA' }]);
    const sampled = await rewrite('SELECT count(*) AS n FROM clinical.patients TABLESAMPLE 100 PERCENT');
    assert.match(sampled, /TABLESAMPLE/);
  });

  test('hands the AT clause to the callback and consumes it', async () => {
    const seen: AliasedTableReference[] = [];
    const sql = await rewrite('SELECT * FROM clinical.patients AS p AT (VERSION => 3)', seen);
    assert.equal(seen[0]!.name, 'clinical.patients');
    assert.equal(seen[0]!.alias, 'p');
    assert.equal(seen[0]!.at?.unit, 'VERSION');
    assert.doesNotMatch(sql, /AT \(/);
    assert.equal((await session.query(sql)).rows.length, 1);
  });

  test('does not replace CTE names, but replaces tables inside CTE bodies', async () => {
    const seen: AliasedTableReference[] = [];
    const sql = await rewrite(
      'WITH patients AS (SELECT * FROM clinical.patients), x AS (SELECT * FROM patients) SELECT ssn FROM x',
      seen,
    );
    assert.deepEqual(
      seen.map((reference) => reference.name),
      ['clinical.patients'],
    );
    assert.deepEqual((await session.query(sql)).rows, [{ ssn: '111-11-1111' }]);
  });

  test('a CTE body that names the CTE itself refers to a table, as DuckDB binds it', async () => {
    const seen: AliasedTableReference[] = [];
    await assert.rejects(
      rewrite('WITH visits AS (SELECT * FROM visits) SELECT * FROM visits', seen),
      /no relation for visits/,
    );
    assert.deepEqual(
      seen.map((reference) => reference.name),
      ['visits'],
    );
  });

  test('the recursive side of a recursive CTE refers to the CTE', async () => {
    const seen: AliasedTableReference[] = [];
    const sql = await rewrite(
      'WITH RECURSIVE r(n) AS (SELECT 1 FROM clinical.visits UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT count(*) AS c FROM r',
      seen,
    );
    assert.deepEqual(
      seen.map((reference) => reference.name),
      ['clinical.visits'],
    );
    assert.deepEqual((await session.query(sql)).rows, [{ c: 3 }]);
  });

  test('replaces references in subqueries, lateral joins and set operations', async () => {
    const seen: AliasedTableReference[] = [];
    const sql = await rewrite(
      'SELECT (SELECT count(*) FROM clinical.visits) AS n, t.ssn FROM clinical.patients p, LATERAL (SELECT p.ssn) t UNION ALL SELECT 0, ssn FROM clinical.patients',
      seen,
    );
    assert.equal(seen.length, 3);
    assert.equal((await session.query(sql)).rows.length, 2);
  });

  test('does not mutate the parsed document it is given', async () => {
    const statement = await parseSingleStatement('SELECT * FROM clinical.patients');
    const before = JSON.stringify(statement.document);
    await rewriteTableReferences(statement.document, () => RELATIONS['clinical.patients']!);
    assert.equal(JSON.stringify(statement.document), before);
  });
});
