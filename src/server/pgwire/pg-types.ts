/**
 * PostgreSQL types for the engine's columns: the OID a client sees in RowDescription, and each
 * value's text (as PostgreSQL prints it) and binary encoding. Rows arrive as the read path hands
 * them out (see `QueryResult` in engines/engine.ts): integers beyond 2^53 and inexact decimals as
 * strings, timestamps as ISO-8601 strings, dates as `YYYY-MM-DD`, lists as arrays, structs as objects.
 */

/** A column's PostgreSQL type and how its values are written. */
export interface PgType {
  /** The type's OID (`pg_type.oid`). */
  oid: number;
  /** `pg_type.typname`, for error messages and the emulated catalog. */
  name: string;
  /** `pg_type.typlen`: the fixed size in bytes, or -1 for variable-length types. */
  size: number;
  /** `atttypmod`: DECIMAL's precision and scale as PostgreSQL packs them, else -1. */
  modifier: number;
  /** The value as PostgreSQL's output function prints it. */
  text(value: unknown): string;
  /** The value in PostgreSQL's binary send format. */
  binary(value: unknown): Buffer;
}

/** Microseconds from 1970-01-01 (Unix) to 2000-01-01 (PostgreSQL's epoch). */
const PG_EPOCH_MICROS = 946_684_800_000_000n;
const PG_EPOCH_DAYS = 10_957;

function int16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
}

function int32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
}

function int64(value: bigint): Buffer {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt.asIntN(64, value));
  return buffer;
}

function integerOf(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(Math.trunc(value));
  return BigInt(String(value));
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  const text = String(value);
  if (text === 'NaN') return Number.NaN;
  if (text === 'Infinity' || text === 'inf') return Number.POSITIVE_INFINITY;
  if (text === '-Infinity' || text === '-inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function floatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

/** A REAL as PostgreSQL prints it: the shortest text that reads back as the same 32-bit float. */
function float4Text(value: number): string {
  if (!Number.isFinite(value) || value === 0) return floatText(value);
  for (let precision = 1; precision <= 9; precision += 1) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === Math.fround(value)) return String(candidate);
  }
  return String(value);
}

/** DECIMAL text with the column's scale, as PostgreSQL prints `numeric(p,s)` (`12.300`). */
function numericText(value: unknown, scale: number | undefined): string {
  let text = typeof value === 'number' ? numberToPlainText(value) : String(value);
  if (scale === undefined || text === 'NaN') return text;
  const [whole, fraction = ''] = text.split('.');
  if (scale === 0) return whole!;
  text = `${whole}.${fraction.padEnd(scale, '0')}`;
  return text;
}

/** A number without an exponent (numeric has none). */
function numberToPlainText(value: number): string {
  if (!Number.isFinite(value)) return floatText(value);
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // Beyond 1e21 or below 1e-6: expand the exponent without losing the digits JS printed.
  const [mantissa, exponentText] = text.split(/e/i) as [string, string];
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point = (mantissa.replace('-', '').indexOf('.') + 1 || mantissa.replace('-', '').length + 1) - 1;
  const position = point + exponent;
  let plain: string;
  if (position <= 0) plain = `0.${'0'.repeat(-position)}${digits}`;
  else if (position >= digits.length) plain = digits + '0'.repeat(position - digits.length);
  else plain = `${digits.slice(0, position)}.${digits.slice(position)}`;
  return negative ? `-${plain}` : plain;
}

/** PostgreSQL's binary numeric: base-10000 digits with a weight, a sign and the display scale. */
function numericBinary(value: unknown, scale: number | undefined): Buffer {
  const text = numericText(value, scale);
  if (text === 'NaN') return Buffer.from([0, 0, 0, 0, 0xc0, 0, 0, 0]);
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace(/^[-+]/, '').split('.');
  const wholeDigits = whole.replace(/^0+/, '');
  const paddedWhole = wholeDigits.padStart(Math.ceil(wholeDigits.length / 4) * 4, '0');
  const paddedFraction = fraction.padEnd(Math.ceil(fraction.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let index = 0; index < paddedWhole.length; index += 4)
    groups.push(Number(paddedWhole.slice(index, index + 4)));
  const wholeGroups = groups.length;
  for (let index = 0; index < paddedFraction.length; index += 4)
    groups.push(Number(paddedFraction.slice(index, index + 4)));
  let weight = wholeGroups - 1;
  // Leading and trailing zero groups are not sent; the weight says where the point is.
  while (groups.length > 0 && groups[0] === 0) {
    groups.shift();
    weight -= 1;
  }
  while (groups.length > 0 && groups[groups.length - 1] === 0) groups.pop();
  if (groups.length === 0) weight = 0;
  const buffer = Buffer.alloc(8 + groups.length * 2);
  buffer.writeInt16BE(groups.length, 0);
  buffer.writeInt16BE(weight, 2);
  buffer.writeUInt16BE(negative && groups.length > 0 ? 0x4000 : 0, 4);
  buffer.writeInt16BE(fraction.length, 6);
  groups.forEach((group, index) => buffer.writeInt16BE(group, 8 + index * 2));
  return buffer;
}

/** `2024-01-02`, `2024-01-02 (BC)` (DuckDB) → PostgreSQL's `2024-01-02 BC`. */
function dateText(value: unknown): string {
  return String(value).replace(' (BC)', ' BC');
}

function daysOf(date: string): number {
  const match = /^(\d+)-(\d\d)-(\d\d)( \(?BC\)?)?$/.exec(date);
  if (!match) {
    if (date === 'infinity') return 0x7fffffff;
    if (date === '-infinity') return -0x80000000;
    throw new Error(`not a date: ${date}`);
  }
  const year = match[4] ? 1 - Number(match[1]) : Number(match[1]);
  const epochDays = Date.UTC(year, Number(match[2]) - 1, Number(match[3])) / 86_400_000;
  // Date.UTC maps years 0–99 to 1900–1999; correct for them.
  const corrected =
    year >= 0 && year < 100
      ? (() => {
          const date = new Date(0);
          date.setUTCFullYear(year, Number(match[2]) - 1, Number(match[3]));
          return date.getTime() / 86_400_000;
        })()
      : epochDays;
  return corrected - PG_EPOCH_DAYS;
}

/** `2024-01-02T03:04:05.123456` or with `Z`/`+hh:mm` → microseconds since 1970 (UTC). */
function unixMicrosOf(value: string): bigint {
  const match = /^(\d+-\d\d-\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d(?::?\d\d)?)?$/.exec(
    value,
  );
  if (!match) {
    if (value === 'infinity') return 0x7fffffffffffffffn + PG_EPOCH_MICROS;
    if (value === '-infinity') return -0x8000000000000000n + PG_EPOCH_MICROS;
    throw new Error(`not a timestamp: ${value}`);
  }
  const days = BigInt(daysOf(match[1]!) + PG_EPOCH_DAYS);
  const seconds = BigInt(Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4]));
  const micros = BigInt((match[5] ?? '').padEnd(6, '0').slice(0, 6) || '0');
  let offsetSeconds = 0n;
  const zone = match[6];
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    offsetSeconds = sign * BigInt(Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || '0') * 60);
  }
  return (days * 86_400n + seconds - offsetSeconds) * 1_000_000n + micros;
}

function timestampText(value: unknown): string {
  return String(value).replace('T', ' ');
}

/** Timestamps with time zone are shown in UTC (the session's TimeZone), as `… +00`. */
function timestamptzText(value: unknown): string {
  const text = String(value);
  if (text === 'infinity' || text === '-infinity') return text;
  const micros = unixMicrosOf(text);
  // Floor division, so instants before 1970 keep a positive fraction.
  const wholeSeconds = micros >= 0n ? micros / 1_000_000n : -((-micros + 999_999n) / 1_000_000n);
  const fraction = micros - wholeSeconds * 1_000_000n;
  const seconds = new Date(Number(wholeSeconds) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  const fractionText = fraction === 0n ? '' : `.${fraction.toString().padStart(6, '0').replace(/0+$/, '')}`;
  return `${seconds}${fractionText}+00`;
}

function timeMicrosOf(value: string): bigint {
  const match = /^(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?/.exec(value);
  if (!match) throw new Error(`not a time: ${value}`);
  return (
    BigInt(Number(match[1]) * 3600 + Number(match[2]) * 60 + Number(match[3])) * 1_000_000n +
    BigInt((match[4] ?? '').padEnd(6, '0').slice(0, 6) || '0')
  );
}

interface IntervalParts {
  months: number;
  days: number;
  micros: bigint;
}

function intervalOf(value: unknown): IntervalParts {
  if (value && typeof value === 'object') {
    const parts = value as { months?: unknown; days?: unknown; micros?: unknown };
    return {
      months: Number(parts.months ?? 0),
      days: Number(parts.days ?? 0),
      micros: integerOf(parts.micros ?? 0),
    };
  }
  throw new Error(`not an interval: ${String(value)}`);
}

/** PostgreSQL's `postgres` IntervalStyle: `1 year 2 mons 3 days 04:05:06.5`. */
function intervalText(value: unknown): string {
  const { months, days, micros } = intervalOf(value);
  const parts: string[] = [];
  const years = Math.trunc(months / 12);
  const mons = months % 12;
  if (years !== 0) parts.push(`${years} year${Math.abs(years) === 1 ? '' : 's'}`);
  if (mons !== 0) parts.push(`${mons} mon${Math.abs(mons) === 1 ? '' : 's'}`);
  if (days !== 0) parts.push(`${days} day${Math.abs(days) === 1 ? '' : 's'}`);
  if (micros !== 0n || parts.length === 0) {
    const negative = micros < 0n;
    const absolute = negative ? -micros : micros;
    const totalSeconds = absolute / 1_000_000n;
    const fraction = absolute % 1_000_000n;
    const hours = totalSeconds / 3600n;
    const minutes = (totalSeconds % 3600n) / 60n;
    const seconds = totalSeconds % 60n;
    const pad = (n: bigint) => n.toString().padStart(2, '0');
    const fractionText = fraction === 0n ? '' : `.${fraction.toString().padStart(6, '0').replace(/0+$/, '')}`;
    parts.push(`${negative ? '-' : ''}${pad(hours)}:${pad(minutes)}:${pad(seconds)}${fractionText}`);
  }
  return parts.join(' ');
}

/** DuckDB hands BLOBs out as text with `\xHH` escapes for bytes outside printable ASCII. */
export function blobBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  const text = String(value);
  const bytes: number[] = [];
  for (let index = 0; index < text.length; index += 1) {
    if (
      text[index] === '\\' &&
      text[index + 1] === 'x' &&
      /^[0-9a-fA-F]{2}$/.test(text.slice(index + 2, index + 4))
    ) {
      bytes.push(Number.parseInt(text.slice(index + 2, index + 4), 16));
      index += 3;
    } else {
      bytes.push(...Buffer.from(text[index]!, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function uuidBytes(value: unknown): Buffer {
  return Buffer.from(String(value).replaceAll('-', ''), 'hex');
}

/** A JSON document's text: objects (structs, maps) serialized, strings (a JSON column) as they are. */
function jsonText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value, (_key, inner: unknown) =>
    typeof inner === 'bigint' ? inner.toString() : inner,
  );
}

const text = (value: unknown) => Buffer.from(String(value), 'utf8');

function scalar(
  oid: number,
  name: string,
  size: number,
  encodeText: (value: unknown) => string,
  encodeBinary: (value: unknown) => Buffer,
  modifier = -1,
): PgType {
  return { oid, name, size, modifier, text: encodeText, binary: encodeBinary };
}

export const BOOL = scalar(
  16,
  'bool',
  1,
  (v) => (v ? 't' : 'f'),
  (v) => Buffer.from([v ? 1 : 0]),
);
export const INT2 = scalar(
  21,
  'int2',
  2,
  (v) => String(v),
  (v) => int16(Number(v)),
);
export const INT4 = scalar(
  23,
  'int4',
  4,
  (v) => String(v),
  (v) => int32(Number(v)),
);
export const INT8 = scalar(
  20,
  'int8',
  8,
  (v) => String(v),
  (v) => int64(integerOf(v)),
);
export const FLOAT4 = scalar(
  700,
  'float4',
  4,
  (v) => float4Text(numberOf(v)),
  (v) => {
    const buffer = Buffer.alloc(4);
    buffer.writeFloatBE(numberOf(v));
    return buffer;
  },
);
export const FLOAT8 = scalar(
  701,
  'float8',
  8,
  (v) => floatText(numberOf(v)),
  (v) => {
    const buffer = Buffer.alloc(8);
    buffer.writeDoubleBE(numberOf(v));
    return buffer;
  },
);
export const TEXT = scalar(25, 'text', -1, (v) => String(v), text);
export const BYTEA = scalar(17, 'bytea', -1, (v) => `\\x${blobBytes(v).toString('hex')}`, blobBytes);
export const DATE = scalar(1082, 'date', 4, dateText, (v) => int32(daysOf(String(v))));
export const TIME = scalar(
  1083,
  'time',
  8,
  (v) => String(v),
  (v) => int64(timeMicrosOf(String(v))),
);
export const TIMESTAMP = scalar(1114, 'timestamp', 8, timestampText, (v) =>
  int64(unixMicrosOf(String(v)) - PG_EPOCH_MICROS),
);
export const TIMESTAMPTZ = scalar(1184, 'timestamptz', 8, timestamptzText, (v) =>
  int64(unixMicrosOf(String(v)) - PG_EPOCH_MICROS),
);
export const INTERVAL = scalar(1186, 'interval', 16, intervalText, (v) => {
  const { months, days, micros } = intervalOf(v);
  return Buffer.concat([int64(micros), int32(days), int32(months)]);
});
export const UUID = scalar(2950, 'uuid', 16, (v) => String(v), uuidBytes);
export const JSON_TYPE = scalar(114, 'json', -1, jsonText, (v) => text(jsonText(v)));

function numeric(precision?: number, scale?: number): PgType {
  const modifier = precision === undefined ? -1 : ((precision << 16) | (scale ?? 0)) + 4;
  return scalar(
    1700,
    'numeric',
    -1,
    (v) => numericText(v, scale),
    (v) => numericBinary(v, scale),
    modifier,
  );
}
export const NUMERIC = numeric();

/** The array type of each element type a one-dimensional list maps to. */
const ARRAY_OIDS: Record<number, { oid: number; name: string }> = {
  16: { oid: 1000, name: '_bool' },
  17: { oid: 1001, name: '_bytea' },
  21: { oid: 1005, name: '_int2' },
  23: { oid: 1007, name: '_int4' },
  20: { oid: 1016, name: '_int8' },
  700: { oid: 1021, name: '_float4' },
  701: { oid: 1022, name: '_float8' },
  25: { oid: 1009, name: '_text' },
  1082: { oid: 1182, name: '_date' },
  1083: { oid: 1183, name: '_time' },
  1114: { oid: 1115, name: '_timestamp' },
  1184: { oid: 1185, name: '_timestamptz' },
  1186: { oid: 1187, name: '_interval' },
  1700: { oid: 1231, name: '_numeric' },
  2950: { oid: 2951, name: '_uuid' },
  114: { oid: 199, name: '_json' },
};

/** An array element in an array literal: quoted when PostgreSQL would quote it. */
function arrayElementText(element: string): string {
  if (element === '' || /[{},"\\\s]/.test(element) || element.toUpperCase() === 'NULL') {
    return `"${element.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  }
  return element;
}

function arrayOf(element: PgType): PgType {
  const array = ARRAY_OIDS[element.oid]!;
  return {
    oid: array.oid,
    name: array.name,
    size: -1,
    modifier: element.modifier,
    text: (value) =>
      `{${(value as unknown[])
        .map((item) => (item === null || item === undefined ? 'NULL' : arrayElementText(element.text(item))))
        .join(',')}}`,
    binary: (value) => {
      const items = value as unknown[];
      const parts: Buffer[] = [
        int32(1),
        int32(items.some((item) => item === null || item === undefined) ? 1 : 0),
        int32(element.oid),
        int32(items.length),
        int32(1),
      ];
      for (const item of items) {
        if (item === null || item === undefined) {
          parts.push(int32(-1));
        } else {
          const bytes = element.binary(item);
          parts.push(int32(bytes.length), bytes);
        }
      }
      return Buffer.concat(parts);
    },
  };
}

const SCALARS: Record<string, PgType> = {
  BOOLEAN: BOOL,
  TINYINT: INT2,
  UTINYINT: INT2,
  SMALLINT: INT2,
  USMALLINT: INT4,
  INTEGER: INT4,
  UINTEGER: INT8,
  BIGINT: INT8,
  UBIGINT: NUMERIC,
  HUGEINT: NUMERIC,
  UHUGEINT: NUMERIC,
  FLOAT: FLOAT4,
  DOUBLE: FLOAT8,
  VARCHAR: TEXT,
  BLOB: BYTEA,
  DATE,
  TIME,
  TIMESTAMP,
  TIMESTAMP_S: TIMESTAMP,
  TIMESTAMP_MS: TIMESTAMP,
  TIMESTAMP_NS: TIMESTAMP,
  'TIMESTAMP WITH TIME ZONE': TIMESTAMPTZ,
  INTERVAL,
  UUID,
  JSON: JSON_TYPE,
};

const cache = new Map<string, PgType>();

/**
 * The PostgreSQL type a column of this engine type is sent as: scalars map one to one, DECIMAL
 * and the integers beyond int8 become numeric, one-dimensional lists of scalars become arrays, and
 * anything nested (structs, maps, lists of lists) becomes json. Unknown types are sent as text.
 */
export function pgTypeOf(engineType: string): PgType {
  let type = cache.get(engineType);
  if (!type) {
    type = resolve(engineType.trim());
    cache.set(engineType, type);
  }
  return type;
}

function resolve(engineType: string): PgType {
  const known = SCALARS[engineType.toUpperCase()];
  if (known) return known;
  const decimal = /^DECIMAL\((\d+),\s*(\d+)\)$/i.exec(engineType);
  if (decimal) return numeric(Number(decimal[1]), Number(decimal[2]));
  if (engineType.endsWith('[]')) {
    const element = resolve(engineType.slice(0, -2));
    return ARRAY_OIDS[element.oid] && !engineType.slice(0, -2).endsWith(']') ? arrayOf(element) : JSON_TYPE;
  }
  if (/^(STRUCT|MAP|UNION)\b/i.test(engineType) || /\[\d*\]$/.test(engineType)) return mapAsJson(engineType);
  if (/^ENUM\b/i.test(engineType)) return TEXT;
  return TEXT;
}

/** DuckDB hands a MAP out as `[{key, value}]`; PostgreSQL clients expect a JSON object. */
function mapAsJson(engineType: string): PgType {
  if (!/^MAP\b/i.test(engineType)) return JSON_TYPE;
  const toObject = (value: unknown) =>
    Array.isArray(value)
      ? Object.fromEntries(
          (value as { key: unknown; value: unknown }[]).map((entry) => [String(entry.key), entry.value]),
        )
      : value;
  return {
    ...JSON_TYPE,
    text: (value) => JSON_TYPE.text(toObject(value)),
    binary: (value) => JSON_TYPE.binary(toObject(value)),
  };
}

/** The PostgreSQL type OID of a type name a client declares or a catalog shows, by name. */
export const OID_BY_NAME: Record<string, number> = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  json: 114,
  float4: 700,
  float8: 701,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
};
