import { quoteLiteral, type ColumnInfo, type EngineSession } from '../engines/engine.ts';
import type { ConformOptions } from './conform-options.ts';
import {
  FILE_COLUMN,
  fileList,
  scanAlias,
  type FileSource,
  type PositionKind,
  type ScanOptions,
} from './file-source.ts';

/**
 * CSV files through DuckDB's `read_csv`. The dialect is given, not sniffed; the sniffer still reads
 * each file's header, so files whose columns come in another order are matched by name.
 */
export class CsvSource implements FileSource {
  readonly recordsMalformedRows = true;
  readonly multilineRecords = true;
  readonly castsWhileReading = true;
  readonly holdsNoRecords = false;
  readonly headerLines: number;

  private constructor(
    readonly files: string[],
    readonly columns: ColumnInfo[],
    private readonly options: ConformOptions,
  ) {
    this.headerLines = options.header ? 1 : 0;
  }

  /**
   * Reads the header of the first file. Other files are matched to it by column name (in any
   * order); one lacking a column fails the read with DuckDB's schema-mismatch message.
   */
  static async open(session: EngineSession, files: string[], options: ConformOptions): Promise<CsvSource> {
    const dialect = dialectArguments(options);
    const described = await session.query(
      // Malformed rows must not stop the sniffer from reading the header; the scans report them.
      `DESCRIBE SELECT * FROM read_csv(${fileList(files)}, ${dialect}, all_varchar = true, ignore_errors = true)`,
    );
    const columns = described.rows.map((row) => ({ name: String(row.column_name), type: 'VARCHAR' }));
    return new CsvSource(files, columns, options);
  }

  positionKind(): PositionKind {
    return 'line';
  }

  positionOffset(): number {
    return this.headerLines;
  }

  rawValue(_column: ColumnInfo, reference: string): string {
    return reference; // the reader already turned `null_values` into NULL
  }

  scan(options: ScanOptions): string {
    const types = this.columns
      .map(
        (column) =>
          `${quoteLiteral(column.name)}: ${quoteLiteral(options.readTypes?.get(column.name) ?? 'VARCHAR')}`,
      )
      .join(', ');
    const parts = [fileList(this.files), dialectArguments(this.options), `types = {${types}}`];
    if (options.readerFormats?.timestamp)
      parts.push(`timestampformat = ${quoteLiteral(options.readerFormats.timestamp)}`);
    if (options.readerFormats?.date) parts.push(`dateformat = ${quoteLiteral(options.readerFormats.date)}`);
    if (options.locate) parts.push(`filename = ${quoteLiteral(FILE_COLUMN)}`);
    if (options.rejects) {
      parts.push(
        'store_rejects = true',
        `rejects_table = ${quoteLiteral(options.rejects.errorsTable)}`,
        `rejects_scan = ${quoteLiteral(options.rejects.scansTable)}`,
      );
    }
    return `read_csv(${parts.join(', ')})${scanAlias(this.columns, options.locate ?? false)}`;
  }
}

/** The dialect, spelled out: left to the sniffer, `#` may become a comment and rows may be skipped. */
function dialectArguments(options: ConformOptions): string {
  return [
    "comment = ''",
    'skip = 0',
    `header = ${options.header}`,
    `delim = ${quoteLiteral(options.delimiter)}`,
    `quote = ${quoteLiteral(options.quote)}`,
    `escape = ${quoteLiteral(options.escape)}`,
    `nullstr = [${options.nullValues.map(quoteLiteral).join(', ')}]`,
  ].join(', ');
}
