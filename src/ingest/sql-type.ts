import { quoteIdentifier } from '../engines/engine.ts';
import type { FieldType } from '../model/index.ts';

/**
 * The DuckDB column type for a field: STRUCT/LIST/DECIMAL spelled out, enums as VARCHAR (their
 * values are checked while conforming), TIMESTAMPTZ as `TIMESTAMP WITH TIME ZONE` (DuckDB's own
 * spelling, so it compares equal to what `DESCRIBE` reports).
 */
export function sqlTypeOf(type: FieldType): string {
  switch (type.kind) {
    case 'scalar':
      return type.sql === 'TIMESTAMPTZ' ? 'TIMESTAMP WITH TIME ZONE' : type.sql;
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'enum':
      return 'VARCHAR';
    case 'list':
      return `${sqlTypeOf(type.element)}[]`;
    case 'struct':
      return `STRUCT(${type.fields.map((field) => `${quoteIdentifier(field.name)} ${sqlTypeOf(field.type)}`).join(', ')})`;
    case 'engine':
      return type.sql;
  }
}
