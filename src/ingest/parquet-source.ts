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
import { nullMarkersToNull } from './null-markers.ts';

/** Parquet files through `read_parquet`: columns arrive typed, and are converted from their own types. */
export class ParquetSource implements FileSource {
  readonly recordsMalformedRows = false;
  readonly multilineRecords = false;
  readonly castsWhileReading = false;
  readonly holdsNoRecords = false;
  readonly headerLines = 0;

  private constructor(
    readonly files: string[],
    readonly columns: ColumnInfo[],
    private readonly options: ConformOptions,
  ) {}

  static async open(
    session: EngineSession,
    files: string[],
    options: ConformOptions,
  ): Promise<ParquetSource> {
    const described = await session.query(`DESCRIBE SELECT * FROM ${readParquet(files)}`);
    const columns = described.rows.map((row) => ({
      name: String(row.column_name),
      type: String(row.column_type),
    }));
    return new ParquetSource(files, columns, options);
  }

  positionKind(): PositionKind {
    return 'row';
  }

  positionOffset(): number {
    return 0;
  }

  rawValue(column: ColumnInfo, reference: string): string {
    return column.type === 'VARCHAR' ? nullMarkersToNull(reference, this.options.nullValues) : reference;
  }

  scan(options: ScanOptions): string {
    const file = options.locate ? `, filename = ${quoteLiteral(FILE_COLUMN)}` : '';
    return `${readParquet(this.files, file)}${scanAlias(this.columns, options.locate ?? false)}`;
  }
}

/** Several files are matched by column name, a column missing from one being NULL there. */
function readParquet(files: string[], extra = ''): string {
  return `read_parquet(${fileList(files)}${files.length > 1 ? ', union_by_name = true' : ''}${extra})`;
}
