import { open } from 'node:fs/promises';
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

/**
 * JSON (an array of objects, or objects one after another) and NDJSON through `read_json`. Every
 * column is read as text (nested values as JSON text), so conversion and checks are the same SQL
 * as for CSV.
 */
export class JsonSource implements FileSource {
  readonly recordsMalformedRows = false;
  readonly multilineRecords = false;
  readonly castsWhileReading = false;
  readonly headerLines = 0;

  private constructor(
    readonly files: string[],
    readonly columns: ColumnInfo[],
    private readonly format: string,
    private readonly arrays: Set<string>,
    private readonly options: ConformOptions,
    readonly holdsNoRecords: boolean,
  ) {}

  static async open(
    session: EngineSession,
    files: string[],
    type: 'json' | 'ndjson',
    options: ConformOptions,
  ): Promise<JsonSource> {
    // Whether a file is one array decides how positions are counted, so look at its first byte.
    const arrays = new Set<string>();
    if (type === 'json') {
      for (const file of files) if ((await firstCharacter(file)) === '[') arrays.add(file);
    }
    const format = type === 'ndjson' ? 'newline_delimited' : arrays.size === files.length ? 'array' : 'auto';
    const described = await session.query(
      `DESCRIBE SELECT * FROM read_json(${fileList(files)}, format = ${quoteLiteral(format)})`,
    );
    const columns = described.rows.map((row) => ({ name: String(row.column_name), type: 'VARCHAR' }));
    return new JsonSource(
      files,
      columns,
      format,
      arrays,
      options,
      await holdsNoRecords(session, files, format, described.rows),
    );
  }

  positionKind(file: string): PositionKind {
    return this.arrays.has(file) ? 'element' : 'record';
  }

  positionOffset(file: string): number {
    return this.arrays.has(file) ? -1 : 0;
  }

  rawValue(_column: ColumnInfo, reference: string): string {
    return nullMarkersToNull(reference, this.options.nullValues);
  }

  scan(options: ScanOptions): string {
    const columns = this.columns.map((column) => `${quoteLiteral(column.name)}: 'VARCHAR'`).join(', ');
    const parts = [fileList(this.files), `format = ${quoteLiteral(this.format)}`, `columns = {${columns}}`];
    if (options.locate) parts.push(`filename = ${quoteLiteral(FILE_COLUMN)}`);
    return `read_json(${parts.join(', ')})${scanAlias(this.columns, options.locate ?? false)}`;
  }
}

/**
 * Whether the files hold no record with a value. When no record has a key, the reader describes one
 * column `json` (typed JSON, or a MAP for empty objects); then count the records that are more than
 * `{}`, `[]` or `null`.
 */
async function holdsNoRecords(
  session: EngineSession,
  files: string[],
  format: string,
  described: Record<string, unknown>[],
): Promise<boolean> {
  const [only] = described;
  const type = String(only?.column_type ?? '');
  if (
    described.length !== 1 ||
    only?.column_name !== 'json' ||
    !(type === 'JSON' || type.startsWith('MAP('))
  ) {
    return false;
  }
  const result = await session.query(
    `SELECT count(*) FILTER (WHERE r.json IS NOT NULL AND r.json::VARCHAR NOT IN ('{}', '[]', 'null')) AS n ` +
      `FROM read_json(${fileList(files)}, format = ${quoteLiteral(format)}) AS r`,
  );
  return Number(result.rows[0]?.n ?? 0) === 0;
}

/** The first non-whitespace character of a file (after a byte-order mark), or '' when empty. */
async function firstCharacter(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return text.trimStart().charAt(0);
  } finally {
    await handle.close();
  }
}
