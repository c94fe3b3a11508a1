import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import { columnLineage, parseSingleStatement, type OutputColumnLineage } from '../../src/sql/index.ts';

const TABLES: Record<string, string[]> = {
  'clinical.patients': ['patient_id', 'ssn', 'first_name', 'state', 'birth_date'],
  'clinical.visits': ['visit_id', 'patient_id', 'cost', 'state'],
};
const columnsOf = (table: string) => TABLES[table];

/** `name <- table.column, ... [direct]`, one line per output column, for readable assertions. */
async function lineage(sql: string): Promise<string[]> {
  return (await columnLineage(sql, columnsOf)).map(describeColumn);
}

function describeColumn(column: OutputColumnLineage): string {
  const sources = column.sources.map((source) => `${source.table}.${source.column}`).join(', ');
  return `${column.name} <- ${sources}${column.direct ? ' [direct]' : ''}`;
}

describe('columnLineage', () => {
  test('a plain column and a rename are direct', async () => {
    assert.deepEqual(await lineage('SELECT ssn, first_name AS name FROM clinical.patients'), [
      'ssn <- clinical.patients.ssn [direct]',
      'name <- clinical.patients.first_name [direct]',
    ]);
  });

  test('casts, concatenation and functions derive but are not direct', async () => {
    assert.deepEqual(
      await lineage(
        "SELECT CAST(ssn AS VARCHAR) AS s, first_name || ' ' || state AS label, upper(first_name) FROM clinical.patients",
      ),
      [
        's <- clinical.patients.ssn',
        'label <- clinical.patients.first_name, clinical.patients.state',
        'upper(first_name) <- clinical.patients.first_name',
      ],
    );
  });

  test('aggregates derive from their arguments; count(*) from nothing', async () => {
    assert.deepEqual(
      await lineage(
        "SELECT state, count(*) AS n, max(ssn) AS top, string_agg(first_name, ',') AS names FROM clinical.patients GROUP BY state",
      ),
      [
        'state <- clinical.patients.state [direct]',
        'n <- ',
        'top <- clinical.patients.ssn',
        'names <- clinical.patients.first_name',
      ],
    );
  });

  test('CTEs, chained, keep sources and directness', async () => {
    assert.deepEqual(
      await lineage(
        'WITH p AS (SELECT ssn AS id, state FROM clinical.patients), q AS (SELECT id AS key FROM p) SELECT key FROM q',
      ),
      ['key <- clinical.patients.ssn [direct]'],
    );
  });

  test('a CTE with column aliases', async () => {
    assert.deepEqual(
      await lineage('WITH p(a, b) AS (SELECT ssn, state FROM clinical.patients) SELECT b, a FROM p'),
      ['b <- clinical.patients.state [direct]', 'a <- clinical.patients.ssn [direct]'],
    );
  });

  test('subqueries in FROM, with column aliases', async () => {
    assert.deepEqual(
      await lineage('SELECT x, y FROM (SELECT first_name, ssn FROM clinical.patients) AS t(x, y)'),
      ['x <- clinical.patients.first_name [direct]', 'y <- clinical.patients.ssn [direct]'],
    );
  });

  test('scalar subqueries derive from the subquery output', async () => {
    assert.deepEqual(
      await lineage(
        'SELECT v.visit_id, (SELECT max(p.ssn) FROM clinical.patients p WHERE p.patient_id = v.patient_id) AS s FROM clinical.visits v',
      ),
      ['visit_id <- clinical.visits.visit_id [direct]', 's <- clinical.patients.ssn'],
    );
  });

  test('joins resolve qualified and unqualified references', async () => {
    assert.deepEqual(
      await lineage(
        'SELECT patients.ssn, cost, v.state AS visit_state, clinical.patients.first_name FROM clinical.patients JOIN clinical.visits v ON v.patient_id = clinical.patients.patient_id',
      ),
      [
        'ssn <- clinical.patients.ssn [direct]',
        'cost <- clinical.visits.cost [direct]',
        'visit_state <- clinical.visits.state [direct]',
        'first_name <- clinical.patients.first_name [direct]',
      ],
    );
  });

  test('a reference it cannot resolve still keeps a source of that name', async () => {
    assert.deepEqual(await lineage('SELECT nowhere.ssn AS s FROM clinical.patients'), [
      's <- clinical.patients.ssn [direct]',
    ]);
  });

  test('a USING column derives from both sides and appears once in *', async () => {
    const columns = await lineage('SELECT * FROM clinical.patients JOIN clinical.visits USING (patient_id)');
    assert.deepEqual(columns, [
      'patient_id <- clinical.patients.patient_id [direct]',
      'ssn <- clinical.patients.ssn [direct]',
      'first_name <- clinical.patients.first_name [direct]',
      'state <- clinical.patients.state [direct]',
      'birth_date <- clinical.patients.birth_date [direct]',
      'visit_id <- clinical.visits.visit_id [direct]',
      'cost <- clinical.visits.cost [direct]',
      'state <- clinical.visits.state [direct]',
    ]);
    assert.deepEqual(
      await lineage('SELECT patient_id FROM clinical.patients JOIN clinical.visits USING (patient_id)'),
      ['patient_id <- clinical.patients.patient_id, clinical.visits.patient_id [direct]'],
    );
  });

  test('* EXCLUDE / REPLACE / RENAME and t.*', async () => {
    assert.deepEqual(
      await lineage(
        'SELECT * EXCLUDE (birth_date) REPLACE (upper(first_name) AS first_name) RENAME (state AS st) FROM clinical.patients',
      ),
      [
        'patient_id <- clinical.patients.patient_id [direct]',
        'ssn <- clinical.patients.ssn [direct]',
        'first_name <- clinical.patients.first_name',
        'st <- clinical.patients.state [direct]',
      ],
    );
    assert.deepEqual(await lineage('SELECT v.* FROM clinical.patients p, clinical.visits v'), [
      'visit_id <- clinical.visits.visit_id [direct]',
      'patient_id <- clinical.visits.patient_id [direct]',
      'cost <- clinical.visits.cost [direct]',
      'state <- clinical.visits.state [direct]',
    ]);
  });

  test('COLUMNS with a regular expression', async () => {
    assert.deepEqual(await lineage("SELECT COLUMNS('^s') FROM clinical.patients"), [
      'ssn <- clinical.patients.ssn [direct]',
      'state <- clinical.patients.state [direct]',
    ]);
  });

  test('CASE derives from its conditions and its results', async () => {
    assert.deepEqual(
      await lineage("SELECT CASE WHEN state = 'CA' THEN ssn ELSE 'none' END AS k FROM clinical.patients"),
      ['k <- clinical.patients.state, clinical.patients.ssn'],
    );
  });

  test('window functions derive from arguments, partitions and ordering', async () => {
    assert.deepEqual(
      await lineage(
        'SELECT row_number() OVER (PARTITION BY state ORDER BY birth_date) AS rn, lag(ssn) OVER (ORDER BY patient_id) AS prev FROM clinical.patients',
      ),
      [
        'rn <- clinical.patients.state, clinical.patients.birth_date',
        'prev <- clinical.patients.ssn, clinical.patients.patient_id',
      ],
    );
  });

  test('UNION merges positions; by name merges names', async () => {
    assert.deepEqual(
      await lineage('SELECT ssn AS id FROM clinical.patients UNION ALL SELECT visit_id FROM clinical.visits'),
      ['id <- clinical.patients.ssn, clinical.visits.visit_id [direct]'],
    );
    assert.deepEqual(
      await lineage(
        'SELECT state, ssn AS x FROM clinical.patients UNION ALL BY NAME SELECT cost AS x, visit_id AS y FROM clinical.visits',
      ),
      [
        'state <- clinical.patients.state [direct]',
        'x <- clinical.patients.ssn, clinical.visits.cost [direct]',
        'y <- clinical.visits.visit_id [direct]',
      ],
    );
  });

  test('a recursive CTE carries its base sources through the recursion', async () => {
    assert.deepEqual(
      await lineage(
        'WITH RECURSIVE r(n, s) AS (SELECT 1, ssn FROM clinical.patients UNION ALL SELECT n + 1, s || first FROM r, (SELECT first_name AS first FROM clinical.patients) f WHERE n < 3) SELECT s FROM r',
      ),
      ['s <- clinical.patients.ssn, clinical.patients.first_name'],
    );
  });

  test('lateral aliases, lambdas and whole-row references', async () => {
    assert.deepEqual(
      await lineage('SELECT cost * 2 AS double_cost, double_cost + 1 AS more FROM clinical.visits'),
      ['double_cost <- clinical.visits.cost', 'more <- clinical.visits.cost'],
    );
    assert.deepEqual(
      await lineage('SELECT list_transform([1, 2], x -> x || ssn) AS l FROM clinical.patients'),
      ['l <- clinical.patients.ssn'],
    );
    assert.deepEqual(await lineage('SELECT to_json(v) AS j FROM clinical.visits v'), [
      'j <- clinical.visits.visit_id, clinical.visits.patient_id, clinical.visits.cost, clinical.visits.state',
    ]);
  });

  test('a table columnsOf does not know is still attributed', async () => {
    assert.deepEqual(await lineage('SELECT t.a, b AS bee FROM other.t'), [
      'a <- other.t.a [direct]',
      'bee <- other.t.b [direct]',
    ]);
    assert.deepEqual(await lineage('SELECT * FROM other.t'), ['* <- other.t.*']);
  });

  test('a PIVOT derives every output from everything it reads', async () => {
    const [first] = await columnLineage(
      "SELECT * FROM clinical.visits PIVOT (sum(cost) FOR state IN ('CA', 'NY'))",
      columnsOf,
    );
    assert.equal(first!.direct, false);
    assert.ok(first!.sources.some((source) => source.column === 'cost'));
  });

  test('names unaliased expressions the way DuckDB does', async () => {
    const [column] = await columnLineage('SELECT CAST(ssn AS INTEGER) + 1 FROM clinical.patients', columnsOf);
    assert.equal(column!.name, '(CAST(ssn AS INTEGER) + 1)');
  });

  test('the same query over tables whose columns changed gets the new lineage, and callers may edit what they get', async () => {
    const sql = 'SELECT * FROM shop.orders';
    const before = await columnLineage(sql, (table) => (table === 'shop.orders' ? ['id'] : undefined));
    assert.deepEqual(before.map(describeColumn), ['id <- shop.orders.id [direct]']);
    before[0]!.sources.push({ table: 'edited', column: 'by the caller' });
    const again = await columnLineage(sql, (table) => (table === 'shop.orders' ? ['id'] : undefined));
    assert.deepEqual(again.map(describeColumn), ['id <- shop.orders.id [direct]']);
    const after = await columnLineage(sql, (table) =>
      table === 'shop.orders' ? ['id', 'total'] : undefined,
    );
    assert.deepEqual(after.map(describeColumn), [
      'id <- shop.orders.id [direct]',
      'total <- shop.orders.total [direct]',
    ]);
    const unknown = await columnLineage(sql, () => undefined);
    assert.deepEqual(unknown.map(describeColumn), ['* <- shop.orders.*']);
  });

  test('a statement the caller already parsed gives the lineage parsing would', async () => {
    const query =
      'SELECT v.state AS member_state, upper(p.first_name) AS name FROM clinical.visits v JOIN clinical.patients p USING (patient_id)';
    const expected = [
      'member_state <- clinical.visits.state [direct]',
      'name <- clinical.patients.first_name',
    ];
    assert.deepEqual(await lineage(`${query} -- parsed here`), expected);
    const sql = `${query} -- parsed by the caller`;
    const { node } = await parseSingleStatement(sql);
    assert.deepEqual((await columnLineage(sql, columnsOf, node)).map(describeColumn), expected);
  });

  test('more than one statement is refused', async () => {
    await assert.rejects(columnLineage('SELECT 1; SELECT 2', columnsOf), QueryError);
  });
});
