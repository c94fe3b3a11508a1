/**
 * The protocol's messages (PostgreSQL protocol 3.0): backend messages written into one buffer per
 * reply, and the frontend messages the server reads after startup. pg-gateway frames the stream
 * and negotiates TLS; everything after the startup packet is read and written here.
 */

/** One field of a RowDescription. */
export interface FieldDescription {
  name: string;
  oid: number;
  size: number;
  modifier: number;
  /** 0 = text, 1 = binary. */
  format: number;
}

/** The fields of an ErrorResponse or NoticeResponse (see PostgreSQL's "Error and Notice Message Fields"). */
export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'NOTICE' | 'WARNING';
  /** SQLSTATE. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** Collects backend messages for one reply; `bytes()` hands them out as one write. */
export class ReplyWriter {
  private readonly chunks: Buffer[] = [];
  private length = 0;

  private push(type: string, body: Buffer): this {
    const header = Buffer.alloc(5);
    header.write(type, 0, 'latin1');
    header.writeInt32BE(body.length + 4, 1);
    this.chunks.push(header, body);
    this.length += header.length + body.length;
    return this;
  }

  get size(): number {
    return this.length;
  }

  bytes(): Uint8Array {
    return Buffer.concat(this.chunks, this.length);
  }

  authenticationCleartextPassword(): this {
    return this.push('R', int32(3));
  }

  authenticationOk(): this {
    return this.push('R', int32(0));
  }

  parameterStatus(name: string, value: string): this {
    return this.push('S', Buffer.concat([cstring(name), cstring(value)]));
  }

  backendKeyData(processId: number, secret: number): this {
    return this.push('K', Buffer.concat([int32(processId), int32(secret)]));
  }

  readyForQuery(status: 'I' | 'T' | 'E'): this {
    return this.push('Z', Buffer.from(status, 'latin1'));
  }

  rowDescription(fields: readonly FieldDescription[]): this {
    const parts: Buffer[] = [int16(fields.length)];
    for (const field of fields) {
      const fixed = Buffer.alloc(18);
      fixed.writeInt32BE(0, 0); // table OID: not a column of a real table
      fixed.writeInt16BE(0, 4);
      fixed.writeInt32BE(field.oid, 6);
      fixed.writeInt16BE(field.size, 10);
      fixed.writeInt32BE(field.modifier, 12);
      fixed.writeInt16BE(field.format, 16);
      parts.push(cstring(field.name), fixed);
    }
    return this.push('T', Buffer.concat(parts));
  }

  /** One row; each value already encoded, `null` for SQL NULL. */
  dataRow(values: readonly (Buffer | null)[]): this {
    let size = 2;
    for (const value of values) size += 4 + (value?.length ?? 0);
    const body = Buffer.alloc(size);
    body.writeInt16BE(values.length, 0);
    let offset = 2;
    for (const value of values) {
      if (value === null) {
        body.writeInt32BE(-1, offset);
        offset += 4;
      } else {
        body.writeInt32BE(value.length, offset);
        value.copy(body, offset + 4);
        offset += 4 + value.length;
      }
    }
    return this.push('D', body);
  }

  commandComplete(tag: string): this {
    return this.push('C', cstring(tag));
  }

  emptyQueryResponse(): this {
    return this.push('I', Buffer.alloc(0));
  }

  parseComplete(): this {
    return this.push('1', Buffer.alloc(0));
  }

  bindComplete(): this {
    return this.push('2', Buffer.alloc(0));
  }

  closeComplete(): this {
    return this.push('3', Buffer.alloc(0));
  }

  noData(): this {
    return this.push('n', Buffer.alloc(0));
  }

  portalSuspended(): this {
    return this.push('s', Buffer.alloc(0));
  }

  parameterDescription(oids: readonly number[]): this {
    return this.push('t', Buffer.concat([int16(oids.length), ...oids.map(int32)]));
  }

  error(fields: ErrorFields): this {
    return this.push('E', errorBody(fields));
  }

  notice(fields: ErrorFields): this {
    return this.push('N', errorBody(fields));
  }
}

function errorBody(fields: ErrorFields): Buffer {
  const parts = [
    Buffer.from('S'),
    cstring(fields.severity),
    Buffer.from('V'),
    cstring(fields.severity),
    Buffer.from('C'),
    cstring(fields.code),
    Buffer.from('M'),
    cstring(fields.message),
  ];
  if (fields.detail) parts.push(Buffer.from('D'), cstring(fields.detail));
  if (fields.hint) parts.push(Buffer.from('H'), cstring(fields.hint));
  parts.push(Buffer.alloc(1));
  return Buffer.concat(parts);
}

function cstring(value: string): Buffer {
  return Buffer.concat([Buffer.from(value, 'utf8'), Buffer.alloc(1)]);
}

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

/** A frontend message's body, read front to back. */
export class MessageReader {
  private offset: number;
  private readonly buffer: Buffer;

  /** `message` is a whole message: type byte, length, body. */
  constructor(message: Uint8Array, headerLength = 5) {
    this.buffer = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
    this.offset = headerLength;
  }

  int16(): number {
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  cstring(): string {
    const end = this.buffer.indexOf(0, this.offset);
    if (end === -1) throw new ProtocolViolation('a string in a message has no terminating zero byte');
    const value = this.buffer.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return value;
  }

  bytes(length: number): Buffer {
    const value = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** `count` int16s (format codes) or int32s (type OIDs). */
  int16s(count: number): number[] {
    return Array.from({ length: count }, () => this.int16());
  }

  int32s(count: number): number[] {
    return Array.from({ length: count }, () => this.int32());
  }
}

/** A malformed message: the connection ends with SQLSTATE 08P01. */
export class ProtocolViolation extends Error {}

export interface ParseMessage {
  statement: string;
  sql: string;
  parameterTypes: number[];
}

export function readParse(message: Uint8Array): ParseMessage {
  const reader = new MessageReader(message);
  const statement = reader.cstring();
  const sql = reader.cstring();
  const parameterTypes = reader.int32s(reader.int16());
  return { statement, sql, parameterTypes };
}

export interface BindMessage {
  portal: string;
  statement: string;
  /** Per parameter: 0 text, 1 binary (expanded from PostgreSQL's 0/1/n encoding). */
  parameterFormats: number[];
  /** Raw values; `null` for SQL NULL. */
  parameters: (Buffer | null)[];
  /** As sent: empty = all text, one = all of that format, else one per column. */
  resultFormats: number[];
}

export function readBind(message: Uint8Array): BindMessage {
  const reader = new MessageReader(message);
  const portal = reader.cstring();
  const statement = reader.cstring();
  const formats = reader.int16s(reader.int16());
  const count = reader.int16();
  const parameters: (Buffer | null)[] = [];
  for (let index = 0; index < count; index += 1) {
    const length = reader.int32();
    parameters.push(length === -1 ? null : Buffer.from(reader.bytes(length)));
  }
  const resultFormats = reader.int16s(reader.int16());
  const parameterFormats = parameters.map((_, index) =>
    formats.length === 1 ? formats[0]! : (formats[index] ?? 0),
  );
  return { portal, statement, parameterFormats, parameters, resultFormats };
}

/** `D` and `C` messages: `S` statement or `P` portal, and its name. */
export function readTarget(message: Uint8Array): { kind: 'S' | 'P'; name: string } {
  const reader = new MessageReader(message);
  const kind = String.fromCharCode(reader.bytes(1)[0]!);
  if (kind !== 'S' && kind !== 'P') throw new ProtocolViolation(`invalid Describe/Close target "${kind}"`);
  return { kind, name: reader.cstring() };
}

export function readExecute(message: Uint8Array): { portal: string; maxRows: number } {
  const reader = new MessageReader(message);
  return { portal: reader.cstring(), maxRows: reader.int32() };
}

export function readQuery(message: Uint8Array): string {
  return new MessageReader(message).cstring();
}

export function readPassword(message: Uint8Array): string {
  return new MessageReader(message).cstring();
}

/** The startup packet's parameters (`user`, `database`, `application_name`, `options`…). */
export function readStartupParameters(message: Uint8Array): Record<string, string> {
  const reader = new MessageReader(message, 8);
  const parameters: Record<string, string> = {};
  for (let key = reader.cstring(); key !== ''; key = reader.cstring()) parameters[key] = reader.cstring();
  return parameters;
}

/** Special initial packets: their request code after the length. */
export const SSL_REQUEST_CODE = 80_877_103;
export const CANCEL_REQUEST_CODE = 80_877_102;
export const GSSENC_REQUEST_CODE = 80_877_104;

/** The request code of an initial packet (the protocol version for a startup packet). */
export function initialPacketCode(message: Uint8Array): number | undefined {
  if (message.byteLength < 8) return undefined;
  return Buffer.from(message.buffer, message.byteOffset, message.byteLength).readInt32BE(4);
}

export function readCancelRequest(message: Uint8Array): { processId: number; secret: number } {
  const reader = new MessageReader(message, 8);
  return { processId: reader.int32(), secret: reader.int32() };
}
