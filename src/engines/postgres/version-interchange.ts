import type { FieldType } from '../../model/index.ts';
import { duckdbDialect } from '../duckdb/duckdb-dialect.ts';
import type { VersionColumn } from '../engine.ts';

/**
 * How a version crosses from DuckDB (which conforms and writes every version) to PostgreSQL: as
 * CSV that DuckDB writes and `COPY … FROM STDIN` reads. Most values print alike in both; the rest
 * are spelled here the way PostgreSQL's input functions read them.
 */

/** The DuckDB expression giving `column`'s value as PostgreSQL reads it from CSV for its column type. */
function interchangeValue(column: string, type: FieldType, field: string): string {
  switch (type.kind) {
    case 'struct':
      // Stored as jsonb (no anonymous composite types).
      return `CAST(to_json(${column}) AS VARCHAR)`;
    case 'list': {
      if (type.element.kind === 'list' || type.element.kind === 'struct') {
        throw new Error(
          `field ${field}: a list of ${type.element.kind}s cannot be loaded into PostgreSQL (its arrays hold scalars); use engine: duckdb, or store the value as a struct`,
        );
      }
      // An array literal: `{"a","b",NULL}`, each element quoted with `\` and `"` escaped.
      const element = `CASE WHEN e IS NULL THEN 'NULL' ELSE '"' || replace(replace(${interchangeValue('e', type.element, field)}, '\\', '\\\\'), '"', '\\"') || '"' END`;
      return `CASE WHEN ${column} IS NULL THEN NULL ELSE '{' || array_to_string(list_transform(${column}, e -> ${element}), ',') || '}' END`;
    }
    case 'scalar':
      // bytea's hex input form.
      if (type.sql === 'BLOB') return `'\\x' || lower(hex(${column}))`;
      return `CAST(${column} AS VARCHAR)`;
    default:
      return `CAST(${column} AS VARCHAR)`;
  }
}

/** The select list writing a version's fields as PostgreSQL loads them (see `VersionTables.interchangeSelect`). */
export function postgresInterchangeSelect(columns: VersionColumn[]): string {
  return columns
    .map((column) => {
      const name = duckdbDialect.identifier(column.name);
      return `${interchangeValue(name, column.type, column.name)} AS ${name}`;
    })
    .join(', ');
}

/**
 * The DuckDB type reading back a PostgreSQL column from its CSV text, by the type name
 * `format_type` gives. Types without a faithful DuckDB reading (arrays, bytea, json, intervals)
 * come back as their text.
 */
export function duckdbTypeOfPostgres(pgType: string): string {
  const numeric = /^numeric\((\d+),(\d+)\)$/.exec(pgType);
  if (numeric) return Number(numeric[1]) <= 38 ? `DECIMAL(${numeric[1]},${numeric[2]})` : 'DOUBLE';
  if (/^(character varying|character|varchar|char)(\(\d+\))?$/.test(pgType)) return 'VARCHAR';
  if (/^timestamp(\(\d\))? without time zone$/.test(pgType)) return 'TIMESTAMP';
  if (/^timestamp(\(\d\))? with time zone$/.test(pgType)) return 'TIMESTAMP WITH TIME ZONE';
  const simple: Record<string, string> = {
    smallint: 'SMALLINT',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    // An unconstrained numeric (e.g. avg, or sum of a numeric) has no scale to keep: a double.
    numeric: 'DOUBLE',
    real: 'FLOAT',
    'double precision': 'DOUBLE',
    boolean: 'BOOLEAN',
    date: 'DATE',
    text: 'VARCHAR',
    name: 'VARCHAR',
    uuid: 'UUID',
  };
  return simple[pgType] ?? 'VARCHAR';
}

/**
 * The DuckDB relation reading a CSV file PostgreSQL wrote (`COPY … TO STDOUT (FORMAT csv, HEADER)`):
 * typed as given, an unquoted empty value NULL and a quoted one the empty string, as PostgreSQL wrote them.
 */
export function duckdbCsvRelation(file: string, columns: { name: string; type: string }[]): string {
  const literal = duckdbDialect.stringLiteral;
  const types = columns.map((column) => `${literal(column.name)}: ${literal(column.type)}`);
  return (
    `read_csv(${literal(file)}, header = true, auto_detect = false, allow_quoted_nulls = false, ` +
    `columns = {${types.join(', ')}})`
  );
}
