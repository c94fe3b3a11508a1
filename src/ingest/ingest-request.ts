import type { EngineSession } from '../engines/engine.ts';
import type { FieldDef, TaskDef } from '../model/index.ts';
import type { KeyedHashSql } from './quarantine-rows.ts';

/** One ingestion run's input: where the source is, the schema to conform to, and where to write. */
export interface IngestRequest {
  /** The engine session every statement runs in; its TimeZone is set to UTC for the run and restored. */
  session: EngineSession;
  /** An ingestion task; `task.source` says the format (`csv`, `json`, `ndjson`, `parquet`), uri and options. */
  task: TaskDef;
  /** The target table's schema, in column order. */
  fields: FieldDef[];
  /** Absolute path of the catalog repo: relative uris and globs resolve against it. */
  repoRoot: string;
  /**
   * How messages, bad rows and the quarantine name source files (absolute path → label), e.g. the
   * object a staged file came from (`s3://bucket/key`). Default: relative to the repo when inside it.
   */
  fileLabels?: Readonly<Record<string, string>>;
  /** Absolute path of the Parquet file to write (the staged version); absent when the run fails. */
  outputFile: string;
  /**
   * Writes the conformed rows (a SELECT) to a file and returns the rows written. Default: the rows
   * as they are, as Parquet. The runner passes its own to add columns or mask values in the same
   * pass, so a value that must not land raw never does.
   */
  writeRows?: (conformedSelect: string, file: string) => Promise<number>;
  /**
   * Whether a text source in another encoding than UTF-8 may be read through a UTF-8 copy beside
   * `outputFile` (default true). False for a table stored de-identified, whose raw values never land
   * on disk: such a source then fails the run, saying to convert the file to UTF-8 first.
   */
  rawCopies?: boolean;
  /** Keep bad rows' source records in a quarantine file (default true); false counts them only. */
  keepBadRows?: boolean;
  /** How the quarantine keeps sensitive source values: as keyed hashes. Absent: not at all (NULL). */
  sensitiveValueHashing?: SensitiveValueHashing;
  /** Files staged from a stream: where each record came from, instead of its place in the file. */
  positions?: RecordPositions;
}

/**
 * Records staged from a stream carry their position in a column (a stream sequence, an offset):
 * a bad row is named `label:position` (`ORDERS:1042`) rather than by its file and record number,
 * and the column feeds no field.
 */
export interface RecordPositions {
  /** The source column holding each record's position (an integer). */
  column: string;
  /** What names each staged file (absolute path) in bad rows: the stream, or a topic's partition. */
  fileLabels: Record<string, string>;
}

/** The keyed hash the quarantine stores sensitive values as (the runner's HASH with the project key). */
export interface SensitiveValueHashing {
  /** SQL for the keyed hash (HMAC-SHA256 hex, as the HASH mask computes it) of a VARCHAR expression. */
  sql: KeyedHashSql;
  /**
   * Runs `write` (the statement using `sql`) with what the session needs for it, e.g. the key set in
   * a session variable just for that statement, then cleared.
   */
  around<T>(write: () => Promise<T>): Promise<T>;
}

/** A source row that could not be conformed. */
export interface BadRow {
  /** The source file, relative to the repo when inside it (as in messages), else absolute. */
  file: string;
  /**
   * Where the row is in its file: CSV the physical line (header counted), NDJSON the 1-based record
   * number, a JSON array the 0-based element index, Parquet the 1-based row number; for records
   * staged from a stream, their position in it (`RecordPositions`).
   */
  line?: number;
  /** The source column holding the offending value (absent for a malformed CSV row without one). */
  column?: string;
  /** The raw value as read (absent when the value is missing). */
  value?: string;
  /** Why the row was refused, e.g. `value "13/45/2020" is not a date (expected formats: %m/%d/%Y)`. */
  reason: string;
}

/** What an ingestion run did. */
export interface IngestResult {
  /** Good rows written to `outputFile`. */
  rowCount: number;
  /** Rows refused (and quarantined). */
  badRowCount: number;
  /** The first 1000 bad rows in file and line order (the quarantine sample). */
  badRows: BadRow[];
  /** Parquet file next to `outputFile` with every bad row and its reason; set when there are bad rows. */
  quarantineFile?: string;
  /** The files read, absolute, sorted. */
  sourceFiles: string[];
  /** Source columns that match no field: ignored, and named in `log`. */
  unmatchedSourceColumns: string[];
  /** Human-readable lines for the run log. */
  log: string[];
}
