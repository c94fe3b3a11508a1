// SQL read by DuckDB's parser and rendered for PostgreSQL gives the rows DuckDB gives for the same
// text (a corpus of portable queries over the same small tables on both engines); SQL the PostgreSQL
// dialect writes (masks) survives the parse and renders to what PostgreSQL makes of the original
// text; and what is not portable is reported at its line and column.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { duckdbDialect, postgresDialect, type Dialect } from '../../src/engines/dialect.ts';
import type { EngineSession } from '../../src/engines/engine.ts';
import { PostgresEngine } from '../../src/engines/postgres/postgres-engine.ts';
import { maskExpression } from '../../src/governance/mask-compiler.ts';
import type { FieldType, MaskKind } from '../../src/model/index.ts';
import {
  NonPortableSqlError,
  PORTABLE_FUNCTIONS,
  nonPortableConstructs,
  parseSingleStatement,
  deserializeSql,
  renderForPostgres,
  rewriteTableReferencesInAst,
} from '../../src/sql/index.ts';
import {
  POSTGRES_SERVER,
  createScratchDatabase,
  dropScratchDatabase,
  requirePostgres,
} from '../support/postgres-server.ts';

const DATABASE = `tessera_postgres_rendering_${process.pid}`;
const { skip } = await requirePostgres();

const scalar = (sql: string): FieldType => ({ kind: 'scalar', sql }) as FieldType;

/** The tables every query reads, created alike on both engines from field types. */
const TABLES: { name: string; columns: [string, FieldType][]; rows: string[] }[] = [
  {
    name: 'customers',
    columns: [
      ['id', scalar('INTEGER')],
      ['name', scalar('VARCHAR')],
      ['tier', scalar('VARCHAR')],
    ],
    rows: [`(1, 'ada', 'gold')`, `(2, 'bob', NULL)`, `(3, 'cy', 'silver')`, `(4, 'dee', 'gold')`],
  },
  {
    name: 'orders',
    columns: [
      ['id', scalar('BIGINT')],
      ['customer_id', scalar('INTEGER')],
      ['region', scalar('VARCHAR')],
      ['email', scalar('VARCHAR')],
      ['amount', { kind: 'decimal', precision: 10, scale: 2 }],
      ['qty', scalar('INTEGER')],
      ['placed', scalar('DATE')],
      ['shipped', scalar('TIMESTAMPTZ')],
    ],
    rows: [
      `(1, 1, 'north', 'a@x.org', 10.50, 2, '2024-01-01', '2024-01-02 10:30:00+00')`,
      `(2, 1, 'north', NULL, 4.25, 1, '2024-01-03', NULL)`,
      `(3, 3, 'south', 'c@y.com', 12.00, 4, '2024-01-02', '2024-01-05 23:59:59+00')`,
      `(4, 3, 'south', 'd@y.com', 0.10, 3, '2024-02-29', '2024-03-01 00:00:00+00')`,
      `(5, 5, 'east', 'e_x@z.net', -3.75, 2, '2023-12-31', '2024-01-01 08:00:00+00')`,
      `(6, NULL, NULL, 'f@x.org', 7.00, NULL, NULL, NULL)`,
    ],
  },
];

/** Portable queries: the same text on both engines (PostgreSQL gets its rendering). Each orders its rows fully. */
const CORPUS = [
  // joins of every kind
  `SELECT o.id, c.name FROM orders o JOIN customers c ON o.customer_id = c.id ORDER BY o.id`,
  `SELECT o.id, c.name FROM orders o LEFT JOIN customers c ON o.customer_id = c.id ORDER BY o.id`,
  `SELECT o.id, c.name FROM orders o RIGHT JOIN customers c ON o.customer_id = c.id ORDER BY c.name, o.id`,
  `SELECT o.id, c.id AS cid FROM orders o FULL OUTER JOIN customers c ON o.customer_id = c.id ORDER BY o.id, cid`,
  `SELECT c.name, d.name AS other FROM customers c CROSS JOIN customers d WHERE c.id < d.id ORDER BY 1, 2`,
  `SELECT id, name, tier FROM customers JOIN (SELECT id, qty FROM orders) q USING (id) ORDER BY id`,
  // WHERE
  `SELECT id FROM orders WHERE (region = 'north' OR qty > 2) AND NOT (amount < 1) ORDER BY id`,
  `SELECT id FROM orders WHERE region IN ('north', 'east') OR id NOT IN (1, 2, 3) ORDER BY id`,
  `SELECT id FROM orders WHERE amount BETWEEN 4.25 AND 11 OR qty NOT BETWEEN 2 AND 3 ORDER BY id`,
  `SELECT id, email LIKE '%@x.org' AS x, email NOT LIKE 'a%' AS na, email ILIKE 'C@%' AS c,
          email LIKE 'e\\_x%' AS backslash FROM orders ORDER BY id`,
  `SELECT id FROM orders WHERE email IS NULL OR shipped IS NOT NULL AND region IS NOT NULL ORDER BY id`,
  // grouping
  `SELECT region, count(*) AS n, sum(amount) AS total, min(placed) AS first, max(qty) AS most
     FROM orders GROUP BY region HAVING count(*) > 1 ORDER BY region`,
  `SELECT region, avg(qty) AS mean, count(DISTINCT customer_id) AS customers, count(email) AS emails
     FROM orders GROUP BY region ORDER BY region NULLS FIRST`,
  // ordering and paging
  `SELECT id, region FROM orders ORDER BY region DESC, id`,
  `SELECT id, region FROM orders ORDER BY region DESC NULLS FIRST, id DESC`,
  `SELECT id FROM orders ORDER BY id LIMIT 2 OFFSET 3`,
  // CTEs and set operations
  `WITH big AS (SELECT * FROM orders WHERE amount > 5), named AS (SELECT b.id, c.name FROM big b JOIN customers c ON b.customer_id = c.id)
   SELECT * FROM named ORDER BY id`,
  `SELECT region FROM orders UNION SELECT tier FROM customers ORDER BY 1 NULLS FIRST`,
  `SELECT customer_id FROM orders UNION ALL SELECT id FROM customers ORDER BY 1`,
  `SELECT id FROM customers EXCEPT SELECT customer_id FROM orders ORDER BY 1`,
  `SELECT id FROM customers INTERSECT SELECT customer_id FROM orders ORDER BY 1`,
  // subqueries
  `SELECT id, (SELECT max(amount) FROM orders) AS top, amount * 2 - (SELECT min(amount) FROM orders) AS spread FROM orders ORDER BY id`,
  `SELECT name FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE qty >= 2) ORDER BY name`,
  `SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)
      OR NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.qty > 0) ORDER BY name`,
  // CASE
  `SELECT id, CASE WHEN amount > 10 THEN 'big' WHEN amount > 1 THEN 'mid' ELSE 'small' END AS size,
          CASE region WHEN 'north' THEN 1 WHEN 'south' THEN 2 END AS r FROM orders ORDER BY id`,
  // casts to each field type, and literals
  `SELECT id, CAST(id AS VARCHAR) AS v, CAST(qty AS BIGINT) AS b, CAST(amount AS INTEGER) AS i,
          CAST(amount AS DOUBLE) AS d, CAST(qty AS FLOAT) AS f, CAST(qty AS UINTEGER) AS ui, CAST(qty AS UBIGINT) AS ub,
          CAST(id AS HUGEINT) AS h, CAST(qty AS DECIMAL(6,1)) AS dec, CAST(qty > 2 AS BOOLEAN) AS bo,
          CAST(email AS BLOB) = CAST('a@x.org' AS BLOB) AS bl, CAST('2024-05-06' AS DATE) AS da,
          CAST('2024-05-06 07:08:09+00' AS TIMESTAMPTZ) AS tz, CAST(placed AS VARCHAR) AS dt
     FROM orders ORDER BY id`,
  `SELECT DATE '2024-01-02' AS d, TIMESTAMP '2024-01-02 03:04:05' AS t, 1.5 AS dec, 1e3 AS dbl, 'it''s' AS s, TRUE AS yes, NULL AS nothing`,
  `SELECT id FROM orders WHERE placed >= DATE '2024-01-02' AND shipped < TIMESTAMP '2024-03-01 00:00:00' ORDER BY id`,
  // intervals
  `SELECT id, placed + INTERVAL 1 DAY AS next_day, placed + INTERVAL '2 days' AS later, placed - INTERVAL 3 MONTH AS earlier,
          shipped + INTERVAL 90 MINUTE AS shifted, placed + INTERVAL 1 YEAR AS next_year FROM orders ORDER BY id`,
  `SELECT count(*) AS n, max(q) AS most FROM (SELECT qty AS q FROM orders WHERE qty > 1)`,
  `SELECT DISTINCT region, qty::VARCHAR AS q FROM orders ORDER BY region, q`,
  `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 4) SELECT i, ifnull(nullif(i, 2), 0) AS j FROM n ORDER BY i`,
  `SELECT id, placed + INTERVAL 2 WEEK AS w, shipped - INTERVAL 5 HOUR AS h, shipped + INTERVAL 30 SECOND AS s
     FROM orders ORDER BY id`,
  // window functions
  `SELECT id, row_number() OVER (PARTITION BY region ORDER BY amount DESC) AS rn,
          rank() OVER (ORDER BY qty) AS rk, dense_rank() OVER (ORDER BY qty) AS drk,
          sum(amount) OVER (PARTITION BY region ORDER BY id) AS running,
          lag(id) OVER (ORDER BY id) AS prev, lead(id, 2) OVER (ORDER BY id) AS next2,
          first_value(id) OVER (PARTITION BY region ORDER BY id) AS fv,
          last_value(id) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS lv,
          ntile(2) OVER (ORDER BY id) AS half, count(*) OVER () AS total
     FROM orders ORDER BY id`,
  // strings and arithmetic
  `SELECT id, region || '-' || CAST(qty AS VARCHAR) AS label, qty + 1 AS a, qty - 1 AS s, qty * 3 AS m, qty % 2 AS r,
          CAST(qty AS DOUBLE) / 4 AS q, amount * qty AS total, -amount AS neg FROM orders ORDER BY id`,
  // the portable functions
  `SELECT id, coalesce(email, region, 'none') AS c, nullif(region, 'north') AS n, upper(region) AS u, lower('AbC') AS l,
          length(email) AS len, trim('  x ') AS t, ltrim('  x') AS lt, rtrim('x  ') AS rt, trim(BOTH 'x' FROM 'xxaxx') AS tb,
          substring(email FROM 2 FOR 3) AS sub, substring(email, 2, 3) AS sub2, substr(email, 3) AS sub3,
          replace(email, '@', ' at ') AS rep, concat(region, '/', email) AS cat, left(email, 2) AS le, right(email, 3) AS ri,
          lpad(CAST(qty AS VARCHAR), 4, '0') AS lp, rpad(region, 7, '.') AS rp, strpos(email, '@') AS sp,
          position('@' IN email) AS pos, split_part(email, '@', 2) AS dom, md5(email) AS h
     FROM orders ORDER BY id`,
  `SELECT id, abs(amount) AS a, ceil(amount) AS c, ceiling(amount) AS c2, floor(amount) AS f, sign(amount) AS s,
          sqrt(CAST(qty AS DOUBLE)) AS r, greatest(qty, 2) AS g, least(qty, 2) AS le, greatest(qty, NULL, 1) AS gn,
          make_date(2024, qty, 1) AS md FROM orders ORDER BY id`,
  `SELECT id, extract(year FROM placed) AS y, extract(quarter FROM placed) AS q, extract(month FROM placed) AS m,
          extract(week FROM placed) AS w, extract(day FROM placed) AS d, extract(dow FROM placed) AS dw,
          extract(isodow FROM placed) AS idw, extract(doy FROM placed) AS dy, extract(hour FROM shipped) AS h,
          extract(minute FROM shipped) AS mi, date_part('year', placed) AS dp FROM orders ORDER BY id`,
  `SELECT region, bool_and(qty > 1) AS all_many, bool_or(qty > 3) AS any_four, string_agg(email, ',' ORDER BY email) AS emails,
          sum(qty) FILTER (WHERE qty > 1) AS big FROM orders GROUP BY region ORDER BY region`,
];

let duck: EngineSession;
let postgres: PostgresEngine | undefined;
let duckdb: DuckdbEngine | undefined;
let pgSession: EngineSession;

async function createTables(session: EngineSession, dialect: Dialect): Promise<void> {
  for (const table of TABLES) {
    const columns = table.columns.map(([name, type]) => `${name} ${dialect.columnType(type)}`);
    await session.run(`CREATE TABLE ${table.name} (${columns.join(', ')})`);
    await session.run(`INSERT INTO ${table.name} VALUES ${table.rows.join(', ')}`);
  }
}

before(async () => {
  if (skip) return;
  duckdb = await DuckdbEngine.create();
  duck = await duckdb.openSession();
  await duck.run(`SET TimeZone = 'UTC'`);
  await createScratchDatabase(DATABASE);
  postgres = await PostgresEngine.create(`${POSTGRES_SERVER}/${DATABASE}`);
  pgSession = await postgres.openSession();
  await createTables(duck, duckdbDialect);
  await createTables(pgSession, postgresDialect);
});

after(async () => {
  if (skip) return;
  duck?.close();
  pgSession?.close();
  await duckdb?.close();
  await postgres?.close();
  await dropScratchDatabase(DATABASE);
});

async function rendered(sql: string): Promise<string> {
  return renderForPostgres((await parseSingleStatement(sql)).document);
}

test(
  'every query of the portable corpus gives the same rows on DuckDB and, rendered, on PostgreSQL',
  { skip },
  async () => {
    assert.ok(CORPUS.length >= 25);
    for (const sql of CORPUS) {
      assert.deepEqual(await nonPortableConstructs(sql), [], sql);
      const expected = (await duck.query(sql)).rows;
      const postgresSql = await rendered(sql);
      const actual = (await pgSession.query(postgresSql)).rows;
      assert.ok(expected.length > 0, sql);
      assert.deepEqual(actual, expected, `${sql}\nrendered: ${postgresSql}`);
    }
  },
);

test('every portable function is used by the corpus, so each is verified on both engines', () => {
  const corpus = CORPUS.join('\n').toLowerCase();
  for (const name of PORTABLE_FUNCTIONS) assert.match(corpus, new RegExp(`\\b${name}\\s*\\(`), name);
});

test(
  'integer division is rendered as PostgreSQL reads it, and reported as not portable',
  { skip },
  async () => {
    const sql = 'SELECT 1 / 2 AS half';
    assert.deepEqual((await duck.query(sql)).rows, [{ half: 0.5 }]);
    assert.deepEqual((await pgSession.query(await rendered(sql))).rows, [{ half: 0 }]);
    assert.deepEqual(await nonPortableConstructs(sql), [
      {
        message:
          '`/` divides integers differently (DuckDB: 1/2 = 0.5, PostgreSQL: 1/2 = 0); write `CAST(a AS DOUBLE) / b`',
        line: 1,
        column: 10,
      },
    ]);
  },
);

const MASKED_TYPES: [string, FieldType, string][] = [
  ['c_text', scalar('VARCHAR'), `'02139'`],
  ['c_bigint', scalar('BIGINT'), '2139'],
  ['c_date', scalar('DATE'), `'1920-06-30'`],
  ['c_ts', scalar('TIMESTAMPTZ'), `'1999-12-31 23:30:00+00'`],
  ['c_decimal', { kind: 'decimal', precision: 10, scale: 2 }, '95.5'],
  ['c_double', scalar('DOUBLE'), '12.25'],
];
const MASK_ROWS = [
  [`'02139'`, '2139', `'1920-06-30'`, `'1999-12-31 23:30:00+00'`, '95.5', '12.25'],
  [`'  03601'`, '3601', `'2020-01-01'`, `'2024-01-01 00:00:00+00'`, '12', '100'],
  [`'ab~12'`, '12', `'1934-12-31'`, `'1933-07-01 12:00:00+00'`, '89.99', '-1'],
  [`'x.y@mail.example'`, '99999', `'2001-02-03'`, `'2001-02-03 04:05:06.789+00'`, '0', '0.5'],
  [`'1234'`, '8', `'1899-01-01'`, `'2030-05-05 05:05:05+00'`, '-4', '1e10'],
  ['NULL', 'NULL', 'NULL', 'NULL', 'NULL', 'NULL'],
];
const MASKS: MaskKind[] = [
  'HASH',
  'REDACT',
  'NULLIFY',
  'DATE_YEAR',
  'ZIP3',
  'AGE_90_PLUS',
  'EMAIL_DOMAIN',
  'SHOW_LAST_4',
];

test(
  'every mask the PostgreSQL dialect writes gives, parsed and rendered, what its text gives on PostgreSQL',
  { skip },
  async () => {
    const columns = MASKED_TYPES.map(([name, type]) => `${name} ${postgresDialect.columnType(type)}`);
    await pgSession.run(`CREATE TABLE masked (id integer, ${columns.join(', ')})`);
    await pgSession.run(
      `INSERT INTO masked VALUES ${MASK_ROWS.map((row, index) => `(${index + 1}, ${row.join(', ')})`).join(', ')}`,
    );
    let compared = 0;
    for (const mask of MASKS) {
      for (const [column, type] of MASKED_TYPES) {
        let expression: string;
        try {
          expression = maskExpression(mask, column, type, {
            hashKeySql: postgresDialect.bytesLiteral(Buffer.from('rendering-key')),
            dialect: postgresDialect,
            asOfDateSql: "DATE '2024-06-01'",
          });
        } catch {
          continue; // the mask does not apply to this type
        }
        const sql = `SELECT ${expression} AS m FROM masked ORDER BY id`;
        const expected = (await pgSession.query(sql)).rows;
        const postgresSql = await rendered(sql);
        assert.deepEqual(
          (await pgSession.query(postgresSql)).rows,
          expected,
          `${mask} on ${column}\nrendered: ${postgresSql}`,
        );
        compared += 1;
      }
    }
    // HASH, REDACT, NULLIFY on six types; DATE_YEAR on two; ZIP3 on two; AGE_90_PLUS on three; two text masks on six.
    assert.equal(compared, 6 * 3 + 2 + 2 + 3 + 6 * 2);
  },
);

test(
  'a governed rewrite (masked columns, a row filter) rendered for PostgreSQL gives the rows DuckDB gives',
  { skip },
  async () => {
    const query = `SELECT o.region, o.email, count(*) AS n, min(placed) AS first FROM orders o WHERE o.qty > 0
     GROUP BY o.region, o.email ORDER BY o.region, o.email`;
    const secured = (dialect: Dialect, rowFilter: string) => {
      const context = { hashKeySql: dialect.bytesLiteral(Buffer.from('governed-key')), dialect };
      const email = maskExpression('HASH', 'email', scalar('VARCHAR'), context);
      const placed = maskExpression('DATE_YEAR', 'placed', scalar('DATE'), {
        ...context,
        asOfDateSql: "DATE '2024-06-01'",
      });
      return `SELECT id, region, ${email} AS email, qty, ${placed} AS placed FROM orders WHERE ${rowFilter}`;
    };
    const { document } = await parseSingleStatement(query);
    // The same row filter in each engine's words: PostgreSQL's `~` is a partial match.
    const onDuckdb = await rewriteTableReferencesInAst(document, () =>
      secured(duckdbDialect, "regexp_matches(region, 'th') OR email LIKE '%z.net'"),
    );
    const onPostgres = await rewriteTableReferencesInAst(document, () =>
      secured(postgresDialect, "region ~ 'th' OR email LIKE '%z.net'"),
    );
    const expected = (await duck.query(await deserializeSql(onDuckdb))).rows;
    assert.equal(expected.length, 5);
    assert.deepEqual((await pgSession.query(await renderForPostgres(onPostgres))).rows, expected);
  },
);

test(
  'PostgreSQL operators DuckDB reads as other functions are written back as PostgreSQL reads them',
  { skip },
  async () => {
    const sql = `SELECT 'abc' ~ 'b' AS partial, 'abc' !~ 'b' AS not_partial, 'ABC' ~* 'b' AS insensitive,
     (regexp_match('k=v', '=(.*)$'))[1] AS captured, extract(year FROM TIMESTAMPTZ '2024-12-31 23:00:00+00' AT TIME ZONE 'UTC') AS y,
     position('c' IN 'abc') AS p, 2 ^ 3 AS power`;
    const expected = {
      partial: true,
      not_partial: false,
      insensitive: true,
      captured: 'v',
      y: 2024,
      p: 3,
      power: 8,
    };
    assert.deepEqual((await pgSession.query(sql)).rows, [expected]);
    assert.deepEqual((await pgSession.query(await rendered(sql))).rows, [expected]);
  },
);

test('constructs without an exact PostgreSQL rendering are refused with where they are', async () => {
  const cases: [string, string, number][] = [
    ['SELECT * EXCLUDE (id) FROM orders', '* EXCLUDE', 7],
    ['SELECT id FROM orders QUALIFY row_number() OVER () = 1', 'QUALIFY', 30],
    // DuckDB places a list at its first element.
    ['SELECT [1, 2] AS l', '[…]', 8],
    ['SELECT TRY_CAST(x AS INTEGER) FROM t', 'TRY_CAST', 7],
    ["SELECT * FROM read_parquet('f.parquet')", 'read_parquet', 14],
    ['SELECT * FROM orders AT (VERSION => 2)', 'AT', 14],
    ["SELECT regexp_full_match(email, 'a') FROM orders", 'regexp_full_match', 7],
    ["SELECT email SIMILAR TO 'a.*' FROM orders", 'regexp_full_match', 13],
    ['SELECT list_transform(l, x -> x + 1) FROM t', '->', 27],
    ['SELECT 7 // 2', '//', 9],
  ];
  for (const [sql, construct, location] of cases) {
    await assert.rejects(rendered(sql), (error: unknown) => {
      assert.ok(error instanceof NonPortableSqlError, sql);
      assert.equal(error.construct, construct, sql);
      assert.equal(error.location, location, sql);
      return true;
    });
  }
});

test('nonPortableConstructs reports each construct at its line and column with what to write instead', async () => {
  const sql = [
    'SELECT id,',
    '       list_contains(tags, 1) AS tagged,',
    "       email ~ '^a' AS a_mail,",
    "       qty / 2 AS half, strftime(placed, '%Y') AS y",
    'FROM orders',
    'QUALIFY row_number() OVER (PARTITION BY region) = 1',
  ].join('\n');
  assert.deepEqual(await nonPortableConstructs(sql), [
    {
      message:
        '`list_contains` is not portable between DuckDB and PostgreSQL; with a PostgreSQL engine use `x IN (…)`',
      line: 2,
      column: 8,
    },
    {
      message:
        '`~` is a whole-text match in DuckDB and a partial match in PostgreSQL (and `SIMILAR TO` differs too); use `LIKE`',
      line: 3,
      column: 14,
    },
    {
      message:
        '`/` divides integers differently (DuckDB: 1/2 = 0.5, PostgreSQL: 1/2 = 0); write `CAST(a AS DOUBLE) / b`',
      line: 4,
      column: 12,
    },
    {
      message:
        '`strftime` is not portable between DuckDB and PostgreSQL; with a PostgreSQL engine format the value where it is read, or use `extract(… FROM …)`',
      line: 4,
      column: 25,
    },
    {
      message:
        '`QUALIFY` is DuckDB-only; filter the window function in an outer query (`SELECT … FROM (SELECT …, row_number() OVER (…) AS n …) WHERE n = 1`)',
      line: 6,
      column: 9,
    },
  ]);
  assert.deepEqual(
    await nonPortableConstructs(
      'SELECT placed + INTERVAL 2 DAY AS later, trunc(amount) AS whole FROM orders',
    ),
    [
      {
        message:
          '`trunc` is not portable between DuckDB and PostgreSQL (the portable functions are listed in docs/engines.md)',
        line: 1,
        column: 42,
      },
    ],
    'the INTERVAL is portable; a trunc() written by hand is not in the subset',
  );
  assert.deepEqual(
    (await nonPortableConstructs("SELECT * EXCLUDE (a), COLUMNS('b'), {'k': 1} AS s FROM t")).map(
      (finding) => `${finding.column}: ${finding.message}`,
    ),
    [
      '8: `* EXCLUDE (…)` is DuckDB-only; list the columns to keep',
      '23: `COLUMNS(…)` is DuckDB-only; list the columns',
      "38: structs (`{'a': 1}`) are DuckDB-only",
    ],
  );
});
