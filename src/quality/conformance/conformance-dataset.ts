import { quoteIdentifier, quoteLiteral } from '../../engines/engine.ts';

/**
 * Loads one GE test dataset (`data`: column name → values) into an engine table, typed the way
 * GE's own SQL test harness types it: the backend's declared schema when the dataset gives one,
 * else another declared schema (PostgreSQL, SQLite, then Spark), else inferred from the values
 * the way pandas → SQL would (integers → BIGINT, other numbers → DOUBLE, booleans → BOOLEAN,
 * anything else or mixed → VARCHAR).
 */

/** The GE backends whose cases Tessera runs (see great-expectations-conformance.ts). */
export type SqlBackend = 'postgresql' | 'sqlite';

/** One GE dataset: values per column, and column types per backend. */
export interface GeDataset {
  data: Record<string, unknown[]>;
  schemas?: Record<string, Record<string, string>> | null;
  dataset_name?: string;
}

// Declared type names (PostgreSQL, SQLite, MySQL/MSSQL spellings, Spark) → DuckDB. Arbitrary
// precision NUMERIC and Spark's 4-byte FloatType become DOUBLE so JSON values stay exact.
const TYPE_MAP: Record<string, string> = {
  INTEGER: 'INTEGER',
  INT: 'INTEGER',
  INT4: 'INTEGER',
  MEDIUMINT: 'INTEGER',
  INTEGERTYPE: 'INTEGER',
  SMALLINT: 'SMALLINT',
  INT2: 'SMALLINT',
  SHORTTYPE: 'SMALLINT',
  TINYINT: 'TINYINT',
  BYTETYPE: 'TINYINT',
  BIGINT: 'BIGINT',
  INT8: 'BIGINT',
  LONGTYPE: 'BIGINT',
  TEXT: 'VARCHAR',
  VARCHAR: 'VARCHAR',
  NVARCHAR: 'VARCHAR',
  CHAR: 'VARCHAR',
  STRING: 'VARCHAR',
  CLOB: 'VARCHAR',
  STRINGTYPE: 'VARCHAR',
  NULLTYPE: 'VARCHAR',
  DOUBLE_PRECISION: 'DOUBLE',
  DOUBLE: 'DOUBLE',
  FLOAT: 'DOUBLE',
  FLOAT8: 'DOUBLE',
  FLOAT64: 'DOUBLE',
  DOUBLETYPE: 'DOUBLE',
  FLOATTYPE: 'DOUBLE',
  REAL: 'FLOAT',
  FLOAT4: 'FLOAT',
  NUMERIC: 'DOUBLE',
  DECIMAL: 'DOUBLE',
  NUMBER: 'DOUBLE',
  DECIMALTYPE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  BIT: 'BOOLEAN',
  BOOLEANTYPE: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  DATETIME: 'TIMESTAMP',
  TIMESTAMP_NTZ: 'TIMESTAMP',
  TIMESTAMPTYPE: 'TIMESTAMP',
  TIMESTAMPTZ: 'TIMESTAMPTZ',
  TIMESTAMP_TZ: 'TIMESTAMPTZ',
  DATE: 'DATE',
  DATETYPE: 'DATE',
  TIME: 'TIME',
};

/** The DuckDB type for a declared type name, or undefined when unknown (then inferred). */
export function duckdbTypeFor(declared: string): string | undefined {
  return TYPE_MAP[
    declared
      .toUpperCase()
      .replace(/\(.*\)$/, '')
      .trim()
  ];
}

/** The schema the dataset declares for the backend, falling back to its other SQL schemas, then Spark's. */
function declaredSchema(dataset: GeDataset, backend: SqlBackend): Record<string, string> {
  const schemas = dataset.schemas ?? {};
  const order =
    backend === 'postgresql' ? ['postgresql', 'sqlite', 'spark'] : ['sqlite', 'postgresql', 'spark'];
  for (const name of order) if (schemas[name]) return schemas[name]!;
  return {};
}

/** The type pandas → SQL would give these JSON values. */
export function inferType(values: unknown[]): string {
  const present = values.filter((value) => value !== null && value !== undefined);
  if (present.length === 0) return 'VARCHAR';
  if (present.every((value) => typeof value === 'boolean')) return 'BOOLEAN';
  if (present.every((value) => typeof value === 'number')) {
    return present.every((value) => Number.isInteger(value)) ? 'BIGINT' : 'DOUBLE';
  }
  return 'VARCHAR';
}

/** A column of a loaded dataset table. */
export interface LoadedColumn {
  name: string;
  type: string;
}

/** The table's columns with their DuckDB types for this backend. */
export function datasetColumns(dataset: GeDataset, backend: SqlBackend): LoadedColumn[] {
  const schema = declaredSchema(dataset, backend);
  return Object.entries(dataset.data).map(([name, values]) => ({
    name,
    type: (schema[name] && duckdbTypeFor(schema[name]!)) || inferType(values),
  }));
}

/** CREATE TABLE and INSERT statements for the dataset. */
export function datasetStatements(table: string, dataset: GeDataset, backend: SqlBackend): string[] {
  const columns = datasetColumns(dataset, backend);
  const definition = columns.map((column) => `${quoteIdentifier(column.name)} ${column.type}`).join(', ');
  const statements = [`CREATE TABLE ${table} (${definition})`];
  const rowCount = Math.max(0, ...columns.map((column) => dataset.data[column.name]!.length));
  if (rowCount === 0) return statements;
  const rows: string[] = [];
  for (let row = 0; row < rowCount; row++) {
    rows.push(
      `(${columns.map((column) => valueLiteral(dataset.data[column.name]![row], column.type)).join(', ')})`,
    );
  }
  statements.push(`INSERT INTO ${table} VALUES ${rows.join(', ')}`);
  return statements;
}

/** A JSON value as a literal of the column's type; strings are cast the way pandas would convert them. */
function valueLiteral(value: unknown, type: string): string {
  if (value === null || value === undefined) return 'NULL';
  if (type === 'VARCHAR') {
    // pandas writes Python's str() of non-strings in a text column.
    if (typeof value === 'string') return quoteLiteral(value);
    if (typeof value === 'boolean') return quoteLiteral(value ? 'True' : 'False');
    if (typeof value === 'number') return quoteLiteral(String(value));
    return quoteLiteral(JSON.stringify(value));
  }
  if (type === 'BOOLEAN')
    return typeof value === 'boolean'
      ? String(value).toUpperCase()
      : `CAST(${quoteLiteral(String(value))} AS BOOLEAN)`;
  if (['TIMESTAMP', 'TIMESTAMPTZ', 'DATE'].includes(type))
    return `CAST(${quoteLiteral(looseDateTime(String(value)))} AS ${type})`;
  if (typeof value === 'number') return `CAST(${String(value)} AS ${type})`;
  if (typeof value === 'boolean') return value ? '1' : '0';
  return `CAST(${quoteLiteral(String(value))} AS ${type})`;
}

/**
 * pandas' `to_datetime` reads forms like `Jan 01 1970 12:00:01` that DuckDB's cast does not: ISO
 * text passes through, anything else goes through the JavaScript date parser, read as UTC.
 */
function looseDateTime(text: string): string {
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) return text;
  const parsed = Date.parse(`${text} UTC`);
  const time = Number.isNaN(parsed) ? Date.parse(text) : parsed;
  if (Number.isNaN(time)) return text;
  return new Date(time).toISOString().replace('T', ' ').replace('Z', '');
}
