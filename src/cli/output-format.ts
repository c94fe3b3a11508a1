import type { QueryResult } from '../engines/engine.ts';

export type OutputFormat = 'table' | 'csv' | 'json';

/** Render query rows as an aligned text table, CSV (RFC 4180) or JSON (an array of objects). */
export function formatRows(result: QueryResult, format: OutputFormat): string {
  if (format === 'json') return JSON.stringify(result.rows, null, 2);
  const names = result.columns.map((column) => column.name);
  const cells = result.rows.map((row) => names.map((name) => cellText(row[name])));
  if (format === 'csv') {
    return [names, ...cells].map((line) => line.map(csvField).join(',')).join('\n');
  }
  return textTable(
    names,
    cells,
    result.columns.map((column) => isNumericType(column.type)),
  );
}

/** An aligned table with a header rule; numeric columns right-aligned. */
export function textTable(header: string[], rows: string[][], rightAligned: boolean[] = []): string {
  const widths = header.map((name, index) => Math.max(name.length, ...rows.map((row) => row[index]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, index) =>
        rightAligned[index] ? cell.padStart(widths[index]!) : cell.padEnd(widths[index]!),
      )
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function isNumericType(type: string): boolean {
  return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(
    type,
  );
}
