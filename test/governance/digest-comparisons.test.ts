// Joins and distinct counts on HASH-masked columns compare the stored digests' binary halves
// instead of 64-character hex text. The rewrite must never change an answer, never show the halves,
// and step aside wherever a query could list a relation's columns wholesale.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  digestHalvesSql,
  guardQuery,
  hashKeyLiteral,
  maskExpression,
  type GuardContext,
  type ResolvedRelation,
} from '../../src/governance/index.ts';
import type { FieldDef, FieldType, RoleDef } from '../../src/model/index.ts';
import { sandboxedSession } from '../support/sandboxed-session.ts';

const KEY = 'digest-comparison-test-key';
const varchar: FieldType = { kind: 'scalar', sql: 'VARCHAR' };
const at = { file: 'access/roles.yaml', line: 1, column: 1 };
/** A reference to a digest half through a relation's alias: only the rewrite writes one. */
const HALF_REFERENCE = /\b[a-z]\.\w+__hash_(hi|lo)\b/;
const usesHalves = (sql: string) => HALF_REFERENCE.test(sql);

const PERSON_FIELDS: FieldDef[] = [
  { name: 'person_id', number: 1, type: varchar, nullable: false },
  { name: 'ssn', number: 2, type: varchar, nullable: true, sensitivity: 'PHI', mask: 'HASH' },
  { name: 'state', number: 3, type: varchar, nullable: true },
];
const CLAIM_FIELDS: FieldDef[] = [
  { name: 'claim_id', number: 1, type: varchar, nullable: false },
  { name: 'subscriber_ssn', number: 2, type: varchar, nullable: true, sensitivity: 'PHI', mask: 'HASH' },
  { name: 'amount', number: 3, type: { kind: 'scalar', sql: 'DOUBLE' }, nullable: true },
];

/** People with a shared SSN, a NULL SSN, and one nobody claims for; claims with a NULL and an unknown subscriber. */
const PEOPLE = `VALUES ('p1', '111-11-1111', 'CA'), ('p2', '222-22-2222', 'CA'), ('p3', '222-22-2222', 'NY'),
  ('p4', NULL, 'CA'), ('p5', '555-55-5555', 'CA')`;
const CLAIMS = `VALUES ('c1', '111-11-1111', 10.0), ('c2', '222-22-2222', 20.0), ('c3', '222-22-2222', 30.0),
  ('c4', NULL, 40.0), ('c5', '999-99-9999', 50.0), ('c6', '111-11-1111', 60.0)`;

const ANALYST: RoleDef = {
  name: 'analyst',
  members: ['group:analytics'],
  grants: ['people.*'],
  denyColumns: {},
  rowFilters: {},
  unmask: [],
  at,
};

/** A relation as the runner stores it: the fields, the keyed hash of each HASH field, and its halves. */
function storedRelation(values: string, fields: FieldDef[], withHalves: boolean): ResolvedRelation {
  const hashed = fields.filter((field) => field.mask === 'HASH').map((field) => field.name);
  const hashes = hashed.map(
    (name) =>
      `${maskExpression('HASH', name, varchar, { hashKeySql: hashKeyLiteral(KEY) })} AS ${name}__hash`,
  );
  const halves = hashed.flatMap((name) => {
    const [high, low] = digestHalvesSql(`${name}__hash`);
    return [`${high} AS ${name}__hash_hi`, `${low} AS ${name}__hash_lo`];
  });
  const columns = fields.map((field) => field.name).join(', ');
  return {
    sql: `(SELECT *${halves.length > 0 ? `, ${halves.join(', ')}` : ''} FROM (SELECT *, ${hashes.join(', ')} FROM (${values}) AS t(${columns})))`,
    fields,
    hashColumns: Object.fromEntries(hashed.map((name) => [name, `${name}__hash`])),
    ...(withHalves
      ? {
          digestColumns: Object.fromEntries(
            hashed.map((name) => [name, [`${name}__hash_hi`, `${name}__hash_lo`] as const]),
          ),
        }
      : {}),
  };
}

function context(options: { withHalves: boolean; roles?: RoleDef[] }): GuardContext {
  return {
    principal: { name: 'ana@example.org', groups: ['analytics'], attributes: {} },
    roles: options.roles ?? [ANALYST],
    masks: { hashKeySql: hashKeyLiteral(KEY) },
    resolveRelation: async (request) =>
      request.table === 'people.persons'
        ? storedRelation(PEOPLE, PERSON_FIELDS, options.withHalves)
        : request.table === 'people.claims'
          ? storedRelation(CLAIMS, CLAIM_FIELDS, options.withHalves)
          : undefined,
  };
}

describe('digest comparisons', () => {
  const sandbox = sandboxedSession();

  /** The query guarded with the halves available and without; both answers, and the SQL of the first. */
  async function both(sql: string) {
    const withHalves = await guardQuery(sql, context({ withHalves: true }));
    const withoutHalves = await guardQuery(sql, context({ withHalves: false }));
    assert.ok(!usesHalves(withoutHalves.sql), 'no halves, no rewrite');
    const [fast, text] = [
      await sandbox.session.query(withHalves.sql),
      await sandbox.session.query(withoutHalves.sql),
    ];
    return { sql: withHalves.sql, fast, text };
  }

  test('a join on two hashed columns compares the halves, and pairs exactly the rows the hex join pairs', async () => {
    const { sql, fast, text } = await both(
      `SELECT p.person_id, c.claim_id FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn
       ORDER BY p.person_id, c.claim_id`,
    );
    assert.ok(
      sql.includes(
        'ON (((c.subscriber_ssn__hash_hi = p.ssn__hash_hi) AND ((c.subscriber_ssn__hash_lo = p.ssn__hash_lo) IS DISTINCT FROM false)))',
      ),
      'the join compares both halves',
    );
    assert.deepEqual(
      fast.rows.map((row) => `${row.person_id}:${row.claim_id}`),
      ['p1:c1', 'p1:c6', 'p2:c2', 'p2:c3', 'p3:c2', 'p3:c3'],
      'NULL SSNs join nothing; a shared SSN joins both people',
    );
    assert.deepEqual(fast.rows, text.rows);
    assert.deepEqual(
      fast.columns.map((column) => column.name),
      ['person_id', 'claim_id'],
    );
  });

  test('<>, IS DISTINCT FROM and IS NOT DISTINCT FROM keep their NULL semantics', async () => {
    for (const operator of ['<>', 'IS DISTINCT FROM', 'IS NOT DISTINCT FROM', '=']) {
      const { sql, fast, text } = await both(
        `SELECT count(*) AS pairs, count(p.ssn) AS with_ssn FROM people.persons p, people.claims c
         WHERE c.subscriber_ssn ${operator} p.ssn`,
      );
      assert.ok(usesHalves(sql), operator);
      assert.deepEqual(fast.rows, text.rows, operator);
    }
    const { fast } = await both(
      'SELECT count(*) AS n FROM people.persons p JOIN people.claims c ON c.subscriber_ssn IS NOT DISTINCT FROM p.ssn',
    );
    assert.equal(fast.rows[0]!.n, 7, 'NULL matches NULL once: p4 with c4');
  });

  test('a comparison as a value keeps three-valued logic: NULL stays NULL, also under NOT', async () => {
    const { sql, fast, text } = await both(
      `SELECT p.person_id, c.claim_id, c.subscriber_ssn = p.ssn AS same, NOT (c.subscriber_ssn = p.ssn) AS differ,
              c.subscriber_ssn IS NOT DISTINCT FROM p.ssn AS alike, c.subscriber_ssn <> p.ssn AS unlike
       FROM people.persons p CROSS JOIN people.claims c ORDER BY p.person_id, c.claim_id`,
    );
    assert.ok(usesHalves(sql));
    assert.equal(fast.rows.length, 30);
    assert.deepEqual(fast.rows, text.rows);
    const nullPair = fast.rows.find((row) => row.person_id === 'p4' && row.claim_id === 'c4');
    assert.deepEqual(nullPair, {
      person_id: 'p4',
      claim_id: 'c4',
      same: null,
      differ: null,
      alike: true,
      unlike: null,
    });
  });

  test('count(DISTINCT …) of a hashed column counts the same values, skips NULL, and keeps its name', async () => {
    const { sql, fast, text } = await both(
      `SELECT state, count(DISTINCT p.ssn), count(DISTINCT p.ssn) AS people FROM people.persons p
       GROUP BY state ORDER BY state`,
    );
    assert.ok(sql.includes('count(DISTINCT CASE  WHEN ((p.ssn__hash_hi IS NULL))'), 'counts the halves');
    assert.deepEqual(fast.rows, text.rows);
    assert.deepEqual(fast.rows, [
      { state: 'CA', 'count(DISTINCT p.ssn)': 3, people: 3 },
      { state: 'NY', 'count(DISTINCT p.ssn)': 1, people: 1 },
    ]);
  });

  test('a comparison nested in an expression, in HAVING or in a correlated subquery stays correct', async () => {
    const queries = [
      `SELECT p.person_id, CASE WHEN c.subscriber_ssn = p.ssn THEN 'own' ELSE 'other' END AS whose
       FROM people.persons p CROSS JOIN people.claims c WHERE c.claim_id = 'c1' ORDER BY p.person_id`,
      `SELECT p.state FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn
       GROUP BY p.state HAVING count(DISTINCT p.ssn) > 1 ORDER BY p.state`,
      `SELECT c.subscriber_ssn = p.ssn, count(*) AS n FROM people.persons p CROSS JOIN people.claims c
       GROUP BY c.subscriber_ssn = p.ssn ORDER BY 1`,
      `SELECT c.subscriber_ssn = p.ssn AS same, count(*) AS n FROM people.persons p CROSS JOIN people.claims c
       GROUP BY ALL ORDER BY same`,
      `SELECT p.state, count(DISTINCT p.ssn) AS people FROM people.persons p
       GROUP BY p.state HAVING count(DISTINCT p.ssn) > 0 ORDER BY count(DISTINCT p.ssn) DESC, p.state`,
      `SELECT p.person_id FROM people.persons p
       WHERE EXISTS (SELECT 1 FROM people.claims c WHERE c.subscriber_ssn = p.ssn AND c.amount > 25)
       ORDER BY p.person_id`,
      `SELECT p.person_id, (SELECT count(*) FROM people.claims c, people.persons q WHERE c.subscriber_ssn = q.ssn AND q.person_id = p.person_id) AS n
       FROM people.persons p ORDER BY p.person_id`,
    ];
    for (const query of queries) {
      const { sql, fast, text } = await both(query);
      assert.ok(fast.rows.length > 0, query);
      assert.deepEqual(fast.rows, text.rows, query);
      // Only a comparison whose two sides are this SELECT's relations is rewritten.
      assert.equal(usesHalves(sql), !query.includes('WHERE EXISTS'), query);
    }
  });

  test('never where a query could list the columns wholesale: the halves never show', async () => {
    const queries = [
      'SELECT * FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn',
      'SELECT p.*, c.claim_id FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn',
      'SELECT COLUMNS(*) FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn',
      'SELECT to_json(p) AS j FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn',
      'SELECT p FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn',
      `SELECT (SELECT to_json(p)) AS j FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn`,
      'SELECT * FROM people.persons p NATURAL JOIN people.persons q',
      'SELECT count(DISTINCT ssn) AS n FROM people.persons',
    ];
    for (const query of queries) {
      const guarded = await guardQuery(query, context({ withHalves: true }));
      assert.ok(!usesHalves(guarded.sql), query);
      const result = await sandbox.session.query(guarded.sql);
      assert.ok(result.rows.length > 0, query);
      assert.doesNotMatch(JSON.stringify(result), /hash_hi|hash_lo/, query);
    }
  });

  test('a principal who sees the column in clear compares the clear values', async () => {
    const clinician: RoleDef = { ...ANALYST, name: 'clinician', unmask: ['PHI'] };
    const guarded = await guardQuery(
      'SELECT count(*) AS n FROM people.persons p JOIN people.claims c ON c.subscriber_ssn = p.ssn',
      context({ withHalves: true, roles: [clinician] }),
    );
    assert.ok(!usesHalves(guarded.sql));
    assert.ok(guarded.sql.includes('ON ((c.subscriber_ssn = p.ssn))'));
    assert.deepEqual((await sandbox.session.query(guarded.sql)).rows, [{ n: 6 }]);
  });

  test('column aliases on a relation leave its comparisons on text', async () => {
    const { sql, fast, text } = await both(
      `SELECT count(*) AS n FROM people.persons AS p(id, s, st) JOIN people.claims c ON c.subscriber_ssn = p.s`,
    );
    assert.ok(!usesHalves(sql));
    assert.deepEqual(fast.rows, [{ n: 6 }]);
    assert.deepEqual(fast.rows, text.rows);
  });
});
