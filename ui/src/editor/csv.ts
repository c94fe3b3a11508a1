/** RFC 4180 CSV of a result: a header, CRLF line ends, fields quoted when they need it. */
import type { QueryResult } from '../api/types.ts';

function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCsv(result: QueryResult): string {
  const names = result.columns.map((column) => column.name);
  const lines = [names.map(field).join(',')];
  for (const row of result.rows) lines.push(names.map((name) => field(row[name])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Hand a blob to the browser as a download named `fileName`. */
export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has started by now; the URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
