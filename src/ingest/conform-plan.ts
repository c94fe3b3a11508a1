import { quoteIdentifier, quoteLiteral, type ColumnInfo } from '../engines/engine.ts';
import type { FieldDef } from '../model/index.ts';
import type { ColumnMatch } from './column-matcher.ts';
import { FILE_COLUMN, ORDINAL_COLUMN, type FileSource } from './file-source.ts';
import { sqlTypeOf } from './sql-type.ts';
import { formatsFor, valueConversion, type DateFormats, type ValueConversion } from './value-conversion.ts';

/** One field of the target table, where its value comes from and how it is converted. */
export interface PlannedField {
  field: FieldDef;
  /** The source column feeding it; absent for an optional field the source lacks (NULL). */
  column?: ColumnInfo;
  /** The engine type the column is read as in this plan. */
  inputType: string;
  conversion: ValueConversion;
  /**
   * A condition under which the fast path must refuse a value the checks would accept, because
   * the typed read may have lost it (an integer beyond 2^53 read as a double); the slow path,
   * reading text, then converts it exactly.
   */
  fastPathGuard?: (input: string) => string;
}

/** How to read the source and conform every field: pure SQL building, no engine access. */
export interface ConformPlan {
  source: FileSource;
  fields: PlannedField[];
  /** Types the reader casts columns to while reading (CSV), refusing the file on a bad value. */
  readTypes: Map<string, string>;
  readerFormats: { timestamp?: string; date?: string };
  /** A source column holding each record's position in a stream (`RecordPositions`), kept by the slow path. */
  positionColumn?: string;
}

/** Column names in a locating scan's result; the `__tessera_` prefix keeps them apart from source columns. */
export const CHECK_COLUMN = '__tessera_check';
export const BAD_COLUMN = '__tessera_column';
export const BAD_VALUE = '__tessera_value';
export const BAD_REASON = '__tessera_reason';
export const BAD_RECORD = '__tessera_record';
export const NEWLINES_COLUMN = '__tessera_newlines';
export const POSITION_COLUMN = '__tessera_position';

/**
 * Plans the conversion of every field. With `castWhileReading`, columns whose conversion the CSV
 * reader performs exactly as the SQL would (floats, booleans, decimals, ISO or single-format
 * timestamps and dates, integers via doubles) are read typed: parsing once, in the reader, is the
 * fastest plan. Other columns are read as text and converted in SQL.
 */
export function planConform(
  source: FileSource,
  matches: ColumnMatch[],
  formats: DateFormats,
  castWhileReading: boolean,
): ConformPlan {
  const readTypes = new Map<string, string>();
  const readerFormats: { timestamp?: string; date?: string } = {};
  const fields = matches.map(({ field, sourceColumn }): PlannedField => {
    const column = source.columns.find((candidate) => candidate.name === sourceColumn);
    // A field without a column gets a typed NULL: its "input" already has the field's type.
    let inputType = column?.type ?? sqlTypeOf(field.type);
    let fastPathGuard: ((input: string) => string) | undefined;
    if (column && castWhileReading) {
      const typed = typedRead(field, formats);
      if (typed) {
        inputType = typed.type;
        readTypes.set(column.name, typed.type);
        if (typed.timestampFormat) readerFormats.timestamp = typed.timestampFormat;
        if (typed.dateFormat) readerFormats.date = typed.dateFormat;
        const limit = typed.exactBelow;
        if (limit) fastPathGuard = (input) => `abs(${input}) >= ${limit}`;
      }
    }
    return {
      field,
      column,
      inputType,
      conversion: valueConversion(field, inputType, formats),
      fastPathGuard,
    };
  });
  return { source, fields, readTypes, readerFormats };
}

/** The type the CSV reader can produce for a field with no loss of checking, if any. */
function typedRead(
  field: FieldDef,
  formats: DateFormats,
): { type: string; timestampFormat?: string; dateFormat?: string; exactBelow?: string } | undefined {
  if (field.type.kind === 'decimal') return { type: sqlTypeOf(field.type) };
  if (field.type.kind !== 'scalar') return undefined;
  const fieldFormats = formatsFor(field.type, formats);
  switch (field.type.sql) {
    case 'DOUBLE':
    case 'FLOAT':
    case 'BOOLEAN':
      return { type: field.type.sql };
    // Integers are read as doubles: the reader would round `1.5` into an integer column, while a
    // double keeps the fraction for the check to see. Every integer up to 2^53 is exact in a double.
    case 'INTEGER':
    case 'UINTEGER':
      return { type: 'DOUBLE' };
    case 'BIGINT':
    case 'UBIGINT':
      return { type: 'DOUBLE', exactBelow: String(2 ** 53) };
    case 'TIMESTAMPTZ':
      if (fieldFormats.length === 0) return { type: 'TIMESTAMP WITH TIME ZONE' };
      if (fieldFormats.length > 1) return undefined;
      // The reader's one `timestampformat` parses into TIMESTAMP unless the format carries a zone.
      return {
        type: /%[zZ]/.test(fieldFormats[0]!) ? 'TIMESTAMP WITH TIME ZONE' : 'TIMESTAMP',
        timestampFormat: fieldFormats[0],
      };
    case 'DATE':
      if (fieldFormats.length === 0) return { type: 'DATE' };
      return fieldFormats.length === 1 ? { type: 'DATE', dateFormat: fieldFormats[0] } : undefined;
    default:
      return undefined;
  }
}

/**
 * The fast path: one SELECT producing the conformed columns, in schema order and types, that
 * raises an error at the first value that cannot be conformed. No bad rows (the common case) means
 * the source is read and written once. The checks form one filter rather than a CASE per column,
 * and conversions are strict (they raise rather than give NULL): both measured cheaper.
 */
export function conformedSelect(plan: ConformPlan): string {
  const inputs: string[] = [];
  const conditions: string[] = [];
  const outputs = plan.fields.map((planned, index) => {
    const type = sqlTypeOf(planned.field.type);
    const name = quoteIdentifier(planned.field.name);
    if (!planned.column) return `CAST(NULL AS ${type}) AS ${name}`;
    const input = inputName(index);
    inputs.push(`${rawValue(plan, planned)} AS ${input}`);
    const value = planned.conversion.value(input, 'strict');
    conditions.push(...planned.conversion.checks(input, value, 'strict').map((check) => check.condition));
    if (planned.fastPathGuard) conditions.push(planned.fastPathGuard(input));
    return `CAST(${value} AS ${type}) AS ${name}`;
  });
  const scan = plan.source.scan({ readTypes: plan.readTypes, readerFormats: plan.readerFormats });
  const filter =
    conditions.length === 0
      ? ''
      : ` WHERE CASE WHEN ${conditions.join(' OR ')} THEN error('tessera: a value cannot be conformed') ELSE true END`;
  return `SELECT ${outputs.join(', ')} FROM (SELECT ${inputs.join(', ') || '1 AS __tessera_none'} FROM ${scan})${filter}`;
}

/**
 * The slow path's scan: every row with its file, ordinal and converted values, and for a bad row
 * the source column, raw value and reason of its first failing check, plus the whole source
 * record as JSON. `__tessera_check` is NULL exactly for good rows.
 */
export function locatingSelect(
  plan: ConformPlan,
  rejects?: { errorsTable: string; scansTable: string },
): string {
  const columns = plan.source.columns;
  const converted = plan.fields.flatMap((planned, index) =>
    planned.column
      ? [
          `${rawValue(plan, planned)} AS ${inputName(index)}`,
          `${planned.conversion.value(rawValue(plan, planned), 'lenient')} AS ${valueName(index)}`,
        ]
      : [],
  );

  const checks: { index: number; condition: string; reason: string }[] = [];
  plan.fields.forEach((planned, index) => {
    if (!planned.column) return;
    for (const check of planned.conversion.checks(inputName(index), valueName(index), 'lenient')) {
      checks.push({ index, ...check });
    }
  });
  const firstFailure =
    checks.length === 0
      ? 'CAST(NULL AS INTEGER)'
      : `CASE ${checks.map((check, position) => `WHEN ${check.condition} THEN ${position}`).join(' ')} END`;
  // Reasons, raw values and records are built for bad rows only: CASE evaluates a branch for its rows.
  const byCheck = (pick: (check: (typeof checks)[number]) => string): string =>
    checks.length === 0
      ? 'CAST(NULL AS VARCHAR)'
      : `CASE ${CHECK_COLUMN} ${checks.map((check, position) => `WHEN ${position} THEN ${pick(check)}`).join(' ')} END`;
  const record = `json_object(${columns
    .map((column) => `${quoteLiteral(column.name)}, ${quoteIdentifier(column.name)}`)
    .join(', ')})`;

  const located = [
    FILE_COLUMN,
    ORDINAL_COLUMN,
    ...plan.fields.flatMap((planned, index) => (planned.column ? [valueName(index)] : [])),
    CHECK_COLUMN,
    `${byCheck((check) => quoteLiteral(plan.fields[check.index]!.column!.name))} AS ${BAD_COLUMN}`,
    `${byCheck((check) => `CAST(${inputName(check.index)} AS VARCHAR)`)} AS ${BAD_VALUE}`,
    `${byCheck((check) => check.reason)} AS ${BAD_REASON}`,
    `CASE WHEN ${CHECK_COLUMN} IS NOT NULL THEN CAST(${record} AS VARCHAR) END AS ${BAD_RECORD}`,
  ];
  if (plan.positionColumn !== undefined) {
    located.push(`TRY_CAST(${quoteIdentifier(plan.positionColumn)} AS BIGINT) AS ${POSITION_COLUMN}`);
  }
  if (plan.source.multilineRecords) {
    // A quoted value spanning lines shifts the physical line of every later row of its file.
    const newlines = columns
      .filter((column) => column.type === 'VARCHAR')
      .map((column) => {
        const name = quoteIdentifier(column.name);
        return `coalesce(length(${name}) - length(replace(${name}, chr(10), '')), 0)`;
      });
    located.push(`${newlines.join(' + ') || '0'} AS ${NEWLINES_COLUMN}`);
  }
  const scan = plan.source.scan({ locate: true, rejects });
  return (
    `SELECT ${located.join(', ')} FROM (` +
    `SELECT *, ${firstFailure} AS ${CHECK_COLUMN} FROM (SELECT *, ${converted.join(', ') || '1 AS __tessera_none'} FROM ${scan}))`
  );
}

/** The good rows of a located table, in schema order and types. */
export function goodRowsSelect(plan: ConformPlan, table: string): string {
  const columns = plan.fields.map((planned, index) => {
    const type = sqlTypeOf(planned.field.type);
    const value = planned.column ? valueName(index) : 'NULL';
    return `CAST(${value} AS ${type}) AS ${quoteIdentifier(planned.field.name)}`;
  });
  return `SELECT ${columns.join(', ')} FROM ${table} WHERE ${CHECK_COLUMN} IS NULL`;
}

function rawValue(plan: ConformPlan, planned: PlannedField): string {
  return plan.source.rawValue(planned.column!, quoteIdentifier(planned.column!.name));
}

function inputName(index: number): string {
  return `__tessera_input_${index}`;
}

function valueName(index: number): string {
  return `__tessera_value_${index}`;
}
