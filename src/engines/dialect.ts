import type { FieldType } from '../model/index.ts';
import { duckdbDialect } from './duckdb/duckdb-dialect.ts';
import { postgresDialect } from './postgres/postgres-dialect.ts';

/**
 * An engine's SQL dialect: pure builders of SQL text, nothing runs here. Everything outside
 * `engines/` that writes engine-specific SQL (a field's column type, literals, hashing, the pieces
 * masks and checks are made of, the relation over a version's stored files) asks a dialect for it,
 * so an engine is added by implementing this interface beside its `Engine`.
 *
 * Every builder takes and returns SQL expressions as text; an expression argument is already valid
 * SQL in this dialect (a column reference, a literal, a sub-expression). Builders keep NULL as NULL
 * unless they say otherwise.
 */
export interface Dialect {
  /** e.g. `duckdb`, `postgres`: the engine this dialect is spoken by. */
  readonly name: string;
  /** What the engine can do; callers check a flag before asking for something that needs it. */
  readonly capabilities: DialectCapabilities;

  /** A quoted identifier. */
  identifier(name: string): string;
  /** A string literal. */
  stringLiteral(value: string): string;
  /** A binary literal holding `bytes`. Keys go through here: never log the result. */
  bytesLiteral(bytes: Uint8Array): string;
  /**
   * SQL reading the binary secret this session holds under `name` (given by `setSessionSecret`),
   * so the secret itself never appears in query text, logs or error messages.
   */
  sessionSecret(name: string): string;
  /** The statement that gives the session the secret `name`. It holds the secret: never log it. */
  setSessionSecret(name: string, value: Uint8Array): string;

  /**
   * The column type a field is stored as: the one place a field type gets its SQL spelling (casts,
   * typed NULLs, conforming, empty relations). It compares equal to what the engine's own
   * `DESCRIBE`/catalog reports for such a column.
   */
  columnType(type: FieldType): string;
  /**
   * An engine type name (`ColumnInfo.type`) as DuckDB spells it, the one spelling the faces speak
   * (pgwire's type OIDs, the HTTP API's column types): `numeric(12,2)` → `DECIMAL(12,2)`.
   */
  faceTypeName(engineTypeName: string): string;
  /** `CAST(expr AS type)` to a field's column type. */
  cast(expression: string, type: FieldType): string;
  /** A NULL of a field's column type. */
  typedNull(type: FieldType): string;
  /** An expression's text (VARCHAR/text), as the engine casts it. */
  toText(expression: string): string;
  /** The UTC ISO-8601 text of a TIMESTAMPTZ, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, whatever the session time zone. */
  timestamptzIsoText(expression: string): string;

  /** The year of a DATE or TIMESTAMP expression, as an integer. */
  yearOf(expression: string): string;
  /** January 1 of an integer year, as a DATE. */
  januaryFirst(yearExpression: string): string;
  /** January 1 of an integer year at 00:00 UTC, as a TIMESTAMPTZ. */
  januaryFirstUtc(yearExpression: string): string;
  /** True when text `needle` occurs in text `haystack`. */
  textContains(haystack: string, needle: string): string;
  /** True when a text expression starts with `count` ASCII digits. */
  startsWithDigits(textExpression: string, count: number): string;

  /** The SHA-256 of a binary expression, as 64 lowercase hex digits. */
  sha256Hex(bytesExpression: string): string;
  /**
   * HMAC-SHA256 (RFC 2104) of a text expression's UTF-8 bytes under a binary key expression, as 64
   * lowercase hex digits: equal to `createHmac('sha256', key).update(text).digest('hex')`.
   */
  hmacSha256Hex(textExpression: string, keyExpression: string): string;

  /**
   * True when `value` equals one of `members` (literals of the value's type); FALSE for no members.
   * NULL when `value` is NULL.
   */
  inSet(value: string, members: string[]): string;
  /** True when the whole of a text expression matches a regular expression. */
  regexpFullMatch(textExpression: string, pattern: string): string;
  /** True when a text expression contains a match of a regular expression. */
  regexpMatches(textExpression: string, pattern: string): string;
  /** Capture group `group` of the first match of a regular expression; '' when it does not match. */
  regexpExtract(textExpression: string, pattern: string, group: number): string;

  /**
   * The relation over a table version's stored Parquet files (local paths), every stored column
   * included, columns matched by name across files. Only engines with `readsFiles` have it.
   */
  filesRelation?(paths: string[]): string;
}

/** What a dialect's engine supports. Documented in `docs/engines.md`. */
export interface DialectCapabilities {
  /** The engine reads Parquet files in place (`filesRelation`); else versions are loaded into tables. */
  readsFiles: boolean;
  /** Nested types (LIST, STRUCT) are stored as columns; else they are stored as JSON text. */
  nestedTypes: boolean;
  /** Unsigned integer types exist; else they widen to the next signed type. */
  unsignedIntegers: boolean;
  /** HMAC-SHA256 can be computed in SQL (`hmacSha256Hex`); else HASH masks need precomputed columns. */
  hmacSha256: boolean;
  /** DDL runs inside transactions, so a version swap (drop + create view) is atomic. */
  transactionalDdl: boolean;
}

export { duckdbDialect, postgresDialect };

/** The dialect an engine of this name speaks. Ingestion always conforms with DuckDB's. */
export function dialectFor(engineName: string): Dialect {
  for (const dialect of [duckdbDialect, postgresDialect]) if (dialect.name === engineName) return dialect;
  throw new Error(`no SQL dialect for engine ${JSON.stringify(engineName)}; known: duckdb, postgres`);
}
