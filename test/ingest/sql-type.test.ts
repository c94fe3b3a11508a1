import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sqlTypeOf } from '../../src/ingest/index.ts';

test('sqlTypeOf spells every field type the way DuckDB reports it', () => {
  assert.equal(sqlTypeOf({ kind: 'scalar', sql: 'TIMESTAMPTZ' }), 'TIMESTAMP WITH TIME ZONE');
  assert.equal(sqlTypeOf({ kind: 'scalar', sql: 'UBIGINT' }), 'UBIGINT');
  assert.equal(sqlTypeOf({ kind: 'decimal', precision: 18, scale: 2 }), 'DECIMAL(18,2)');
  assert.equal(sqlTypeOf({ kind: 'enum', name: 'Gender', values: ['F', 'M'] }), 'VARCHAR');
  assert.equal(sqlTypeOf({ kind: 'list', element: { kind: 'scalar', sql: 'INTEGER' } }), 'INTEGER[]');
  assert.equal(
    sqlTypeOf({
      kind: 'struct',
      name: 'Address',
      fields: [
        { name: 'zip', number: 1, type: { kind: 'scalar', sql: 'VARCHAR' }, nullable: false },
        {
          name: 'lines',
          number: 2,
          type: { kind: 'list', element: { kind: 'scalar', sql: 'VARCHAR' } },
          nullable: true,
        },
      ],
    }),
    'STRUCT("zip" VARCHAR, "lines" VARCHAR[])',
  );
});
