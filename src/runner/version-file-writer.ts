import { quoteIdentifier, quoteLiteral, type EngineSession } from '../engines/engine.ts';
import {
  HASH_KEY_VARIABLE,
  HASH_KEY_VARIABLE_SQL,
  digestHalvesSql,
  hashKeyFingerprint,
  maskExpression,
  setHashKeyVariableSql,
} from '../governance/index.ts';
import type { FieldDef, MaskKind } from '../model/index.ts';

/**
 * How a table version's Parquet file is written, so that governance costs little at read time and
 * raw values stay where they are allowed:
 *
 * - `store: deidentified`: every sensitive field is written masked (its mask, or REDACT when it has
 *   none), with the project's hash key for HASH. The version records it (`storedMasks`, see
 *   task-runner.ts for append and merge chains); readers see the stored value, not masked twice.
 * - Otherwise each HASH-masked field gets its precomputed keyed hash beside it (HMAC-SHA256, the
 *   same digest governance would compute), stored as the digest's two 128-bit halves, each a UUID
 *   (`<field>__hash_hi`, `<field>__hash_lo`; Parquet's 16-byte type). A governed read of the field
 *   rebuilds the 64-digit hex from them (`digestHexSql`) instead of hashing every row, and a join or
 *   distinct count on the masked field compares the halves themselves (`digest-comparisons.ts` in
 *   governance/). The key's fingerprint and the columns are recorded in the file's Parquet key-value
 *   metadata (`tessera.hash_key_fingerprint`, `tessera.hash_digest_columns`): after a key rotation
 *   the fingerprints differ and readers compute the hash again rather than trust one made with the
 *   old key.
 * - Files written before the halves were the only form also hold the hex itself, `<field>__hash`,
 *   listed in `tessera.hash_columns`; readers still use it there (`readPrecomputedHashColumns`).
 *   Not writing it halves what a hashed file costs to write and read: 64 random characters per row,
 *   uncompressible, against 32 bytes of halves.
 *
 * Platform-internal reads (projections, validations) select the table's fields by name
 * (`tableRelation`), so they never see the hash columns.
 */

/** Suffix of the hex hash column files written before the halves alone were stored: `ssn` → `ssn__hash`. */
export const HASH_COLUMN_SUFFIX = '__hash';
/** Suffixes of the precomputed digest's halves: `ssn` → `ssn__hash_hi`, `ssn__hash_lo`. */
const DIGEST_HALF_SUFFIXES = ['__hash_hi', '__hash_lo'] as const;

/** Parquet key-value metadata keys written beside precomputed hashes. */
export const HASH_KEY_FINGERPRINT_METADATA = 'tessera.hash_key_fingerprint';
export const HASH_COLUMNS_METADATA = 'tessera.hash_columns';
export const HASH_DIGEST_COLUMNS_METADATA = 'tessera.hash_digest_columns';

/** Parquet compression of written versions, as ingestion writes them (see bench/ingest.bench.ts). */
const COMPRESSION = 'zstd';
/** How many leading rows are sampled to tell whether a hashed field's values repeat. */
const REPEAT_SAMPLE_ROWS = 100_000;
/** Fewer sampled rows than this: hash per row (a small file costs little either way). */
const REPEAT_SAMPLE_MINIMUM = 10_000;
/** A field is hashed per distinct value when its sample has at most one distinct value per this many rows. */
const REPEATS_PER_VALUE = 4;
/**
 * The rows to write are read again for the distinct values (only the hashed columns), not buffered:
 * a materialized copy of every row would cost memory in proportion to the file.
 */
const SOURCE_MATERIALIZATION = 'NOT MATERIALIZED';

export interface VersionFileOptions {
  /** The table is declared `store: deidentified`. */
  deidentified: boolean;
  /** The project's hash key (never logged; it reaches SQL through a session variable). */
  hashKey: string;
}

/** Writes one table's version files; see the module comment. */
export class VersionFileWriter {
  /** Field name → the columns holding its precomputed digest's halves (high, low), for HASH-masked fields of a table stored raw. */
  readonly digestColumns: Readonly<Record<string, readonly [string, string]>>;
  private readonly maskedFields: ReadonlyMap<string, MaskKind>;

  constructor(
    private readonly fields: FieldDef[],
    private readonly options: VersionFileOptions,
  ) {
    const names = new Set(fields.map((field) => field.name.toLowerCase()));
    const digestColumns: Record<string, readonly [string, string]> = {};
    const maskedFields = new Map<string, MaskKind>();
    for (const field of fields) {
      if (!field.sensitivity) continue;
      if (options.deidentified) maskedFields.set(field.name, field.mask ?? 'REDACT');
      else if (field.mask === 'HASH') {
        const halves = DIGEST_HALF_SUFFIXES.map((suffix) => `${field.name}${suffix}`) as [string, string];
        // A field already named like one of the added columns keeps its name; that one field is hashed at read time.
        if (halves.some((name) => names.has(name.toLowerCase()))) continue;
        digestColumns[field.name] = halves;
      }
    }
    this.digestColumns = digestColumns;
    this.maskedFields = maskedFields;
  }

  /**
   * What a file this writer writes from raw rows stores masked: field name → its mask (`{}` for a
   * table stored raw). The version's record (`Version.storedMasks`) when every file of the version
   * is written this way.
   */
  get storedMasks(): Record<string, MaskKind> {
    return Object.fromEntries(this.maskedFields);
  }

  /** True when a file differs from the plain conformed rows: masked values or extra columns. */
  get transformsRows(): boolean {
    return this.maskedFields.size > 0 || Object.keys(this.digestColumns).length > 0;
  }

  /**
   * A SELECT over `relation` (raw rows with every field) giving the values as stored: masked for a
   * de-identified table, unchanged otherwise. Fields in `asIs` are taken unchanged (rows that
   * already hold them masked). Only valid inside `write`, which provides the key.
   */
  storedValues(relation: string, asIs: ReadonlySet<string> = new Set()): string {
    const columns = this.fields.map((field) => {
      const column = quoteIdentifier(field.name);
      const mask = asIs.has(field.name) ? undefined : this.maskedFields.get(field.name);
      return mask ? `${this.mask(mask, field)} AS ${column}` : column;
    });
    return `SELECT ${columns.join(', ')} FROM ${relation}`;
  }

  /**
   * Write `rows` (a query giving every field's stored value, e.g. `storedValues(...)`) to `file`,
   * adding the precomputed digests' halves and their metadata. Returns the rows written.
   */
  async write(session: EngineSession, rows: string, file: string): Promise<number> {
    const hashed = Object.entries(this.digestColumns);
    const fieldOf = (name: string) => this.fields.find((field) => field.name === name)!;
    const metadata =
      hashed.length > 0
        ? `, KV_METADATA {${quoteLiteral(HASH_KEY_FINGERPRINT_METADATA)}: ${quoteLiteral(hashKeyFingerprint(this.options.hashKey))}, ` +
          `${quoteLiteral(HASH_DIGEST_COLUMNS_METADATA)}: ${quoteLiteral(JSON.stringify(this.digestColumns))}}`
        : '';
    const needsKey = hashed.length > 0 || [...this.maskedFields.values()].includes('HASH');
    if (needsKey) await session.run(setHashKeyVariableSql(this.options.hashKey));
    try {
      const repeated = await this.repeatedValueFields(session, rows);
      // Each keyed hash is computed once, as hex (the one form both halves derive from); only its
      // halves are written. A field whose values repeat is hashed, and split into its halves, once
      // per distinct value, and the halves are joined back (splitting after the join costs a cast
      // per row: 4x a plain write at 5M rows, against 1.3x); any other field, once per row.
      const digests = repeated.map((name, index) => {
        const [high, low] = digestHalvesSql('digest');
        return (
          `${quoteIdentifier(`tessera_digests_${index}`)} AS (SELECT value, ${high} AS high, ${low} AS low FROM ` +
          `(SELECT value, ${this.mask('HASH', fieldOf(name), 'value')} AS digest ` +
          `FROM (SELECT DISTINCT ${quoteIdentifier(name)} AS value FROM tessera_rows) AS distinct_values) AS hashed_values)`
        );
      });
      const withHashes = [
        'tessera_rows.*',
        ...hashed.flatMap(([name, [high, low]]) => {
          const index = repeated.indexOf(name);
          if (index < 0) return [`${this.mask('HASH', fieldOf(name))} AS ${quoteIdentifier(high)}`];
          const digests = quoteIdentifier(`tessera_digests_${index}`);
          return [`${digests}.high AS ${quoteIdentifier(high)}`, `${digests}.low AS ${quoteIdentifier(low)}`];
        }),
      ];
      const joins = repeated.map((name, index) => {
        const digests = quoteIdentifier(`tessera_digests_${index}`);
        return ` LEFT JOIN ${digests} ON ${digests}.value = tessera_rows.${quoteIdentifier(name)}`;
      });
      const columns = [
        ...this.fields.map((field) => quoteIdentifier(field.name)),
        ...hashed.flatMap(([name, [high, low]]) => {
          if (repeated.includes(name)) return [quoteIdentifier(high), quoteIdentifier(low)];
          const halves = digestHalvesSql(quoteIdentifier(high));
          return [`${halves[0]} AS ${quoteIdentifier(high)}`, `${halves[1]} AS ${quoteIdentifier(low)}`];
        }),
      ];
      const result = await session.query(
        `COPY (WITH tessera_rows AS ${SOURCE_MATERIALIZATION} (${rows})${digests.map((cte) => `, ${cte}`).join('')} ` +
          `SELECT ${columns.join(', ')} FROM (SELECT ${withHashes.join(', ')} FROM tessera_rows${joins.join('')})) TO ${quoteLiteral(file)} ` +
          `(FORMAT parquet, COMPRESSION ${COMPRESSION}${metadata})`,
      );
      return Number(result.rows[0]?.Count ?? 0);
    } finally {
      // The session goes on to run validations, whose SQL comes from the repo: it must not read the key.
      if (needsKey) await session.run(`RESET VARIABLE ${HASH_KEY_VARIABLE}`);
    }
  }

  /**
   * The hashed text fields whose values repeat: in the first `REPEAT_SAMPLE_ROWS` rows, at most one
   * distinct value per `REPEATS_PER_VALUE` rows. Hashing each distinct value once and joining the
   * digests back then costs less than two SHA-256 passes per row (bench/keyed-hash.bench.ts). Only
   * text: its equality is equality of the hashed text (a DOUBLE's 0.0 = -0.0 is not).
   */
  private async repeatedValueFields(session: EngineSession, rows: string): Promise<string[]> {
    const candidates = Object.keys(this.digestColumns).filter((name) =>
      isText(this.fields.find((field) => field.name === name)!),
    );
    if (candidates.length === 0) return [];
    const counts = candidates.map((name, index) => `count(DISTINCT ${quoteIdentifier(name)}) AS d${index}`);
    const sample = await session.query(
      `SELECT count(*) AS sampled, ${counts.join(', ')} FROM (SELECT ${candidates.map(quoteIdentifier).join(', ')} FROM (${rows}) LIMIT ${REPEAT_SAMPLE_ROWS})`,
    );
    const row = sample.rows[0] ?? {};
    const sampled = Number(row.sampled ?? 0);
    if (sampled < REPEAT_SAMPLE_MINIMUM) return [];
    return candidates.filter(
      (_, index) => Number(row[`d${index}`] ?? sampled) * REPEATS_PER_VALUE <= sampled,
    );
  }

  /** Every column a file holds besides the table's fields. */
  get addedColumns(): string[] {
    return Object.values(this.digestColumns).flat();
  }

  private mask(mask: MaskKind, field: FieldDef, column = field.name): string {
    return maskExpression(mask, quoteIdentifier(column), field.type, {
      hashKeySql: HASH_KEY_VARIABLE_SQL,
    });
  }
}

/** Precomputed hashes every file of a version holds, made with the current key. */
export interface PrecomputedHashes {
  /** Field name → its hex hash column (`ssn` → `ssn__hash`), which only files written before the halves alone were stored hold. */
  hashColumns: Record<string, string>;
  /** Field name → its digest's halves (`ssn` → [`ssn__hash_hi`, `ssn__hash_lo`]). */
  digestColumns: Record<string, readonly [string, string]>;
}

/**
 * The precomputed hash columns every one of `paths` holds, written with the key of fingerprint
 * `keyFingerprint`. A field is listed only when all files agree, so an append chain that crosses a
 * key rotation (or predates precomputed hashes, or digest halves) falls back to what every file
 * has: hashing at read time at worst. A chain whose older files hold the hex and the halves and
 * newer ones the halves alone lists the halves only. Reads only the files' footers.
 */
export async function readPrecomputedHashColumns(
  session: EngineSession,
  paths: string[],
  keyFingerprint: string,
): Promise<PrecomputedHashes> {
  const none: PrecomputedHashes = { hashColumns: {}, digestColumns: {} };
  if (paths.length === 0) return none;
  const keys = [HASH_KEY_FINGERPRINT_METADATA, HASH_COLUMNS_METADATA, HASH_DIGEST_COLUMNS_METADATA];
  const result = await session.query(
    `SELECT file_name, decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata([${paths.map(quoteLiteral).join(', ')}]) ` +
      `WHERE decode(key) IN (${keys.map(quoteLiteral).join(', ')})`,
  );
  const perFile = new Map<string, Map<string, string>>();
  for (const row of result.rows) {
    const name = String(row.file_name);
    if (!perFile.has(name)) perFile.set(name, new Map());
    perFile.get(name)!.set(String(row.key), String(row.value));
  }
  let hashColumns: Record<string, string> | undefined;
  let digestColumns: Record<string, readonly [string, string]> | undefined;
  for (const path of paths) {
    const entry = perFile.get(path);
    if (!entry || entry.get(HASH_KEY_FINGERPRINT_METADATA) !== keyFingerprint) return none;
    const fileHashes = parseColumnMap(entry.get(HASH_COLUMNS_METADATA), isString);
    const fileDigests = parseColumnMap(entry.get(HASH_DIGEST_COLUMNS_METADATA), isColumnPair);
    hashColumns = hashColumns ? agreeing(hashColumns, fileHashes) : fileHashes;
    digestColumns = digestColumns ? agreeing(digestColumns, fileDigests) : fileDigests;
  }
  return { hashColumns: hashColumns ?? {}, digestColumns: digestColumns ?? {} };
}

/** The entries of `common` that `file` holds with the same columns. */
function agreeing<T>(common: Record<string, T>, file: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.entries(common).filter(
      ([field, columns]) => JSON.stringify(file[field]) === JSON.stringify(columns),
    ),
  );
}

/** A JSON object of field → columns from file metadata; anything unreadable counts as nothing precomputed. */
function parseColumnMap<T>(
  text: string | undefined,
  valid: (value: unknown) => value is T,
): Record<string, T> {
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, T] => valid(entry[1])),
    );
  } catch {
    return {};
  }
}

function isText(field: FieldDef): boolean {
  return field.type.kind === 'enum' || (field.type.kind === 'scalar' && field.type.sql === 'VARCHAR');
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isColumnPair(value: unknown): value is readonly [string, string] {
  return Array.isArray(value) && value.length === 2 && value.every(isString);
}
