import { INTEGER_TYPE_NAMES, quoteIdentifier } from '../engines/engine.ts';
import type { RelationColumn } from './expectation-spec.ts';
import { CheckCompileError } from './check-errors.ts';

/** Broad families of engine types: they decide which comparisons and functions make sense. */
export type TypeFamily = 'integer' | 'float' | 'decimal' | 'string' | 'boolean' | 'temporal' | 'other';

/** The family of an engine type name as DuckDB spells it. */
export function typeFamily(type: string): TypeFamily {
  const upper = type.toUpperCase();
  if (INTEGER_TYPE_NAMES.has(upper)) return 'integer';
  if (upper === 'FLOAT' || upper === 'DOUBLE') return 'float';
  if (upper.startsWith('DECIMAL')) return 'decimal';
  if (upper.startsWith('VARCHAR') || upper.startsWith('ENUM(') || upper === 'UUID' || upper === 'JSON')
    return 'string';
  if (upper === 'BOOLEAN') return 'boolean';
  if (upper === 'DATE' || upper.startsWith('TIMESTAMP') || upper.startsWith('TIME')) return 'temporal';
  return 'other';
}

/** Integers, floats and decimals. */
export function isNumericFamily(family: TypeFamily): boolean {
  return family === 'integer' || family === 'float' || family === 'decimal';
}

/**
 * The column as a VARCHAR expression for string functions. ENUM, UUID and JSON read as text;
 * anything else is refused the way GE refuses non-strings ("values must be of type string").
 */
export function stringExpression(column: RelationColumn, expectation: string): string {
  const family = typeFamily(column.type);
  if (family !== 'string') {
    throw new CheckCompileError(
      `${expectation} needs a string column, but \`${column.name}\` is ${column.type}; cast it in a projection or pick another expectation`,
    );
  }
  const identifier = quoteIdentifier(column.name);
  return column.type.toUpperCase().startsWith('VARCHAR') ? identifier : `CAST(${identifier} AS VARCHAR)`;
}

// Spellings users bring from PostgreSQL, SQLite, SQLAlchemy, BigQuery or Spark, mapped to the
// DuckDB type names the engine reports. `FLOAT` is double precision in PostgreSQL and SQLite, so
// it accepts both widths.
const TYPE_SPELLINGS: Record<string, string[]> = {
  INT: ['INTEGER'],
  INT4: ['INTEGER'],
  SIGNED: ['INTEGER'],
  INTEGERTYPE: ['INTEGER'],
  INT8: ['BIGINT'],
  LONG: ['BIGINT'],
  LONGTYPE: ['BIGINT'],
  INT2: ['SMALLINT'],
  SHORT: ['SMALLINT'],
  INT1: ['TINYINT'],
  TEXT: ['VARCHAR'],
  STRING: ['VARCHAR'],
  STRINGTYPE: ['VARCHAR'],
  CHAR: ['VARCHAR'],
  BPCHAR: ['VARCHAR'],
  NVARCHAR: ['VARCHAR'],
  DOUBLE_PRECISION: ['DOUBLE'],
  'DOUBLE PRECISION': ['DOUBLE'],
  FLOAT8: ['DOUBLE'],
  FLOAT64: ['DOUBLE'],
  DOUBLETYPE: ['DOUBLE'],
  FLOAT: ['DOUBLE', 'FLOAT'],
  FLOATTYPE: ['FLOAT', 'DOUBLE'],
  REAL: ['FLOAT'],
  FLOAT4: ['FLOAT'],
  BOOL: ['BOOLEAN'],
  BOOLEANTYPE: ['BOOLEAN'],
  DATETIME: ['TIMESTAMP'],
  TIMESTAMP_NTZ: ['TIMESTAMP'],
  'TIMESTAMP WITHOUT TIME ZONE': ['TIMESTAMP'],
  TIMESTAMPTYPE: ['TIMESTAMP'],
  TIMESTAMPTZ: ['TIMESTAMP WITH TIME ZONE'],
  TIMESTAMP_TZ: ['TIMESTAMP WITH TIME ZONE'],
  DATETYPE: ['DATE'],
  BYTEA: ['BLOB'],
  BINARY: ['BLOB'],
  VARBINARY: ['BLOB'],
};

/** Whether a type name as a user wrote it (`TEXT`, `DOUBLE_PRECISION`, `DECIMAL`) names the column's type. */
export function typeNameMatches(requested: string, actual: string): boolean {
  const wanted = requested.trim().toUpperCase().replace(/\s+/g, ' ');
  const have = actual.toUpperCase();
  if (wanted === 'DECIMAL' || wanted === 'NUMERIC') return have.startsWith('DECIMAL');
  if (/^(DECIMAL|NUMERIC)\s*\(/.test(wanted)) {
    return have === wanted.replace(/^NUMERIC/, 'DECIMAL').replace(/\s+/g, '');
  }
  return (TYPE_SPELLINGS[wanted] ?? [wanted]).includes(have);
}
