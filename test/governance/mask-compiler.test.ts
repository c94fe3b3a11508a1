import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import { DuckdbEngine } from '../../src/engines/duckdb/duckdb-engine.ts';
import { quoteLiteral } from '../../src/engines/engine.ts';
import {
  RESTRICTED_ZIP3_PREFIXES,
  digestHalvesSql,
  digestHexSql,
  hashKeyLiteral,
  maskExpression,
  type MaskContext,
} from '../../src/governance/index.ts';
import type { FieldType, MaskKind } from '../../src/model/index.ts';
import { sandboxedSession } from '../support/sandboxed-session.ts';

const VARCHAR: FieldType = { kind: 'scalar', sql: 'VARCHAR' };
const DATE: FieldType = { kind: 'scalar', sql: 'DATE' };
const TIMESTAMPTZ: FieldType = { kind: 'scalar', sql: 'TIMESTAMPTZ' };
const INTEGER: FieldType = { kind: 'scalar', sql: 'INTEGER' };
const DOUBLE: FieldType = { kind: 'scalar', sql: 'DOUBLE' };
const KEY = 'project-hash-key';
const context: MaskContext = { hashKeySql: hashKeyLiteral(KEY), asOfDateSql: "DATE '2026-11-26'" };

const hmac = (key: string, value: string) => createHmac('sha256', key).update(value, 'utf8').digest('hex');

describe('maskExpression', () => {
  const sandbox = sandboxedSession();

  /** Evaluate one mask over one SQL literal. */
  async function masked(
    mask: MaskKind,
    valueSql: string,
    type: FieldType,
    maskContext = context,
  ): Promise<unknown> {
    const result = await sandbox.session.query(
      `SELECT ${maskExpression(mask, `(${valueSql})`, type, maskContext)} AS v`,
    );
    return result.rows[0]!.v;
  }

  test('HASH equals node:crypto HMAC-SHA256 for ASCII, Unicode and escape-looking text', async () => {
    for (const value of ['123-45-6789', 'Zoë Ørsted 🙂', 'a\\x41b', '']) {
      assert.equal(await masked('HASH', quoteLiteral(value), VARCHAR), hmac(KEY, value), value);
    }
  });

  test('HASH handles keys longer than the 64-byte block and exactly 64 bytes', async () => {
    for (const key of ['k'.repeat(64), 'long-key-'.repeat(12)]) {
      const keyed = { ...context, hashKeySql: hashKeyLiteral(key) };
      assert.equal(await masked('HASH', "'123-45-6789'", VARCHAR, keyed), hmac(key, '123-45-6789'));
    }
  });

  test('HASH is stable across columns of different tables, so masked columns still join', async () => {
    const result = await sandbox.session.query(
      `SELECT count(*) AS n FROM (SELECT ${maskExpression('HASH', 'a', VARCHAR, context)} AS h FROM (VALUES ('x'), ('y')) t(a)) l ` +
        `JOIN (SELECT ${maskExpression('HASH', 'b', VARCHAR, context)} AS h FROM (VALUES ('y'), ('z')) u(b)) r USING (h)`,
    );
    assert.equal(result.rows[0]!.n, 1);
  });

  test('HASH applies to any type through its text; TIMESTAMPTZ through its UTC ISO text; NULL stays NULL', async () => {
    assert.equal(await masked('HASH', '42', INTEGER), hmac(KEY, '42'));
    assert.equal(
      await masked('HASH', "TIMESTAMPTZ '2020-01-02 03:04:05+00'", TIMESTAMPTZ),
      hmac(KEY, '2020-01-02T03:04:05.000000Z'),
    );
    assert.equal(await masked('HASH', 'NULL::VARCHAR', VARCHAR), null);
  });

  test('the session time zone moves neither DATE_YEAR nor HASH of a TIMESTAMPTZ', async () => {
    // A separate engine: the sandboxed session locks configuration for its whole database.
    const other = await DuckdbEngine.create({ threads: 1 });
    const shifted = await other.openSession();
    try {
      await shifted.run("SET TimeZone = 'Pacific/Kiritimati'");
      const value = "TIMESTAMPTZ '1980-12-31 23:30:00-05'";
      const result = await shifted.query(
        `SELECT ${maskExpression('DATE_YEAR', value, TIMESTAMPTZ, context)} = TIMESTAMPTZ '1981-01-01 00:00:00+00' AS same_year, ` +
          `${maskExpression('HASH', value, TIMESTAMPTZ, context)} AS h`,
      );
      assert.equal(result.rows[0]!.same_year, true);
      assert.equal(result.rows[0]!.h, hmac(KEY, '1981-01-01T04:30:00.000000Z'));
    } finally {
      shifted.close();
      await other.close();
    }
  });

  test('REDACT: a marker for text, NULL for other types', async () => {
    assert.equal(await masked('REDACT', "'Alicia'", VARCHAR), '[REDACTED]');
    assert.equal(
      await masked('REDACT', "'F'", { kind: 'enum', name: 'Gender', values: ['F', 'M'] }),
      '[REDACTED]',
    );
    assert.equal(await masked('REDACT', '12.5', DOUBLE), null);
    assert.equal(await masked('REDACT', 'NULL::VARCHAR', VARCHAR), null);
  });

  test('NULLIFY keeps the column type', async () => {
    const result = await sandbox.session.query(
      `SELECT ${maskExpression('NULLIFY', "DATE '2020-01-01'", DATE, context)} AS v`,
    );
    assert.deepEqual(result.columns, [{ name: 'v', type: 'DATE' }]);
    assert.equal(result.rows[0]!.v, null);
  });

  test('DATE_YEAR keeps January 1 of the year and the column type', async () => {
    assert.equal(await masked('DATE_YEAR', "DATE '1980-05-17'", DATE), '1980-01-01');
    // 23:30 on Dec 31 at UTC-5 is already next year in UTC.
    assert.equal(
      await masked('DATE_YEAR', "TIMESTAMPTZ '1980-12-31 23:30:00-05'", TIMESTAMPTZ),
      '1981-01-01T00:00:00Z',
    );
  });

  test('DATE_YEAR top-codes anyone possibly over 89 to January 1 of (as-of year − 90)', async () => {
    // As of 2026-11-26: born 1937 → at most 89, shown; born 1936 or earlier → the shared 1936-01-01.
    assert.equal(await masked('DATE_YEAR', "DATE '1937-01-01'", DATE), '1937-01-01');
    assert.equal(await masked('DATE_YEAR', "DATE '1936-12-31'", DATE), '1936-01-01');
    assert.equal(await masked('DATE_YEAR', "DATE '1900-06-15'", DATE), '1936-01-01');
    assert.equal(
      await masked('DATE_YEAR', "TIMESTAMPTZ '1920-03-01 00:00:00+00'", TIMESTAMPTZ),
      '1936-01-01T00:00:00Z',
    );
    assert.equal(await masked('DATE_YEAR', 'NULL::DATE', DATE), null);
    // An as-of date given as an expression rather than a literal top-codes alike.
    const asOfExpression = { ...context, asOfDateSql: "CAST('2026-11-26' AS DATE)" };
    for (const [born, shown] of [
      ["DATE '1937-01-01'", '1937-01-01'],
      ["DATE '1936-12-31'", '1936-01-01'],
      ['NULL::DATE', null],
    ] as const) {
      assert.equal(await masked('DATE_YEAR', born, DATE, asOfExpression), shown, born);
    }
    assert.match(maskExpression('DATE_YEAR', 'x', DATE, context), /1936/);
  });

  test('ZIP3 keeps three digits, and 000 for the 17 restricted prefixes and malformed values', async () => {
    assert.equal(RESTRICTED_ZIP3_PREFIXES.length, 17);
    assert.equal(await masked('ZIP3', "'94110'", VARCHAR), '941');
    assert.equal(await masked('ZIP3', "'94110-1234'", VARCHAR), '941');
    for (const prefix of RESTRICTED_ZIP3_PREFIXES) {
      assert.equal(await masked('ZIP3', quoteLiteral(`${prefix}42`), VARCHAR), '000', prefix);
    }
    assert.equal(await masked('ZIP3', "'AB123'", VARCHAR), '000');
    assert.equal(await masked('ZIP3', '2101', INTEGER), '021');
    assert.equal(await masked('ZIP3', '3601', INTEGER), '000');
    assert.equal(await masked('ZIP3', 'NULL::VARCHAR', VARCHAR), null);
    // Leading spaces are ignored; anything short of three leading digits is 000.
    assert.equal(await masked('ZIP3', "'  94110'", VARCHAR), '941');
    assert.equal(await masked('ZIP3', "' 03642'", VARCHAR), '000');
    for (const value of ['12', '12 ', '', '9a110', '\t94110']) {
      assert.equal(await masked('ZIP3', quoteLiteral(value), VARCHAR), '000', JSON.stringify(value));
    }
    assert.equal(await masked('ZIP3', '-94110', INTEGER), '000');
    assert.equal(await masked('ZIP3', 'NULL::INTEGER', INTEGER), null);
  });

  test('ZIP3 restricts exactly the 17 prefixes, not three digits spanning two of them', async () => {
    // The prefixes are looked up in one string: digits from the end of one and the start of the
    // next must not read as a restricted prefix.
    const spanning = new Set<string>();
    for (let index = 1; index < RESTRICTED_ZIP3_PREFIXES.length; index++) {
      const pair = RESTRICTED_ZIP3_PREFIXES[index - 1]! + RESTRICTED_ZIP3_PREFIXES[index]!;
      for (let start = 1; start < 3; start++) spanning.add(pair.slice(start, start + 3));
    }
    for (const prefix of spanning) {
      const expected = RESTRICTED_ZIP3_PREFIXES.includes(prefix) ? '000' : prefix;
      assert.equal(await masked('ZIP3', quoteLiteral(`${prefix}42`), VARCHAR), expected, prefix);
    }
  });

  test('digestHalvesSql splits a HASH value into two UUIDs holding its two 128-bit halves', async () => {
    const digest = hmac(KEY, '123-45-6789');
    const [high, low] = digestHalvesSql(quoteLiteral(digest));
    const result = await sandbox.session.query(
      `SELECT replace(CAST(${high} AS VARCHAR), '-', '') AS high, replace(CAST(${low} AS VARCHAR), '-', '') AS low`,
    );
    assert.deepEqual(result.rows[0], { high: digest.slice(0, 32), low: digest.slice(32) });
    const nulls = await sandbox.session.query(`SELECT ${digestHalvesSql('NULL::VARCHAR')[0]} AS high`);
    assert.equal(nulls.rows[0]!.high, null);
  });

  test('digestHexSql rebuilds the lowercase hex from the halves, leading zeros included', async () => {
    const digests = [hmac(KEY, '123-45-6789'), `00000000${'0a'.repeat(12)}${'f'.repeat(32)}`];
    for (const digest of digests) {
      const [high, low] = digestHalvesSql(quoteLiteral(digest));
      const result = await sandbox.session.query(`SELECT ${digestHexSql(high, low)} AS hex`);
      assert.equal(result.rows[0]!.hex, digest);
    }
    const nulls = await sandbox.session.query(
      `SELECT ${digestHexSql('NULL::UUID', 'NULL::UUID')} AS hex, ${digestHexSql('NULL::UUID', "'00000000-0000-0000-0000-000000000000'::UUID")} AS half`,
    );
    assert.deepEqual(nulls.rows[0], { hex: null, half: null });
  });

  test('AGE_90_PLUS caps at 90 and keeps the type', async () => {
    assert.equal(await masked('AGE_90_PLUS', '89', INTEGER), 89);
    assert.equal(await masked('AGE_90_PLUS', '90', INTEGER), 90);
    assert.equal(await masked('AGE_90_PLUS', '104', INTEGER), 90);
    assert.equal(await masked('AGE_90_PLUS', '93.5', DOUBLE), 90);
  });

  test('EMAIL_DOMAIN and SHOW_LAST_4 never show more than they promise', async () => {
    assert.equal(await masked('EMAIL_DOMAIN', "'bob@example.org'", VARCHAR), '***@example.org');
    assert.equal(await masked('EMAIL_DOMAIN', "'a@b@c.org'", VARCHAR), '***@c.org');
    assert.equal(await masked('EMAIL_DOMAIN', "'no-at-sign'", VARCHAR), '***');
    assert.equal(await masked('SHOW_LAST_4', "'123-45-6789'", VARCHAR), '***6789');
    assert.equal(await masked('SHOW_LAST_4', "'1234'", VARCHAR), '***');
    assert.equal(
      await masked('SHOW_LAST_4', '4111111111111111', { kind: 'scalar', sql: 'BIGINT' }),
      '***1111',
    );
  });

  test('a mask that cannot apply to the type is a QueryError, not a guess', () => {
    assert.throws(() => maskExpression('DATE_YEAR', 'x', VARCHAR, context), QueryError);
    assert.throws(
      () => maskExpression('AGE_90_PLUS', 'x', DATE, context),
      /AGE_90_PLUS cannot apply to a DATE column/,
    );
    assert.throws(() => maskExpression('ZIP3', 'x', DATE, context), QueryError);
  });
});
