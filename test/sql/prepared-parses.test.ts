import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueryError } from '../../src/diagnostics/errors.ts';
import { cachedParse, parseSql, prepareParses } from '../../src/sql/index.ts';

describe('prepareParses', () => {
  test('parses a batch in one call, keeping exactly what parsing each alone keeps', async () => {
    const texts = [
      'SELECT state, count(*) AS n FROM clinical.visits GROUP BY state',
      'SELECT 9007199254740993 AS big, 10.0 AS ratio',
      'SELECT * FROM shop.orders AT (VERSION => 3)',
      'select from where',
      "COPY t TO 'out.csv'",
      'SELECT 1; SELECT 2',
    ];
    const batched = texts.map((sql) => `${sql} -- batched`);
    const alone = texts.map((sql) => `${sql} -- alone`);
    await prepareParses(batched);
    for (const sql of alone) await parseSql(sql).catch(() => undefined);
    texts.forEach((_, index) => {
      const kept = cachedParse(batched[index]!);
      assert.ok(kept, `${texts[index]} is kept`);
      assert.equal(kept, cachedParse(alone[index]!), texts[index]);
    });
    assert.equal((await parseSql(batched[0]!)).length, 1);
    await assert.rejects(parseSql(batched[3]!), QueryError);
    await assert.rejects(
      parseSql(batched[4]!),
      /only SELECT and WITH queries are allowed; `COPY` is refused/,
    );
  });
});
