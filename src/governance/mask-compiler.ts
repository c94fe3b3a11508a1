import { QueryError } from '../diagnostics/errors.ts';
import { duckdbDialect, type Dialect } from '../engines/dialect.ts';
import { quoteLiteral } from '../engines/engine.ts';
import type { FieldType, MaskKind } from '../model/index.ts';
import restrictedZip3 from './reference/restricted-zip3.json' with { type: 'json' };

/**
 * Masks (SPEC §5) compiled to SQL expressions in the engine dialect (DuckDB; types, text casts and
 * hashing come from `engines/dialect.ts`). Pure text: nothing here runs a query. Every mask keeps NULL as NULL (a missing value is not hidden; the value is).
 */

/** What a mask expression may depend on besides the column. */
export interface MaskContext {
  /**
   * A SQL expression giving the project's hash key as a BLOB. `hashKeyLiteral(key)` writes one; a
   * session variable (`CAST(getvariable('tessera_hash_key') AS BLOB)`, set before the query runs)
   * keeps the key out of the SQL text, and so out of logs and error messages.
   */
  hashKeySql: string;
  /**
   * The date ages are computed at, for DATE_YEAR top-coding. Default: `current_date`, which DuckDB
   * evaluates again on every query it runs (about half a millisecond). A literal `DATE 'YYYY-MM-DD'`
   * costs nothing at run time and the least to plan.
   */
  asOfDateSql?: string;
  /** The dialect to write the mask in. Default: DuckDB's. */
  dialect?: Dialect;
}

/** What REDACT shows for text columns. Non-text columns have no marker that keeps their type: they become NULL. */
export const REDACTION_MARKER = '[REDACTED]';

/** Three-digit ZIP prefixes shown as `000` (HHS Safe Harbor guidance, 2000 Census). */
export const RESTRICTED_ZIP3_PREFIXES: readonly string[] = Object.freeze([...restrictedZip3.prefixes]);

/** Ages above this are top-coded (HIPAA Safe Harbor: "all ages over 89"). */
const OLDEST_SHOWN_AGE = 89;

/**
 * The SQL expression that shows `columnSql` (of type `type`) masked with `mask`:
 *
 * - HASH: lowercase hex HMAC-SHA256 of the value's text under the hash key (equal to
 *   `createHmac('sha256', key).update(text).digest('hex')`), so equal values hash equally in every
 *   table and masked columns still join. Non-text values hash their VARCHAR cast; TIMESTAMPTZ
 *   hashes its UTC ISO-8601 text so the session time zone cannot change the hash.
 * - REDACT: `'[REDACTED]'` for text; NULL (of the column's type) for anything else.
 * - NULLIFY: NULL of the column's type.
 * - DATE_YEAR: January 1 of the value's year (UTC for TIMESTAMPTZ), same type. A year at least 90
 *   years before the as-of date's year is top-coded to January 1 of (as-of year − 90), one value
 *   shared by everyone who may be over 89. (Someone born late in that year and still 89 shares it:
 *   the bucket is coarser, never finer, than Safe Harbor asks.)
 * - ZIP3: the first three digits as VARCHAR; `000` for restricted prefixes and for values that do
 *   not start with three digits. Integer ZIPs are zero-padded to five digits first.
 * - AGE_90_PLUS: values above 89 become 90, same type.
 * - EMAIL_DOMAIN: `***@domain`; `***` when there is no `@`.
 * - SHOW_LAST_4: `***` followed by the last four characters; `***` alone when the value has four
 *   characters or fewer (showing "the last four" would show all of it).
 *
 * Throws `QueryError` for a mask that cannot apply to the type (DATE_YEAR on text, AGE_90_PLUS on
 * a date...): a schema error to fix, not something to guess around.
 */
export function maskExpression(
  mask: MaskKind,
  columnSql: string,
  type: FieldType,
  context: MaskContext,
): string {
  const d = context.dialect ?? duckdbDialect;
  switch (mask) {
    case 'HASH':
      return d.hmacSha256Hex(hashInputSql(d, columnSql, type), context.hashKeySql);
    case 'REDACT':
      return isText(type)
        ? `CASE WHEN ${columnSql} IS NULL THEN NULL ELSE ${quoteLiteral(REDACTION_MARKER)} END`
        : d.typedNull(type);
    case 'NULLIFY':
      return d.typedNull(type);
    case 'DATE_YEAR':
      return dateYearSql(d, columnSql, type, context.asOfDateSql ?? 'current_date');
    case 'ZIP3':
      return zip3Sql(d, columnSql, type);
    case 'AGE_90_PLUS':
      if (!isNumeric(type)) throw unsupported(mask, type);
      return `CASE WHEN ${columnSql} > ${OLDEST_SHOWN_AGE} THEN ${d.cast(String(OLDEST_SHOWN_AGE + 1), type)} ELSE ${columnSql} END`;
    case 'EMAIL_DOMAIN': {
      const text = asText(d, columnSql, type);
      return (
        `CASE WHEN ${text} IS NULL THEN NULL ` +
        `WHEN strpos(${text}, '@') > 0 THEN '***@' || ${d.regexpExtract(text, '@([^@]*)$', 1)} ELSE '***' END`
      );
    }
    case 'SHOW_LAST_4': {
      const text = asText(d, columnSql, type);
      return `CASE WHEN ${text} IS NULL THEN NULL WHEN length(${text}) > 4 THEN '***' || right(${text}, 4) ELSE '***' END`;
    }
    default:
      throw new Error(`unknown mask ${String(mask satisfies never)}`);
  }
}

/**
 * The type of `maskExpression(mask, …, type)`'s result: VARCHAR for HASH, ZIP3, EMAIL_DOMAIN,
 * SHOW_LAST_4 and a REDACT of text; the column's own type otherwise. A version stored masked holds
 * values of this type, whatever the field declares.
 */
export function maskedType(mask: MaskKind, type: FieldType): FieldType {
  switch (mask) {
    case 'HASH':
    case 'ZIP3':
    case 'EMAIL_DOMAIN':
    case 'SHOW_LAST_4':
      return { kind: 'scalar', sql: 'VARCHAR' };
    case 'REDACT':
      return isText(type) ? { kind: 'scalar', sql: 'VARCHAR' } : type;
    default:
      return type;
  }
}

/** A SQL BLOB literal for a hash key (the dialect's `bytesLiteral`). Never log the result. */
export function hashKeyLiteral(key: string | Uint8Array): string {
  return duckdbDialect.bytesLiteral(typeof key === 'string' ? Buffer.from(key, 'utf8') : key);
}

/**
 * HMAC-SHA256 (RFC 2104) of `messageSql`'s UTF-8 bytes under the BLOB `keySql`, lowercase hex: the
 * dialect's `hmacSha256Hex` (DuckDB builds it from `sha256`). NULL in, NULL out.
 */
export function hmacSha256Sql(messageSql: string, keySql: string): string {
  return duckdbDialect.hmacSha256Hex(messageSql, keySql);
}

/**
 * A HASH value (64 lowercase hex digits) as its two 128-bit halves, each a UUID: fixed-width values
 * that DuckDB hashes and compares much faster than 64-character strings (too long for its inlined
 * string format), and that Parquet stores exactly (its 16-byte UUID type; a HUGEINT or UHUGEINT
 * would be written as a DOUBLE and lose bits). Equal halves ⇔ equal digests, so the pair stands for
 * the digest wherever only equality matters (joins, distinct counts; see `digest-comparisons.ts`).
 * NULL in, NULL out.
 */
export function digestHalvesSql(hexSql: string): [high: string, low: string] {
  return [`CAST(substr(${hexSql}, 1, 32) AS UUID)`, `CAST(substr(${hexSql}, 33, 32) AS UUID)`];
}

/**
 * The HASH value (64 lowercase hex digits) whose halves are `highSql` and `lowSql`, the inverse of
 * `digestHalvesSql`: a UUID cast to BLOB is its 16 bytes in the order of its text, so the hex of
 * both halves' bytes is the digest. NULL in, NULL out. Storing the halves alone and rebuilding the
 * hex on read costs less than storing both. (Measured: half the cost per row of casting each half
 * to its dashed text and removing the dashes, which a scan returning the column pays on every row.)
 */
export function digestHexSql(highSql: string, lowSql: string): string {
  return `lower(hex(CAST(${highSql} AS BLOB) || CAST(${lowSql} AS BLOB)))`;
}

/** The engine spelling of a field type, for casts and typed NULLs (the dialect's `columnType`). */
export function fieldTypeSql(type: FieldType): string {
  return duckdbDialect.columnType(type);
}

function hashInputSql(d: Dialect, columnSql: string, type: FieldType): string {
  if (isText(type)) return columnSql;
  if (type.kind === 'scalar' && type.sql === 'TIMESTAMPTZ') {
    return d.timestamptzIsoText(columnSql);
  }
  return d.toText(columnSql);
}

/** A DATE literal as `DATE 'YYYY-MM-DD'`, whose year the top-coding year can be computed from here. */
const DATE_LITERAL = /^DATE '(\d{4})-\d{2}-\d{2}'$/;

function dateYearSql(d: Dialect, columnSql: string, type: FieldType, asOfDateSql: string): string {
  // The year to top-code at, as a number when the as-of date is a literal: DuckDB takes about 0.3 ms
  // to plan `year(DATE '…')`, which it then folds to that very number.
  const literalYear = DATE_LITERAL.exec(asOfDateSql)?.[1];
  const cutoffYear =
    literalYear === undefined
      ? `(${d.yearOf(asOfDateSql)} - ${OLDEST_SHOWN_AGE + 1})`
      : String(Number(literalYear) - OLDEST_SHOWN_AGE - 1);
  // The year raised to the cutoff when below it: NULL stays NULL (NULL + anything), and one
  // arithmetic expression costs DuckDB about half the planning time of a CASE comparing the year
  // (measured on a selective governed query, where planning is most of the masks' cost).
  const shownYear = (year: string) => `${year} + greatest(0, ${cutoffYear} - ${year})`;
  if (type.kind === 'scalar' && type.sql === 'DATE') {
    return d.januaryFirst(shownYear(d.yearOf(columnSql)));
  }
  if (type.kind === 'scalar' && type.sql === 'TIMESTAMPTZ') {
    // Work in UTC explicitly: the session time zone must not move a value across a year boundary.
    const year = d.yearOf(`timezone('UTC', ${columnSql})`);
    return d.januaryFirstUtc(shownYear(year));
  }
  throw unsupported('DATE_YEAR', type);
}

/**
 * The restricted prefixes as one string, comma-separated: a three-digit prefix is restricted exactly
 * when the string contains it (three digits without a comma can only match a whole entry).
 */
const RESTRICTED_ZIP3_LOOKUP = quoteLiteral(RESTRICTED_ZIP3_PREFIXES.join(','));

function zip3Sql(d: Dialect, columnSql: string, type: FieldType): string {
  // One string lookup, not a list of 17 literals (nor IN, which DuckDB plans as a join against the
  // list): binding the list was most of the mask's cost on a query returning few rows.
  const zip3Of = (text: string) =>
    `CASE WHEN ${d.textContains(RESTRICTED_ZIP3_LOOKUP, `left(${text}, 3)`)} THEN '000' ELSE left(${text}, 3) END`;
  const threeDigits = (text: string) => `(${d.startsWithDigits(text, 3)})`;
  if (isInteger(type)) {
    const text = `lpad(${d.toText(columnSql)}, 5, '0')`;
    return `CASE WHEN ${columnSql} IS NULL THEN NULL WHEN NOT ${threeDigits(text)} THEN '000' ELSE ${zip3Of(text)} END`;
  }
  if (!isText(type)) throw unsupported('ZIP3', type);
  // The common case first: a value that starts with three digits needs no trimming. Then NULL,
  // then values with leading spaces. (Measured: about a third of the cost of trimming every
  // value, matching a regular expression and an IN list; it runs on every row a query reads.)
  const trimmed = `ltrim(${columnSql})`;
  return (
    `CASE WHEN ${threeDigits(columnSql)} THEN (${zip3Of(columnSql)}) ` +
    `WHEN ${columnSql} IS NULL THEN NULL ` +
    `WHEN NOT ${threeDigits(trimmed)} THEN '000' ELSE ${zip3Of(trimmed)} END`
  );
}

function asText(d: Dialect, columnSql: string, type: FieldType): string {
  return isText(type) ? columnSql : d.toText(columnSql);
}

function isText(type: FieldType): boolean {
  return type.kind === 'enum' || (type.kind === 'scalar' && type.sql === 'VARCHAR');
}

function isInteger(type: FieldType): boolean {
  return type.kind === 'scalar' && ['INTEGER', 'BIGINT', 'UINTEGER', 'UBIGINT'].includes(type.sql);
}

function isNumeric(type: FieldType): boolean {
  return (
    isInteger(type) ||
    type.kind === 'decimal' ||
    (type.kind === 'scalar' && ['FLOAT', 'DOUBLE'].includes(type.sql))
  );
}

function unsupported(mask: MaskKind, type: FieldType): QueryError {
  return new QueryError(
    `mask ${mask} cannot apply to a ${fieldTypeSql(type)} column; choose a mask that fits the type (HASH, REDACT and NULLIFY fit any)`,
  );
}
