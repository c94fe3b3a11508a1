import { duckdbDialect } from '../engines/dialect.ts';
import type { FieldType } from '../model/index.ts';

/**
 * The DuckDB column type for a field (ingestion always conforms with DuckDB): the DuckDB dialect's
 * `columnType`, the one place a field type is spelled.
 */
export function sqlTypeOf(type: FieldType): string {
  return duckdbDialect.columnType(type);
}
