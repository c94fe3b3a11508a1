// One engine conformance suite, run against every engine by its own `<engine>.test.ts`: type
// round-trips through the dialect's column types, hashing, check predicates, masks (each kind),
// projections over stored versions, time travel between versions, and a governed query (masks and
// row filters, one following another table) rendered for the engine. Each engine supplies how a
// table version is written and read back (`EngineHarness`); the assertions are the same for all.
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import type { Engine, EngineSession } from '../../src/engines/engine.ts';
import type { FieldType, MaskKind } from '../../src/model/index.ts';
import { MASK_KINDS } from '../../src/model/index.ts';
import { maskExpression } from '../../src/governance/mask-compiler.ts';
import { guardQuery } from '../../src/governance/sql-guard.ts';
import type { AstNode } from '../../src/sql/index.ts';
import type { FieldDef, RoleDef } from '../../src/model/index.ts';

export interface EngineHarness {
  engine: Engine;
  /** Store the rows of `selectSql` as version `version` of table `table`. */
  writeVersion(session: EngineSession, table: string, version: number, selectSql: string): Promise<void>;
  /** A relation (usable after FROM) over version `version` of `table`. */
  versionRelation(table: string, version: number): string;
  /** The engine's text for a governed rewrite (`GuardContext.render`); default DuckDB's. */
  render?: (document: AstNode) => Promise<string>;
  close(): Promise<void>;
}

const scalar = (sql: Extract<FieldType, { kind: 'scalar' }>['sql']): FieldType => ({ kind: 'scalar', sql });

/** Field types, a literal of each, and the JSON-compatible value the engine must return for it. */
const ROUND_TRIPS: { type: FieldType; literal: string; value: unknown; nested?: boolean }[] = [
  { type: scalar('BOOLEAN'), literal: 'true', value: true },
  { type: scalar('INTEGER'), literal: '-2147483648', value: -2147483648 },
  { type: scalar('BIGINT'), literal: '9007199254740993', value: '9007199254740993' },
  { type: scalar('DOUBLE'), literal: '1.5', value: 1.5 },
  { type: scalar('VARCHAR'), literal: "'é ''quoted'' ✓'", value: "é 'quoted' ✓" },
  { type: scalar('DATE'), literal: "'2024-02-29'", value: '2024-02-29' },
  { type: scalar('TIMESTAMPTZ'), literal: "'2024-02-29 23:30:00+00'", value: '2024-02-29T23:30:00Z' },
  { type: { kind: 'decimal', precision: 12, scale: 2 }, literal: "'1234567890.12'", value: 1234567890.12 },
  { type: { kind: 'enum', name: 'Status', values: ['OPEN'] }, literal: "'OPEN'", value: 'OPEN' },
  {
    type: { kind: 'list', element: scalar('INTEGER') },
    literal: '[1, 2, 3]',
    value: [1, 2, 3],
    nested: true,
  },
];

export function engineConformanceSuite(
  name: string,
  open: () => Promise<EngineHarness>,
  options: { skip?: string | false } = {},
): void {
  const test = (title: string, body: () => Promise<void>) =>
    nodeTest(title, { skip: options.skip ?? false }, body);
  let harness: EngineHarness;
  let session: EngineSession;
  const rows = async (sql: string) => (await session.query(sql)).rows;
  const one = async (sql: string) => Object.values((await rows(sql))[0]!)[0];

  nodeTest.before(async () => {
    if (options.skip) return;
    harness = await open();
    session = await harness.engine.openSession();
  });
  nodeTest.after(async () => {
    session?.close();
    await harness?.close();
  });

  test(`${name}: every field type round-trips through its column type, and a typed NULL keeps the type`, async () => {
    const { dialect } = harness.engine;
    for (const { type, literal, value, nested } of ROUND_TRIPS) {
      if (nested && !dialect.capabilities.nestedTypes) continue;
      const sql = `SELECT ${dialect.cast(literal, type)} AS v, ${dialect.typedNull(type)} AS n`;
      const result = await session.query(sql);
      assert.deepEqual(result.rows, [{ v: value, n: null }], `${dialect.columnType(type)}: ${sql}`);
      const described = await session.describe(sql);
      assert.equal(described[0]!.type, described[1]!.type, `${dialect.columnType(type)}: typed NULL`);
    }
  });

  test(`${name}: literals and identifiers quote what they hold`, async () => {
    const { dialect } = harness.engine;
    const text = `it's "odd" \\ ✓`;
    const result = await rows(`SELECT ${dialect.stringLiteral(text)} AS ${dialect.identifier('a "b"')}`);
    assert.deepEqual(result, [{ 'a "b"': text }]);
    assert.equal(
      await one(
        `SELECT ${dialect.toText(dialect.bytesLiteral(Buffer.from('hi')))} = ${dialect.toText(dialect.bytesLiteral(Buffer.from('hi')))}`,
      ),
      true,
    );
  });

  test(`${name}: SHA-256 and HMAC-SHA256 equal node:crypto, for short and long keys and any text`, async () => {
    const { dialect } = harness.engine;
    assert.equal(dialect.capabilities.hmacSha256, true);
    for (const key of ['k', 'x'.repeat(64), 'long key '.repeat(20)]) {
      for (const message of ['', 'hello', 'ünïcødé \\x41 ✓']) {
        const sql = dialect.hmacSha256Hex(
          dialect.stringLiteral(message),
          dialect.bytesLiteral(Buffer.from(key)),
        );
        assert.equal(await one(`SELECT ${sql}`), createHmac('sha256', key).update(message).digest('hex'));
      }
    }
    assert.equal(
      await one(`SELECT ${dialect.sha256Hex(dialect.bytesLiteral(Buffer.from('abc')))}`),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    assert.equal(
      await one(
        `SELECT ${dialect.hmacSha256Hex('CAST(NULL AS VARCHAR)', dialect.bytesLiteral(Buffer.from('k')))}`,
      ),
      null,
    );
  });

  test(`${name}: check predicates (set membership, regular expressions) hold and keep NULL as NULL`, async () => {
    const { dialect } = harness.engine;
    const members = ["'a'", "'b'"];
    assert.deepEqual(
      await rows(
        `SELECT ${dialect.inSet("'a'", members)} AS a, ${dialect.inSet("'z'", members)} AS z, ` +
          `${dialect.inSet('CAST(NULL AS VARCHAR)', members)} AS n, ${dialect.inSet("'a'", [])} AS empty`,
      ),
      [{ a: true, z: false, n: null, empty: false }],
    );
    assert.deepEqual(
      await rows(
        `SELECT ${dialect.regexpFullMatch("'abc123'", '[a-z]+[0-9]+')} AS full, ` +
          `${dialect.regexpFullMatch("'abc123x'", '[a-z]+[0-9]+')} AS not_full, ` +
          `${dialect.regexpMatches("'xx42yy'", '[0-9]+')} AS found, ` +
          `${dialect.regexpExtract("'a@example.org'", '@(.*)$', 1)} AS domain`,
      ),
      [{ full: true, not_full: false, found: true, domain: 'example.org' }],
    );
  });

  test(`${name}: every mask kind gives the documented value and keeps NULL as NULL`, async () => {
    const key = 'conformance-key';
    const context = {
      hashKeySql: harness.engine.dialect.bytesLiteral(Buffer.from(key)),
      asOfDateSql: "DATE '2026-06-01'",
      dialect: harness.engine.dialect,
    };
    const text = scalar('VARCHAR');
    const expected: Record<MaskKind, [string, FieldType, unknown]> = {
      HASH: ["'alice'", text, createHmac('sha256', key).update('alice').digest('hex')],
      REDACT: ["'alice'", text, '[REDACTED]'],
      NULLIFY: ['42', scalar('INTEGER'), null],
      DATE_YEAR: ["DATE '1930-07-04'", scalar('DATE'), '1936-01-01'],
      ZIP3: ["'03601'", text, '000'],
      AGE_90_PLUS: ['95', scalar('INTEGER'), 90],
      EMAIL_DOMAIN: ["'alice@example.org'", text, '***@example.org'],
      SHOW_LAST_4: ["'4111111111111111'", text, '***1111'],
    };
    for (const mask of MASK_KINDS) {
      const [value, type, shown] = expected[mask];
      const cast = harness.engine.dialect.cast(value, type);
      const masked = maskExpression(mask, cast, type, context);
      const nullMasked = maskExpression(mask, harness.engine.dialect.typedNull(type), type, context);
      assert.deepEqual(
        await rows(`SELECT ${masked} AS v, ${nullMasked} AS n`),
        [{ v: shown, n: null }],
        mask,
      );
    }
  });

  test(`${name}: a projection over a stored version gives the expected rows`, async () => {
    await harness.writeVersion(
      session,
      'orders',
      1,
      `SELECT * FROM (VALUES (1, 'north', 10.5), (2, 'north', 4.5), (3, 'south', 7.0)) AS t(id, region, amount)`,
    );
    const projection = `SELECT region, count(*) AS orders, sum(amount) AS total FROM orders GROUP BY region ORDER BY region`;
    assert.deepEqual(
      await rows(`WITH orders AS (SELECT * FROM ${harness.versionRelation('orders', 1)}) ${projection}`),
      [
        { region: 'north', orders: 2, total: 15 },
        { region: 'south', orders: 1, total: 7 },
      ],
    );
  });

  test(`${name}: time travel — an earlier version reads as it was after a later one is written`, async () => {
    await harness.writeVersion(session, 'accounts', 1, `SELECT * FROM (VALUES (1, 'old')) AS t(id, state)`);
    await harness.writeVersion(
      session,
      'accounts',
      2,
      `SELECT * FROM (VALUES (1, 'new'), (2, 'added')) AS t(id, state)`,
    );
    const read = (version: number) =>
      rows(`SELECT id, state FROM ${harness.versionRelation('accounts', version)} ORDER BY id`);
    assert.deepEqual(await read(1), [{ id: 1, state: 'old' }]);
    assert.deepEqual(await read(2), [
      { id: 1, state: 'new' },
      { id: 2, state: 'added' },
    ]);
  });

  test(`${name}: a governed query — masks and row filters, one following another table — hold`, async () => {
    await harness.writeVersion(
      session,
      'patients',
      1,
      `SELECT * FROM (VALUES ('p1', 'CA', '123-45-6789'), ('p2', 'NY', '987-65-4321'), ('p3', 'CA', NULL))
         AS t(patient_id, state, ssn)`,
    );
    await harness.writeVersion(
      session,
      'claims',
      1,
      `SELECT * FROM (VALUES ('c1', 'p1', 10.5), ('c2', 'p2', 99.0), ('c3', 'p3', 1.25), ('c4', 'p1', 2.0))
         AS t(claim_id, patient_id, amount)`,
    );
    const text = (field: string, extra: Partial<FieldDef> = {}): FieldDef =>
      ({ name: field, number: 1, nullable: true, type: scalar('VARCHAR'), ...extra }) as FieldDef;
    const fields: Record<string, FieldDef[]> = {
      'clinical.patients': [
        text('patient_id'),
        text('state'),
        text('ssn', { sensitivity: 'PHI', mask: 'HASH' }),
      ],
      'clinical.claims': [
        text('claim_id'),
        text('patient_id'),
        { name: 'amount', number: 3, nullable: true, type: scalar('DOUBLE') } as FieldDef,
      ],
    };
    const analyst: RoleDef = {
      name: 'analyst',
      members: ['group:analytics'],
      grants: ['clinical.*'],
      denyColumns: {},
      rowFilters: {
        'clinical.patients': "state = principal_attr('state')",
        'clinical.claims': 'patient_id IN (SELECT patient_id FROM clinical.patients)',
      },
      unmask: [],
      at: { file: 'access/roles.yaml', line: 1, column: 1 },
    };
    const key = 'conformance-key';
    const guarded = await guardQuery(
      `SELECT c.claim_id, p.ssn, c.amount FROM clinical.claims c JOIN clinical.patients p ON p.patient_id = c.patient_id ORDER BY c.claim_id`,
      {
        principal: { name: 'bob', groups: ['analytics'], attributes: { state: 'CA' } },
        roles: [analyst],
        resolveRelation: async ({ table }) => ({
          sql: harness.versionRelation(table === 'clinical.patients' ? 'patients' : 'claims', 1),
          fields: fields[table]!,
        }),
        masks: {
          hashKeySql: harness.engine.dialect.bytesLiteral(Buffer.from(key)),
          dialect: harness.engine.dialect,
        },
        ...(harness.render ? { render: harness.render } : {}),
      },
    );
    assert.deepEqual(guarded.rowFiltersApplied.map((filter) => filter.table).sort(), [
      'clinical.claims',
      'clinical.patients',
    ]);
    const hash = (value: string) => createHmac('sha256', key).update(value).digest('hex');
    assert.deepEqual(await rows(guarded.sql), [
      { claim_id: 'c1', ssn: hash('123-45-6789'), amount: 10.5 },
      { claim_id: 'c3', ssn: null, amount: 1.25 },
      { claim_id: 'c4', ssn: hash('123-45-6789'), amount: 2 },
    ]);
  });
}
