import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bindParameters, parameterCount, sqlLiteral } from '../../src/sql/parameter-binding.ts';

describe('binding $n placeholders as literals', () => {
  test('placeholders outside strings, identifiers and comments are replaced; the rest is left as written', () => {
    const sql = `SELECT '$1', "$1", E'it\\'s $1', $tag$ $1 $tag$, $$ $2 $$ -- $1
FROM t /* $1 /* nested $2 */ $1 */ WHERE a = $1 AND b = $2 AND c$1 = 1`;
    assert.equal(parameterCount(sql), 2);
    assert.equal(
      bindParameters(sql, ['x', 7]),
      `SELECT '$1', "$1", E'it\\'s $1', $tag$ $1 $tag$, $$ $2 $$ -- $1
FROM t /* $1 /* nested $2 */ $1 */ WHERE a = 'x' AND b = 7 AND c$1 = 1`,
    );
  });

  test('values become literals that cannot end the string or start a comment', () => {
    assert.equal(bindParameters('SELECT $1', ["a' OR '1'='1"]), "SELECT 'a'' OR ''1''=''1'");
    assert.equal(bindParameters('SELECT 5 -$1', [-5]), 'SELECT 5 -(-5)');
    assert.equal(bindParameters('SELECT 5 -$1', [-5n]), 'SELECT 5 -(-5)');
    assert.equal(sqlLiteral(null), 'NULL');
    assert.equal(sqlLiteral(true), 'TRUE');
    assert.equal(sqlLiteral(Number.NaN), "'NaN'::DOUBLE");
    assert.equal(sqlLiteral(new Uint8Array([0, 255])), "'\\x00\\xff'::BLOB");
    assert.equal(sqlLiteral(new Date('2026-01-02T03:04:05Z')), "'2026-01-02T03:04:05.000Z'");
    assert.throws(() => sqlLiteral('a\u0000b'), /NUL/);
  });

  test('a placeholder without a value is a usage error naming it; $10 is not $1 followed by 0', () => {
    assert.throws(() => bindParameters('SELECT $3', [1, 2]), /uses \$3 but 2 parameter\(s\) were sent/);
    const ten = Array.from({ length: 10 }, (_, index) => index + 1);
    assert.equal(bindParameters('SELECT $10, $1', ten), 'SELECT 10, 1');
    assert.equal(parameterCount('SELECT 1'), 0);
  });
});
