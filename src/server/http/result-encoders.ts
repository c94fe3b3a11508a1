/**
 * A governed result as bytes, produced a chunk at a time so a large answer is written to the socket
 * as it is encoded rather than built whole: JSON `{columns, rows, truncated}`, CSV (RFC 4180, with a
 * header line), NDJSON (one object a line).
 */
import type { ColumnInfo } from '../../engines/engine.ts';

/** The answer formats `POST /api/v1/query` speaks besides Parquet. */
export type TextFormat = 'json' | 'csv' | 'ndjson';

export const CONTENT_TYPES: Record<TextFormat | 'parquet', string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
};

/** Rows per chunk: big enough to amortize a write, small enough to start answering at once. */
const ROWS_PER_CHUNK = 500;

export interface EncodableResult {
  columns: ColumnInfo[];
  rows: Record<string, unknown>[];
  truncated?: boolean;
}

export function* encodeResult(result: EncodableResult, format: TextFormat): Generator<string> {
  if (format === 'json') yield* encodeJson(result);
  else if (format === 'csv') yield* encodeCsv(result);
  else yield* encodeNdjson(result);
}

function* encodeJson({ columns, rows, truncated }: EncodableResult): Generator<string> {
  yield `{"columns":${JSON.stringify(columns)},"rows":[`;
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    const chunk = rows.slice(start, start + ROWS_PER_CHUNK).map((row) => JSON.stringify(row, jsonValue));
    yield (start > 0 ? ',' : '') + chunk.join(',');
  }
  yield `],"truncated":${truncated === true}}`;
}

function* encodeNdjson({ rows }: EncodableResult): Generator<string> {
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    yield rows
      .slice(start, start + ROWS_PER_CHUNK)
      .map((row) => `${JSON.stringify(row, jsonValue)}\n`)
      .join('');
  }
}

function* encodeCsv({ columns, rows }: EncodableResult): Generator<string> {
  yield `${columns.map((column) => csvField(column.name)).join(',')}\r\n`;
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    let chunk = '';
    for (const row of rows.slice(start, start + ROWS_PER_CHUNK)) {
      chunk += `${columns.map((column) => csvField(csvText(row[column.name]))).join(',')}\r\n`;
    }
    yield chunk;
  }
}

/** JSON for values the engine hands back that JSON has no spelling for. */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    // Buffer#toJSON ran first: `{type: 'Buffer', data: [...]}`.
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  return value;
}

function csvText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.stringify(value, jsonValue);
}

/** RFC 4180: a field with a comma, quote, CR or LF is quoted, its quotes doubled. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
