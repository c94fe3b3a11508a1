/** Bind parameters as the read path takes them: text-format values as sent, binary ones decoded. */

/** A value for `$n`: strings take their type from context in the SQL, like PostgreSQL's unknown-typed parameters. */
export type BoundValue = string | number | boolean | null;

/** A parameter the server cannot decode; answered with SQLSTATE 22P03 or 0A000. */
export class ParameterError extends Error {
  constructor(
    message: string,
    readonly sqlState: string,
  ) {
    super(message);
  }
}

const INTEGER_OIDS = new Set([20, 21, 23, 26]);
const FLOAT_OIDS = new Set([700, 701, 1700]);

/**
 * One parameter's value. Text values declared numeric or boolean become numbers or booleans (so
 * they bind as such); other text stays a string. Binary values are decoded for the types clients
 * send that way (int2/4/8, float4/8, bool, bytea, text/varchar); any other binary type is refused.
 */
export function decodeParameter(
  raw: Buffer | null,
  format: number,
  declaredOid: number,
  position: number,
): BoundValue {
  if (raw === null) return null;
  if (format === 0) {
    const text = raw.toString('utf8');
    if (INTEGER_OIDS.has(declaredOid) && /^[-+]?\d+$/.test(text.trim())) {
      const value = Number(text);
      return Number.isSafeInteger(value) ? value : text.trim();
    }
    if (FLOAT_OIDS.has(declaredOid) && text.trim() !== '' && Number.isFinite(Number(text))) {
      // numeric keeps its digits as text when a double would round them.
      return declaredOid === 1700 && String(Number(text)) !== text.trim() ? text.trim() : Number(text);
    }
    if (declaredOid === 16) return /^(t|true|y|yes|on|1)$/i.test(text.trim());
    return text;
  }
  if (format !== 1)
    throw new ParameterError(`parameter $${position}: unknown format code ${format}`, '08P01');
  const expect = (size: number) => {
    if (raw.length !== size) {
      throw new ParameterError(
        `parameter $${position}: ${raw.length} bytes in binary format where type OID ${declaredOid} takes ${size}`,
        '22P03',
      );
    }
  };
  switch (declaredOid) {
    case 16:
      expect(1);
      return raw[0] !== 0;
    case 21:
      expect(2);
      return raw.readInt16BE(0);
    case 23:
      expect(4);
      return raw.readInt32BE(0);
    case 20: {
      expect(8);
      const value = raw.readBigInt64BE(0);
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    }
    case 700:
      expect(4);
      return raw.readFloatBE(0);
    case 701:
      expect(8);
      return raw.readDoubleBE(0);
    case 17:
      // A BLOB literal's escapes: the value binds as text DuckDB casts to BLOB in a BLOB context.
      return [...raw].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
    case 0:
    case 25:
    case 1043:
    case 19:
    case 114:
      return raw.toString('utf8');
    default:
      throw new ParameterError(
        `parameter $${position}: binary format for type OID ${declaredOid} is not supported; send it in text format`,
        '0A000',
      );
  }
}
