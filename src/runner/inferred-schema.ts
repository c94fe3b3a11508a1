import type { FieldDef, FieldType, ScalarSqlType } from '../model/index.ts';

const SCALAR_TYPES: Record<string, ScalarSqlType> = {
  VARCHAR: 'VARCHAR',
  INTEGER: 'INTEGER',
  BIGINT: 'BIGINT',
  UINTEGER: 'UINTEGER',
  UBIGINT: 'UBIGINT',
  FLOAT: 'FLOAT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  BLOB: 'BLOB',
  DATE: 'DATE',
  'TIMESTAMP WITH TIME ZONE': 'TIMESTAMPTZ',
};

/** The FieldType for an engine type name, as `DESCRIBE` prints it. */
export function fieldTypeFromEngine(type: string): FieldType {
  const scalar = SCALAR_TYPES[type];
  if (scalar) return { kind: 'scalar', sql: scalar };
  const decimal = /^DECIMAL\((\d+),(\d+)\)$/.exec(type);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  if (type.endsWith('[]') && !type.startsWith('STRUCT')) {
    return { kind: 'list', element: fieldTypeFromEngine(type.slice(0, -2)) };
  }
  return { kind: 'engine', sql: type };
}

/** Fields of an inferred projection output: every column nullable, numbered in output order. */
export function inferFields(columns: { name: string; type: string; nullable: boolean }[]): FieldDef[] {
  return columns.map((column, index) => ({
    name: column.name,
    number: index + 1,
    type: fieldTypeFromEngine(column.type),
    nullable: column.nullable,
  }));
}
