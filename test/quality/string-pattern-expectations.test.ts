import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openFixture, type QualityFixture } from './quality-fixtures.ts';

describe('string pattern expectations', () => {
  let fixture: QualityFixture;
  before(async () => {
    fixture = await openFixture(
      `CREATE TABLE records AS SELECT * FROM (VALUES
        ('123-45-6789', 'a_1', '2019-04-01', '{"a": 1, "tags": ["x"]}', 3),
        ('123456789', 'a_2', '04/02/2019', '{"a": "one"}', 4),
        ('987-65-4321', 'b%3', 'not a date', 'nope', 5),
        (NULL, NULL, NULL, NULL, NULL)
      ) t(ssn, code, day, doc, n)`,
    );
  });
  after(() => fixture.close());

  it('regex: searched anywhere, anchored patterns, mostly', async () => {
    const ssn = await fixture.check('records', 'expect_column_values_to_match_regex', {
      column: 'ssn',
      regex: '^[0-9]{3}-[0-9]{2}-[0-9]{4}$',
    });
    assert.deepEqual(
      [ssn.success, ssn.elementCount, ssn.unexpectedCount, ssn.sample],
      [false, 4, 1, ['123456789']],
    );
    assert.equal(
      (await fixture.check('records', 'expect_column_values_to_match_regex', { column: 'ssn', regex: '45' }))
        .success,
      false,
    );
    assert.equal(
      (
        await fixture.check('records', 'expect_column_values_to_match_regex', {
          column: 'ssn',
          regex: '-',
          mostly: 0.6,
        })
      ).success,
      true,
    );
    assert.equal(
      (
        await fixture.check('records', 'expect_column_values_to_not_match_regex', {
          column: 'ssn',
          regex: '^9',
        })
      ).success,
      false,
    );
  });

  it('regex lists match any or all', async () => {
    const any = await fixture.check('records', 'expect_column_values_to_match_regex_list', {
      column: 'code',
      regex_list: ['^a', '%'],
    });
    assert.equal(any.success, true);
    const all = await fixture.check('records', 'expect_column_values_to_match_regex_list', {
      column: 'code',
      regex_list: ['^a', '2$'],
      match_on: 'all',
    });
    assert.deepEqual([all.success, all.sample], [false, ['a_1', 'b%3']]);
    const none = await fixture.check('records', 'expect_column_values_to_not_match_regex_list', {
      column: 'code',
      regex_list: ['^b', 'z'],
    });
    assert.deepEqual([none.success, none.sample], [false, ['b%3']]);
  });

  it('LIKE patterns use backslash escapes', async () => {
    const escaped = await fixture.check('records', 'expect_column_values_to_match_like_pattern', {
      column: 'code',
      like_pattern: 'a\\_%',
    });
    assert.deepEqual([escaped.success, escaped.sample], [false, ['b%3']]);
    assert.equal(
      (
        await fixture.check('records', 'expect_column_values_to_not_match_like_pattern', {
          column: 'code',
          like_pattern: '%\\%%',
        })
      ).success,
      false,
    );
    assert.equal(
      (
        await fixture.check('records', 'expect_column_values_to_match_like_pattern_list', {
          column: 'code',
          like_pattern_list: ['a%', 'b%'],
        })
      ).success,
      true,
    );
    assert.equal(
      (
        await fixture.check('records', 'expect_column_values_to_not_match_like_pattern_list', {
          column: 'code',
          like_pattern_list: ['c%', 'd%'],
        })
      ).success,
      true,
    );
  });

  it('strftime formats and dateutil-style dates', async () => {
    const iso = await fixture.check('records', 'expect_column_values_to_match_strftime_format', {
      column: 'day',
      strftime_format: '%Y-%m-%d',
    });
    assert.deepEqual([iso.success, iso.sample], [false, ['04/02/2019', 'not a date']]);
    const parseable = await fixture.check('records', 'expect_column_values_to_be_dateutil_parseable', {
      column: 'day',
    });
    assert.deepEqual([parseable.success, parseable.sample], [false, ['not a date']]);
    assert.match(
      (
        await fixture.check('records', 'expect_column_values_to_match_strftime_format', {
          column: 'n',
          strftime_format: '%Y',
        })
      ).error!,
      /needs a string column/,
    );
  });

  it('JSON parseable, and a JSON Schema compiled to SQL', async () => {
    const parseable = await fixture.check('records', 'expect_column_values_to_be_json_parseable', {
      column: 'doc',
    });
    assert.deepEqual([parseable.success, parseable.sample], [false, ['nope']]);
    const schema = {
      type: 'object',
      required: ['a'],
      properties: { a: { type: 'integer', minimum: 1 }, tags: { type: 'array', items: { type: 'string' } } },
    };
    const matched = await fixture.check('records', 'expect_column_values_to_match_json_schema', {
      column: 'doc',
      json_schema: schema,
    });
    assert.deepEqual([matched.success, matched.sample], [false, ['{"a": "one"}', 'nope']]);
    const loose = await fixture.check('records', 'expect_column_values_to_match_json_schema', {
      column: 'doc',
      json_schema: { anyOf: [{ required: ['a'] }, { type: 'array' }] },
      mostly: 0.6,
    });
    assert.equal(loose.success, true);
  });
});
