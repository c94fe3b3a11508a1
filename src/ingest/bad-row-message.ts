import type { BadRow } from './ingest-request.ts';
import type { PositionKind } from './file-source.ts';

/**
 * One line naming a bad row: `data/patients.csv:17: column birth_date: value "x" is not a …`.
 * Positions other than CSV lines say what they count: `record 5`, `element [4]`, `row 5`.
 */
export function describeBadRow(
  row: BadRow,
  kind: PositionKind,
  fieldOfColumn?: (column: string) => string | undefined,
): string {
  let where = row.file;
  if (row.line !== undefined) {
    if (kind === 'line') where += `:${row.line}`;
    else if (kind === 'element') where += `: element [${row.line}]`;
    else where += `: ${kind} ${row.line}`;
  }
  const field = row.column ? fieldOfColumn?.(row.column) : undefined;
  const column = row.column
    ? `column ${row.column}${field && field !== row.column ? ` (field ${field})` : ''}: `
    : '';
  return `${where}: ${column}${row.reason}`;
}
