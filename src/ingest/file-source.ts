import { quoteIdentifier, quoteLiteral, type ColumnInfo } from '../engines/engine.ts';

/**
 * What a bad row's position counts: a CSV's physical line (header counted), an NDJSON record
 * (1-based), a JSON array element (0-based index), a Parquet row (1-based).
 */
export type PositionKind = 'line' | 'record' | 'element' | 'row';

/** Column names added by a locating scan; prefixed so they cannot collide with source columns. */
export const FILE_COLUMN = '__tessera_file';
export const ORDINAL_COLUMN = '__tessera_ordinal';

export interface ScanOptions {
  /**
   * The engine type to read each source column as, where the reader can cast while reading (CSV);
   * other sources ignore it. Columns not listed are read as text.
   */
  readTypes?: Map<string, string>;
  /** strptime formats the CSV reader applies to TIMESTAMP and DATE columns. */
  readerFormats?: { timestamp?: string; date?: string };
  /**
   * Add `__tessera_file` (the absolute path) and `__tessera_ordinal` (1-based, counting the rows
   * produced across all files in order), so a row can be traced back to its file and position.
   */
  locate?: boolean;
  /** CSV only: record malformed rows in these temporary tables instead of failing. */
  rejects?: { errorsTable: string; scansTable: string };
}

/** Files of one format, and the SQL that reads them. Builds SQL only; the caller runs it. */
export interface FileSource {
  /** Absolute paths, sorted. */
  readonly files: string[];
  /** The source's columns in order, with the type each arrives as when no read type is asked for. */
  readonly columns: ColumnInfo[];
  /** Whether `readTypes` is honoured, i.e. the reader casts (and refuses bad values) while reading. */
  readonly castsWhileReading: boolean;
  /** Whether `scan({ rejects })` records malformed rows instead of failing (CSV). */
  readonly recordsMalformedRows: boolean;
  /** Whether one record may span several physical lines (a CSV value quoted across lines). */
  readonly multilineRecords: boolean;
  /** Lines before the first record in each file (a CSV header); 0 for other formats. */
  readonly headerLines: number;
  /**
   * True when the files hold no record with any value, known before columns are matched: JSON that
   * is `[]`, `{}`, objects without keys or nothing at all (the reader then finds no columns). A CSV
   * with only its header is found empty by counting rows instead.
   */
  readonly holdsNoRecords: boolean;
  /** What positions in this file count. */
  positionKind(file: string): PositionKind;
  /**
   * Added to a row's 1-based ordinal within its file to give its position: the header lines for
   * CSV, -1 for a JSON array (a 0-based element index), 0 otherwise.
   */
  positionOffset(file: string): number;
  /** SQL for a source value before conversion: null markers (`null_values`) become NULL. */
  rawValue(column: ColumnInfo, reference: string): string;
  /** A FROM-clause item reading every file. */
  scan(options: ScanOptions): string;
}

/** `AS alias(col, …)` naming every column positionally: robust to source columns named like ours. */
export function scanAlias(columns: ColumnInfo[], locate: boolean): string {
  const names = columns.map((column) => quoteIdentifier(column.name));
  if (locate) names.push(FILE_COLUMN, ORDINAL_COLUMN);
  return `${locate ? ' WITH ORDINALITY' : ''} AS __tessera_source(${names.join(', ')})`;
}

/** A DuckDB list literal of file paths, for the `read_*` functions. */
export function fileList(files: string[]): string {
  return `[${files.map(quoteLiteral).join(', ')}]`;
}
