import { INTEGER_TYPE_NAMES, quoteLiteral } from '../engines/engine.ts';
import type { FieldDef, FieldType } from '../model/index.ts';
import { sqlTypeOf } from './sql-type.ts';

/** A condition under which a row is bad, and why (both SQL, over the read value and the converted one). */
export interface ValueCheck {
  /** TRUE when the row is bad; NULL counts as fine. */
  condition: string;
  /** A VARCHAR expression, evaluated only for rows whose condition holds. */
  reason: string;
}

/**
 * `lenient`: a value that does not convert becomes NULL and a check reports it (to find bad rows).
 * `strict`: it raises an error instead, and no check is needed for it (the single-pass fast path,
 * which only has to know that some value is bad).
 */
export type ConversionMode = 'lenient' | 'strict';

/** How one source value becomes one field value. */
export interface ValueConversion {
  /** SQL for the conformed value, of the field's type. */
  value(input: string, mode: ConversionMode): string;
  /** Checks in order; the first that holds names the row's problem. `value` is the converted value. */
  checks(input: string, value: string, mode: ConversionMode): ValueCheck[];
}

/** strptime formats, from the source options. */
export interface DateFormats {
  timestamp: string[];
  date: string[];
}

/** ISO 8601 spellings DuckDB's cast misses: minutes without seconds, with an offset or `Z`. */
const ISO_MINUTE_FORMATS = ['%Y-%m-%dT%H:%M%z', '%Y-%m-%d %H:%M%z'];
const FRACTIONAL_TYPES = /^(FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TIMESTAMPTZ = 'TIMESTAMP WITH TIME ZONE';
const LONGEST_QUOTED_VALUE = 200;

/** The formats a field of this type accepts (empty = ISO 8601). */
export function formatsFor(type: FieldType, formats: DateFormats): string[] {
  if (type.kind !== 'scalar') return [];
  if (type.sql === 'TIMESTAMPTZ') return [...formats.timestamp, ...formats.date];
  if (type.sql === 'DATE') return formats.date;
  return [];
}

/**
 * The conversion from a value read as `inputType` (an engine type name) to the field's type, with
 * the checks that make a row bad: a missing required value, a value that does not convert, a
 * fractional number for an integer, a value outside the enum or `allowed` list.
 */
export function valueConversion(field: FieldDef, inputType: string, formats: DateFormats): ValueConversion {
  const target = sqlTypeOf(field.type);
  // A sensitive field's bad value is never quoted: reasons reach run logs and errors, which anyone
  // with the CLI reads. The quarantine file keeps it only as its keyed hash (quarantine-rows.ts).
  const quote = field.sensitivity
    ? () => quoteLiteral(`value [not shown: ${field.sensitivity}]`)
    : quotedValue;
  const convert = converter(field.type, target, inputType, formatsFor(field.type, formats), quote);
  const allowed = field.allowed ?? (field.type.kind === 'enum' ? field.type.values : undefined);
  return {
    value: (input, mode) => convert.value(input, mode === 'strict'),
    checks(input, value, mode) {
      const checks: ValueCheck[] = [];
      if (!field.nullable) {
        checks.push({
          condition: `${input} IS NULL`,
          reason: quoteLiteral(`value is missing but field \`${field.name}\` is required`),
        });
      }
      if (!convert.infallible && mode === 'lenient') {
        checks.push({
          condition: `(${input} IS NOT NULL AND ${value} IS NULL)`,
          reason: convert.failure(input),
        });
      }
      if (convert.fractional) {
        checks.push({
          condition: convert.fractional(input, value),
          reason: `${quote(input)} || ' is not a whole number (field \`${field.name}\` is ${target})'`,
        });
      }
      if (allowed) {
        checks.push({
          condition: `${value} NOT IN (${allowed.map(quoteLiteral).join(', ')})`,
          reason: `${quote(input)} || ${quoteLiteral(` is not one of: ${allowed.join(', ')}`)}`,
        });
      }
      return checks;
    },
  };
}

interface Converter {
  /** The converted value; `strict` raises on a value that does not convert instead of giving NULL. */
  value(input: string, strict: boolean): string;
  /** The conversion cannot fail (same type, or a widening such as TIMESTAMP to TIMESTAMPTZ in UTC). */
  infallible?: boolean;
  /** Why a non-NULL input converted to NULL. */
  failure(input: string): string;
  /** TRUE when an integer field was given a number with a fraction (which the cast would round). */
  fractional?(input: string, value: string): string;
}

function converter(
  type: FieldType,
  target: string,
  inputType: string,
  formats: string[],
  quotedValue: (input: string) => string,
): Converter {
  const cast = (input: string, strict: boolean, to = target) =>
    `${strict ? 'CAST' : 'TRY_CAST'}(${input} AS ${to})`;
  const cannotConvert = (input: string) =>
    `${quotedValue(input)} || ${quoteLiteral(` is not a valid ${target}`)}`;
  const fails = (message: string) => (input: string) => `${quotedValue(input)} || ${quoteLiteral(message)}`;
  if (inputType === target) return { value: (input) => input, failure: cannotConvert, infallible: true };
  const isText = inputType === 'VARCHAR';
  if (target === TIMESTAMPTZ && (inputType === 'TIMESTAMP' || inputType === 'DATE')) {
    return {
      value: (input) => utcTimestamp(`CAST(${input} AS TIMESTAMP)`),
      failure: cannotConvert,
      infallible: true,
    };
  }

  if (type.kind === 'scalar' || type.kind === 'enum') {
    const sql = type.kind === 'enum' ? 'VARCHAR' : type.sql;
    if (sql === 'VARCHAR') {
      return { value: (input) => `CAST(${input} AS VARCHAR)`, failure: cannotConvert, infallible: true };
    }
    if (INTEGER_TYPE_NAMES.has(sql)) {
      const fractional = isText || FRACTIONAL_TYPES.test(inputType);
      return {
        value: (input, strict) => cast(input, strict),
        failure: (input) =>
          isText
            ? `${quotedValue(input)} || CASE WHEN TRY_CAST(${input} AS DOUBLE) IS NULL THEN ' is not a number' ` +
              `ELSE ${quoteLiteral(` is out of range for ${sql}`)} END`
            : `${quotedValue(input)} || ${quoteLiteral(` is out of range for ${sql}`)}`,
        // The cast rounds 1.5 to 2; comparing with the value read as a double catches it.
        fractional: fractional
          ? (input, value) =>
              isText
                ? `(${value} IS NOT NULL AND TRY_CAST(${input} AS DOUBLE) <> ${value})`
                : `(${input} <> trunc(${input}))`
          : undefined,
      };
    }
    if (sql === 'DOUBLE' || sql === 'FLOAT') {
      return { value: (input, strict) => cast(input, strict), failure: fails(' is not a number') };
    }
    if (sql === 'BOOLEAN') {
      return {
        value: (input, strict) => cast(input, strict),
        failure: fails(' is not a boolean (true/false, yes/no, 1/0)'),
      };
    }
    if ((sql === 'TIMESTAMPTZ' || sql === 'DATE') && isText) {
      const noun = sql === 'DATE' ? 'date' : 'timestamp';
      return {
        value: (input, strict) => parseTime(input, sql, formats, strict),
        failure: fails(
          formats.length > 0
            ? ` is not a ${noun} (expected formats: ${formats.join(', ')})`
            : ` is not an ISO 8601 ${noun}`,
        ),
      };
    }
  }
  if (type.kind === 'decimal') {
    return {
      value: (input, strict) => cast(input, strict),
      failure: fails(` is not a number that fits ${target}`),
    };
  }
  if ((type.kind === 'list' || type.kind === 'struct') && isText) {
    // Nested values arrive as JSON text (JSON sources read as text, or a CSV cell holding JSON).
    return {
      value: (input, strict) => cast(cast(input, strict, 'JSON'), strict),
      failure: fails(` is not JSON of type ${target}`),
    };
  }
  return { value: (input, strict) => cast(input, strict), failure: cannotConvert };
}

/**
 * Text to a timestamp or date. With formats, the first that parses wins; without, ISO 8601, where
 * a value with no offset means UTC (the session runs in UTC while ingesting).
 */
function parseTime(input: string, sql: 'TIMESTAMPTZ' | 'DATE', formats: string[], strict: boolean): string {
  const target = sql === 'DATE' ? 'DATE' : TIMESTAMPTZ;
  if (formats.length > 0) {
    const parsed = `${strict ? 'strptime' : 'TRY_STRPTIME'}(${input}, [${formats.map(quoteLiteral).join(', ')}])`;
    return sql === 'DATE' ? `CAST(${parsed} AS DATE)` : utcTimestamp(parsed);
  }
  const cast = `${strict ? 'CAST' : 'TRY_CAST'}(${input} AS ${target})`;
  // The strict form skips the fallback: the fast path may refuse what the lenient one accepts.
  if (sql === 'DATE' || strict) return cast;
  const minuteFormats = `[${ISO_MINUTE_FORMATS.map(quoteLiteral).join(', ')}]`;
  return `COALESCE(${cast}, TRY_STRPTIME(regexp_replace(${input}, 'Z$', '+00:00'), ${minuteFormats}))`;
}

/**
 * A TIMESTAMP (or TIMESTAMPTZ) read as UTC, as TIMESTAMPTZ. Through epoch microseconds rather than
 * a cast: the cast goes through ICU's calendar for every value, measured at 0.6 s per 5M values.
 */
function utcTimestamp(timestamp: string): string {
  return `make_timestamptz(epoch_us(${timestamp}))`;
}

/** `value "…"` as SQL, the raw value shortened so a runaway cell cannot flood a message. */
function quotedValue(input: string): string {
  const text = `CAST(${input} AS VARCHAR)`;
  return (
    `'value "' || CASE WHEN length(${text}) > ${LONGEST_QUOTED_VALUE} ` +
    `THEN left(${text}, ${LONGEST_QUOTED_VALUE}) || '…' ELSE ${text} END || '"'`
  );
}
