/**
 * The engine boundary. Nothing outside `engines/duckdb/` (and `sql/`, for DuckDB's parser)
 * imports DuckDB; everything else speaks to an `Engine`.
 */

import type { FieldType } from '../model/index.ts';
import type { Dialect } from './dialect.ts';

export interface ColumnInfo {
  name: string;
  /** The engine's type name, e.g. `VARCHAR`, `BIGINT`, `TIMESTAMP WITH TIME ZONE`. */
  type: string;
}

/**
 * Rows are JSON-compatible: integers beyond 2^53 and decimals arrive as strings, timestamps as
 * ISO-8601 strings, lists as arrays, structs as objects.
 */
export interface QueryResult {
  columns: ColumnInfo[];
  rows: Record<string, unknown>[];
  /** Set when `maxRows` cut the rows short: the query had more. */
  truncated?: boolean;
}

export interface ReadOptions {
  /**
   * Read at most this many rows and stop the statement there (the engine streams, so the rest is
   * never computed in full); `truncated` tells whether there were more.
   */
  maxRows?: number;
}

export interface SessionOptions {
  /**
   * Lock the session down for user SQL: only these directories are readable, no other external
   * access, and configuration cannot be changed afterwards. Default: unrestricted (platform work).
   */
  sandbox?: { allowedDirectories: string[] };
  /**
   * Take a connection an earlier session of the same kind left idle, and leave this one idle when
   * closed (unless it was interrupted), sparing the next caller the cost of connecting (about half
   * a millisecond with DuckDB, most of it in a connection's first statement). Only for statements
   * that leave nothing behind another caller could see: no temporary objects, no open transaction,
   * no variable other than ones every caller sets alike.
   */
  reuse?: boolean;
}

/** One connection. Statements run one at a time, in order. */
export interface EngineSession {
  /** Run statements whose results are not needed. */
  run(sql: string): Promise<void>;
  /** Run one query and read its rows: all of them, or at most `maxRows`. */
  query(sql: string, options?: ReadOptions): Promise<QueryResult>;
  /** The columns a query would return, from preparing it: nothing runs and nothing is read. */
  describe(sql: string): Promise<ColumnInfo[]>;
  /** Stop the statement running now, if any: it fails with an interruption error. */
  interrupt(): void;
  close(): void;
}

export interface Engine {
  /** e.g. `duckdb`. */
  readonly name: string;
  /** The SQL this engine speaks (`dialect.ts`). */
  readonly dialect: Dialect;
  /** Open a new session; the caller closes it. */
  openSession(options?: SessionOptions): Promise<EngineSession>;
  close(): Promise<void>;
  /**
   * A session on a database of its own: new, empty, in memory, without file or network access and
   * with its settings locked. What it creates dies with it (closing it drops the database). For
   * answering questions about shapes, never data: catalog introspection builds empty tables there.
   * Optional: an engine without it answers no introspection (clients see the error).
   */
  openScratchSession?(): Promise<EngineSession>;
  /**
   * Present on engines that do not read the stored Parquet files in place (`readsFiles` false):
   * they hold each table version as a table of their own, loaded from what DuckDB wrote.
   */
  readonly versionTables?: VersionTables;
}

/** A field of a version as loaded into an engine: its name and declared type. */
export interface VersionColumn {
  name: string;
  type: FieldType;
}

/**
 * Table versions held by an engine that cannot read the stored files (PostgreSQL): version N of
 * table T is a table of its own, loaded once from the version's files and never changed, so time
 * travel reads it as it was; the platform's catalog stays the record of which version is current.
 */
export interface VersionTables {
  /** The relation (a quoted table name) holding version `version` of `table`. */
  relation(table: string, version: number): string;
  /** Whether version `version` of `table` is loaded. */
  has(table: string, version: number): Promise<boolean>;
  /**
   * The DuckDB select list that turns a version's fields into the CSV `load` reads (what DuckDB
   * writes with `COPY (SELECT <list> FROM …) TO 'f.csv' (FORMAT csv, HEADER)`).
   */
  interchangeSelect(columns: VersionColumn[]): string;
  /**
   * Load version `version` of `table` from such a CSV file. Loading a version already loaded (by
   * another process meanwhile) keeps the one loaded first.
   */
  load(table: string, version: number, columns: VersionColumn[], csvFile: string): Promise<void>;
  /** Point the table's view (its plain name, for people browsing the database) at `version`. */
  publish(table: string, version: number): Promise<void>;
  /** Drop the loaded versions of `table` not in `versions` (retention removed them). */
  retain(table: string, versions: readonly number[]): Promise<void>;
  /**
   * Run `sql` in `session` (one of this engine's) and write its rows to `csvFile`; returns the
   * columns, each with the DuckDB type that reads it back, and the DuckDB relation reading the file
   * so (where rows go on to be written as Parquet, checked or exported).
   */
  exportCsv(
    session: EngineSession,
    sql: string,
    csvFile: string,
  ): Promise<{ columns: ColumnInfo[]; duckdbRelation: string }>;
}

/** Quote an identifier for the engine's SQL (double quotes, doubled inside). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quote a string literal (single quotes, doubled inside). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The engine's integer type names, as `DESCRIBE` spells them. */
export const INTEGER_TYPE_NAMES: ReadonlySet<string> = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
]);
