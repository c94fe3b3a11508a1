import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/definitions/index.ts';

describe('parseDuration', () => {
  it('converts each unit to milliseconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('26h'), 93_600_000);
    assert.equal(parseDuration('2d'), 172_800_000);
    assert.equal(parseDuration('1w'), 604_800_000);
  });

  it('accepts compound and fractional durations', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration(' 2h '), 7_200_000);
  });

  it('refuses bare numbers, unknown units and junk', () => {
    for (const text of ['30', '', '5 minutes', '10y', 'm', '-5s', '1h 30m', 'PT1H']) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });
});
