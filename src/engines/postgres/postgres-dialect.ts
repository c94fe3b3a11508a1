import type { FieldType } from '../../model/index.ts';
import type { Dialect } from '../dialect.ts';
import { duckdbTypeOfPostgres } from './version-interchange.ts';

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function stringLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

const SCALAR_TYPES: Record<string, string> = {
  VARCHAR: 'text',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  // No unsigned types: each widens to the next signed type that holds all its values.
  UINTEGER: 'bigint',
  UBIGINT: 'numeric(20,0)',
  FLOAT: 'real',
  DOUBLE: 'double precision',
  BOOLEAN: 'boolean',
  BLOB: 'bytea',
  TIMESTAMPTZ: 'timestamp with time zone',
  DATE: 'date',
  HUGEINT: 'numeric(39,0)',
};

/** The PostgreSQL column type for a field, spelled as `format_type` reports it. */
function columnType(type: FieldType): string {
  switch (type.kind) {
    case 'scalar':
      return SCALAR_TYPES[type.sql] ?? type.sql;
    case 'decimal':
      return `numeric(${type.precision},${type.scale})`;
    case 'enum':
      return 'text';
    case 'list':
      return `${columnType(type.element)}[]`;
    case 'struct':
      // No anonymous composite types: structs are stored as JSON (`nestedTypes` is false).
      return 'jsonb';
    case 'engine':
      return SCALAR_TYPES[type.sql] ?? type.sql;
  }
}

/**
 * Capture group `group` of the first match, NULL without one. Group 1 is `substring(text, pattern)`,
 * PostgreSQL's regular-expression substring; the others index `regexp_match`'s array. (What this
 * dialect writes is read back by DuckDB's parser when it goes into a governed query, so it avoids
 * the `~` operator, which DuckDB reads as a full match.)
 */
function regexpGroup(text: string, pattern: string, group: number): string {
  return group === 1
    ? `substring(${text}, ${stringLiteral(pattern)})`
    : `(regexp_match(${text}, ${stringLiteral(pattern)}))[${group}]`;
}

/**
 * PostgreSQL's dialect (PostgreSQL 15 or later, for `regexp_like`). HMAC-SHA256 needs the `pgcrypto` extension (`hmac`), which the PostgreSQL
 * engine creates when it connects; without it HASH masks fail with PostgreSQL's "function hmac does
 * not exist".
 */
export const postgresDialect: Dialect = {
  name: 'postgres',
  capabilities: {
    readsFiles: false,
    nestedTypes: false,
    unsignedIntegers: false,
    hmacSha256: true,
    transactionalDdl: true,
  },
  identifier,
  stringLiteral,
  bytesLiteral: (bytes) => `decode('${Buffer.from(bytes).toString('hex')}', 'hex')`,
  // A custom setting (`tessera.<name>`), as hex text: settings are text, and user SQL cannot read
  // them (the guard refuses `current_setting`).
  sessionSecret: (name) => `decode(current_setting('tessera.${name}'), 'hex')`,
  setSessionSecret: (name, value) =>
    `SELECT set_config('tessera.${name}', '${Buffer.from(value).toString('hex')}', false)`,
  columnType,
  cast: (expression, type) => `CAST(${expression} AS ${columnType(type)})`,
  typedNull: (type) => `CAST(NULL AS ${columnType(type)})`,
  toText: (expression) => `CAST(${expression} AS text)`,
  timestamptzIsoText: (expression) =>
    `to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
  faceTypeName: duckdbTypeOfPostgres,
  januaryFirst: (year) => `make_date(${year}, 1, 1)`,
  januaryFirstUtc: (year) => `make_timestamptz(${year}, 1, 1, 0, 0, 0, 'UTC')`,
  yearOf: (expression) => `CAST(date_part('year', ${expression}) AS integer)`,
  textContains: (haystack, needle) => `(strpos(${haystack}, ${needle}) > 0)`,
  startsWithDigits: (text, count) => `regexp_like(${text}, '^[0-9]{${count}}')`,
  sha256Hex: (bytesExpression) => `encode(sha256(${bytesExpression}), 'hex')`,
  hmacSha256Hex: (text, key) => `encode(hmac(convert_to(${text}, 'UTF8'), ${key}, 'sha256'), 'hex')`,
  inSet: (value, members) => (members.length > 0 ? `(${value} IN (${members.join(', ')}))` : 'FALSE'),
  regexpFullMatch: (text, pattern) => `regexp_like(${text}, ${stringLiteral(`^(?:${pattern})$`)})`,
  regexpMatches: (text, pattern) => `regexp_like(${text}, ${stringLiteral(pattern)})`,
  regexpExtract: (text, pattern, group) =>
    `CASE WHEN ${text} IS NULL THEN NULL ELSE coalesce(${regexpGroup(text, pattern, group)}, '') END`,
};
