import { quoteLiteral } from '../engines/engine.ts';
import type { RelationColumn } from './expectation-spec.ts';
import { CheckCompileError } from './check-errors.ts';
import { isNumericFamily, typeFamily } from './column-types.ts';

/** A JSON-ish value as a SQL literal by its own type: numbers, strings, booleans, NULL. */
export function plainLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `CAST(${quoteLiteral(String(value))} AS DOUBLE)`;
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return quoteLiteral(value);
  return quoteLiteral(JSON.stringify(value));
}

/**
 * A value written in a validation as a literal comparable with the column, or a
 * `CheckCompileError` when the two cannot meet (GE: "Column values, min_value, and max_value must
 * either be None or of the same type"). Strings against date and time columns become typed
 * literals; numbers against text columns are compared as text, which is what a YAML author writing
 * `value_set: [1, 2]` for a code column means.
 */
export function literalForColumn(value: unknown, column: RelationColumn, argument: string): string {
  if (value === null || value === undefined) return 'NULL';
  const family = typeFamily(column.type);
  const mismatch = () =>
    new CheckCompileError(
      `\`${argument}\` value ${JSON.stringify(value)} cannot be compared with column \`${column.name}\` of type ${column.type}`,
    );
  if (isNumericFamily(family)) {
    if (typeof value === 'number') return plainLiteral(value);
    if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))
      return String(Number(value));
    throw mismatch();
  }
  if (family === 'string') {
    if (typeof value === 'string') return quoteLiteral(value);
    if (typeof value === 'number' || typeof value === 'boolean') return quoteLiteral(String(value));
    throw mismatch();
  }
  if (family === 'boolean') {
    if (typeof value === 'boolean') return plainLiteral(value);
    throw mismatch();
  }
  if (family === 'temporal') {
    if (typeof value === 'string') return `CAST(${quoteLiteral(value)} AS ${column.type})`;
    throw mismatch();
  }
  if (typeof value === 'string') return `CAST(${quoteLiteral(value)} AS ${column.type})`;
  throw mismatch();
}
