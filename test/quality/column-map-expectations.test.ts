import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openFixture, type QualityFixture } from './quality-fixtures.ts';

describe('column map expectations', () => {
  let fixture: QualityFixture;
  before(async () => {
    fixture = await openFixture(
      `CREATE TABLE people AS SELECT * FROM (VALUES
        (1, 'ann', 'F', 34, DATE '2024-01-01'),
        (2, 'bob', 'M', 17, DATE '2024-01-02'),
        (3, 'cy', NULL, 52, DATE '2024-01-03'),
        (4, 'dee', 'X', NULL, DATE '2024-01-02'),
        (5, 'bob', 'F', 81, DATE '2024-01-05')
      ) t(id, name, gender, age, joined)`,
      'CREATE TABLE known_ids AS SELECT * FROM (VALUES (1), (2), (3)) t(person_id)',
    );
  });
  after(() => fixture.close());

  it('not null and null count every row', async () => {
    const notNull = await fixture.check('people', 'expect_column_values_to_not_be_null', {
      column: 'gender',
    });
    assert.deepEqual(
      [
        notNull.success,
        notNull.elementCount,
        notNull.unexpectedCount,
        notNull.unexpectedPercent,
        notNull.sample,
      ],
      [false, 5, 1, 20, [null]],
    );
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_not_be_null', {
          column: 'gender',
          mostly: 0.8,
        })
      ).success,
      true,
    );
    assert.equal(
      (await fixture.check('people', 'expect_column_values_to_be_null', { column: 'gender', mostly: 0.2 }))
        .success,
      true,
    );
    assert.equal(
      (await fixture.check('people', 'expect_column_values_to_be_null', { column: 'gender' })).success,
      false,
    );
  });

  it('unique: integers, text, duplicates sampled, nulls ignored', async () => {
    assert.equal(
      (await fixture.check('people', 'expect_column_values_to_be_unique', { column: 'id' })).success,
      true,
    );
    const names = await fixture.check('people', 'expect_column_values_to_be_unique', { column: 'name' });
    assert.deepEqual([names.success, names.unexpectedCount, names.sample], [false, 2, ['bob', 'bob']]);
    const dates = await fixture.check('people', 'expect_column_values_to_be_unique', {
      column: 'joined',
      mostly: 0.6,
    });
    assert.deepEqual([dates.success, dates.unexpectedCount], [true, 2]);
    assert.equal(
      (await fixture.check('people', 'expect_column_values_to_be_unique', { column: 'gender', mostly: 0.5 }))
        .success,
      true,
    );
  });

  it('in set and not in set; missing values are ignored', async () => {
    const inSet = await fixture.check('people', 'expect_column_values_to_be_in_set', {
      column: 'gender',
      value_set: ['F', 'M'],
    });
    assert.deepEqual(
      [inSet.success, inSet.elementCount, inSet.unexpectedCount, inSet.unexpectedPercent, inSet.sample],
      [false, 5, 1, 25, ['X']],
    );
    // GE's missing_count / missing_percent: the rows left out because the value is missing.
    assert.deepEqual([inSet.missingCount, inSet.missingPercent], [1, 20]);
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_in_set', {
          column: 'gender',
          value_set: ['F', 'M'],
          mostly: 0.75,
        })
      ).success,
      true,
    );
    const notIn = await fixture.check('people', 'expect_column_values_to_not_be_in_set', {
      column: 'age',
      value_set: [17, 81],
    });
    assert.deepEqual([notIn.success, notIn.sample], [false, [17, 81]]);
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_in_set', {
          column: 'joined',
          value_set: ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-05'],
        })
      ).success,
      true,
    );
  });

  it('between with strict bounds, dates, and a row condition', async () => {
    const adults = await fixture.check('people', 'expect_column_values_to_be_between', {
      column: 'age',
      min_value: 18,
    });
    assert.deepEqual([adults.success, adults.sample], [false, [17]]);
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_between', {
          column: 'age',
          min_value: 17,
          max_value: 81,
        })
      ).success,
      true,
    );
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_between', {
          column: 'age',
          min_value: 17,
          strict_min: true,
        })
      ).success,
      false,
    );
    const conditioned = await fixture.check('people', 'expect_column_values_to_be_between', {
      column: 'age',
      min_value: 18,
      row_condition: "gender = 'F'",
    });
    assert.deepEqual([conditioned.success, conditioned.elementCount], [true, 2]);
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_between', {
          column: 'joined',
          max_value: '2024-01-03',
        })
      ).success,
      false,
    );
  });

  it('between refuses bounds of another type than the column', async () => {
    const result = await fixture.check('people', 'expect_column_values_to_be_between', {
      column: 'name',
      min_value: 1,
    });
    assert.equal(result.success, false);
    assert.match(result.error!, /cannot be compared with column `name` of type VARCHAR/);
  });

  it('value lengths', async () => {
    const between = await fixture.check('people', 'expect_column_value_lengths_to_be_between', {
      column: 'name',
      min_value: 3,
    });
    assert.deepEqual([between.success, between.sample], [false, ['cy']]);
    assert.equal(
      (
        await fixture.check('people', 'expect_column_value_lengths_to_equal', {
          column: 'name',
          value: 3,
          mostly: 0.8,
        })
      ).success,
      true,
    );
    assert.match(
      (await fixture.check('people', 'expect_column_value_lengths_to_equal', { column: 'age', value: 2 }))
        .error!,
      /needs a string column/,
    );
  });

  it('types by name, in the spellings users bring', async () => {
    const integer = await fixture.check('people', 'expect_column_values_to_be_of_type', {
      column: 'id',
      type_: 'INTEGER',
    });
    assert.deepEqual([integer.success, integer.observedValue], [true, 'INTEGER']);
    assert.equal(
      (await fixture.check('people', 'expect_column_values_to_be_of_type', { column: 'name', type_: 'TEXT' }))
        .success,
      true,
    );
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_of_type', {
          column: 'name',
          type_: 'INTEGER',
        })
      ).success,
      false,
    );
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_in_type_list', {
          column: 'joined',
          type_list: ['TIMESTAMP', 'DATE'],
        })
      ).success,
      true,
    );
  });

  it('increasing and decreasing follow the relation order and skip missing values', async () => {
    assert.equal(
      (
        await fixture.check('people', 'expect_column_values_to_be_increasing', {
          column: 'id',
          strictly: true,
        })
      ).success,
      true,
    );
    const joined = await fixture.check('people', 'expect_column_values_to_be_increasing', {
      column: 'joined',
    });
    assert.deepEqual([joined.success, joined.sample], [false, ['2024-01-02']]);
    const age = await fixture.check('people', 'expect_column_values_to_be_decreasing', { column: 'age' });
    assert.deepEqual([age.success, age.unexpectedCount, age.sample], [false, 2, [52, 81]]);
  });

  it('values present in another table', async () => {
    const resolveTable = (name: string) => (name === 'ref.known_ids' ? 'known_ids' : undefined);
    const result = await fixture.check(
      'people',
      'expect_column_values_to_be_present_in_other_table',
      { column: 'id', other_table_name: 'ref.known_ids', other_column_name: 'person_id' },
      { resolveTable },
    );
    assert.deepEqual([result.success, result.unexpectedCount, result.sample], [false, 2, [4, 5]]);
  });

  it('z-scores against the sample deviation, one- or double-sided', async () => {
    // ages 34, 17, 52, 81 (one missing): mean 46, sample deviation ≈ 27.39; z(81) ≈ 1.28, z(17) ≈ -1.06.
    const double = await fixture.check('people', 'expect_column_value_z_scores_to_be_less_than', {
      column: 'age',
      threshold: 1.2,
      double_sided: true,
    });
    assert.deepEqual(
      [double.success, double.elementCount, double.missingCount, double.unexpectedCount, double.sample],
      [false, 5, 1, 1, [81]],
    );
    const negative = await fixture.check('people', 'expect_column_value_z_scores_to_be_less_than', {
      column: 'age',
      threshold: -1,
      double_sided: false,
    });
    assert.deepEqual([negative.unexpectedCount, negative.sample], [3, [34, 52, 81]]);
    const mostly = await fixture.check('people', 'expect_column_value_z_scores_to_be_less_than', {
      column: 'age',
      threshold: 1.2,
      double_sided: true,
      mostly: 0.75,
    });
    assert.equal(mostly.success, true);
    // One value has no deviation, hence no z-score: unexpected, as in GE's pandas reference.
    const single = await fixture.check('people', 'expect_column_value_z_scores_to_be_less_than', {
      column: 'age',
      threshold: 3,
      double_sided: true,
      row_condition: 'id = 1',
    });
    assert.deepEqual([single.success, single.unexpectedCount], [false, 1]);
    assert.match(
      (
        await fixture.check('people', 'expect_column_value_z_scores_to_be_less_than', {
          column: 'name',
          threshold: 1,
          double_sided: true,
        })
      ).error!,
      /needs a numeric column, but `name` is VARCHAR/,
    );
    assert.match(
      (
        await fixture.check('people', 'expect_column_value_z_scores_to_be_less_than', {
          column: 'age',
          threshold: 1,
        })
      ).error!,
      /`double_sided` is required/,
    );
  });
});
