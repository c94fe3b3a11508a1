import { quoteLiteral } from '../engines/engine.ts';
import type { FieldDef, FieldType } from '../model/index.ts';
import type { ColumnMatch } from './column-matcher.ts';

/**
 * SQL giving the keyed hash (HMAC-SHA256, lowercase hex) of a VARCHAR expression with the project's
 * hash key, the same value a HASH mask shows for that text. NULL in, NULL out.
 */
export type KeyedHashSql = (textSql: string) => string;

/**
 * The rows a quarantine file keeps for a located bad-row table (file, line, column, value, reason,
 * source_record), with no raw sensitive value:
 *
 * - a source column feeding a sensitive field (PII, PHI, CONFIDENTIAL, or a STRUCT/LIST holding
 *   one) is kept as its keyed hash, in `value` and in `source_record`, so an owner finds the row by
 *   hashing the identifier; without `hash`, such values are not kept (NULL);
 * - other fields stay readable, as does `reason` (which never quotes a sensitive value);
 * - source columns that feed no field are left out: nothing says whether they are sensitive;
 * - a malformed CSV row cannot be split into fields: its line is kept as its keyed hash when the
 *   table has a sensitive field fed from the source, as read otherwise.
 */
export function quarantineRowsSelect(
  badTable: string,
  sourceColumns: string[],
  matches: ColumnMatch[],
  hash: KeyedHashSql | undefined,
): string {
  const sensitiveColumns = new Set<string>();
  const fieldColumns = new Set<string>();
  for (const match of matches) {
    if (match.sourceColumn === undefined) continue;
    fieldColumns.add(match.sourceColumn);
    if (isSensitive(match.field)) sensitiveColumns.add(match.sourceColumn);
  }
  const hidden = (textSql: string): string => (hash ? hash(textSql) : 'CAST(NULL AS VARCHAR)');

  const value =
    sensitiveColumns.size === 0
      ? 'value'
      : `CASE WHEN "column" IN (${[...sensitiveColumns].map(quoteLiteral).join(', ')}) THEN ${hidden('value')} ELSE value END`;
  const kept = sourceColumns.filter((column) => fieldColumns.has(column));
  const entries = kept.map((column) => {
    const path = quoteLiteral(`$.${JSON.stringify(column)}`);
    const entry = sensitiveColumns.has(column)
      ? hidden(`json_extract_string(source_record, ${path})`)
      : `json_extract(source_record, ${path})`;
    return `${quoteLiteral(column)}, ${entry}`;
  });
  const record = entries.length === 0 ? `'{}'` : `CAST(json_object(${entries.join(', ')}) AS VARCHAR)`;
  // Rows refused by a check name their column and hold the record as JSON; malformed CSV rows
  // have no column and hold the raw line.
  const malformed = sensitiveColumns.size === 0 ? 'source_record' : hidden('source_record');
  return (
    `SELECT file, line, "column", ${value} AS value, reason, ` +
    `CASE WHEN "column" IS NULL THEN ${malformed} ELSE ${record} END AS source_record FROM ${badTable}`
  );
}

function isSensitive(field: FieldDef): boolean {
  return field.sensitivity !== undefined || holdsSensitive(field.type);
}

function holdsSensitive(type: FieldType): boolean {
  if (type.kind === 'list') return holdsSensitive(type.element);
  return type.kind === 'struct' && type.fields.some(isSensitive);
}
