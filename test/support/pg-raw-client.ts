/**
 * A minimal PostgreSQL protocol client: binary results (`queryBinary`) and extended-protocol
 * message sequences as sent (`exchange`), for what drivers do not expose. The `pg` client asks for binary results
 * (`binary: true`) but reads every DataRow field as UTF-8 text, which corrupts most binary values;
 * this one keeps the raw bytes and decodes them with pg's own binary parsers (`pg-types`), so tests
 * prove round trips through a real decoder rather than comparing bytes by hand.
 */
import { connect, type Socket } from 'node:net';
import pgTypes from 'pg-types';

export interface BinaryResult {
  fields: { name: string; oid: number; format: number }[];
  /** Raw field bytes per row (null for SQL NULL). */
  raw: (Buffer | null)[][];
  /** Decoded with pg-types' binary parsers (or `decoders`, by OID, for types pg-types lacks). */
  rows: Record<string, unknown>[];
  tag: string;
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

const cstring = (text: string) => Buffer.concat([Buffer.from(text, 'utf8'), Buffer.alloc(1)]);
const int16 = (value: number) => {
  const buffer = Buffer.alloc(2);
  buffer.writeInt16BE(value);
  return buffer;
};
const int32 = (value: number) => {
  const buffer = Buffer.alloc(4);
  buffer.writeInt32BE(value);
  return buffer;
};

/** Reads whole backend messages off a socket, in order. */
class MessageStream {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private ended = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiting?.();
    });
  }

  async next(): Promise<{ type: string; body: Buffer }> {
    for (;;) {
      if (this.buffer.length >= 5) {
        const length = this.buffer.readInt32BE(1);
        if (this.buffer.length >= length + 1) {
          const type = String.fromCharCode(this.buffer[0]!);
          const body = this.buffer.subarray(5, length + 1);
          this.buffer = this.buffer.subarray(length + 1);
          return { type, body };
        }
      }
      if (this.ended) throw new Error('the server closed the connection');
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}

/** Connect, authenticate with a cleartext password, run `sql` with all results in binary format. */
export async function queryBinary(
  options: { port: number; user: string; password: string },
  sql: string,
  decoders: Record<number, (value: Buffer) => unknown> = {},
): Promise<BinaryResult> {
  const socket = connect(options.port, '127.0.0.1');
  const stream = new MessageStream(socket);
  try {
    const startup = Buffer.concat([
      int32(196608),
      cstring('user'),
      cstring(options.user),
      cstring('database'),
      cstring('tessera'),
      Buffer.alloc(1),
    ]);
    socket.write(Buffer.concat([int32(startup.length + 4), startup]));
    for (;;) {
      const { type, body } = await stream.next();
      if (type === 'R' && body.readInt32BE(0) === 3) socket.write(message('p', cstring(options.password)));
      else if (type === 'E') throw new Error(`server error: ${body.toString('utf8')}`);
      else if (type === 'Z') break;
    }
    socket.write(
      Buffer.concat([
        message('P', Buffer.concat([cstring(''), cstring(sql), int16(0)])),
        message('B', Buffer.concat([cstring(''), cstring(''), int16(0), int16(0), int16(1), int16(1)])),
        message('D', Buffer.concat([Buffer.from('P'), cstring('')])),
        message('E', Buffer.concat([cstring(''), int32(0)])),
        message('S', Buffer.alloc(0)),
      ]),
    );
    const result: BinaryResult = { fields: [], raw: [], rows: [], tag: '' };
    for (;;) {
      const { type, body } = await stream.next();
      if (type === 'E') throw new Error(`server error: ${body.toString('utf8')}`);
      if (type === 'T') {
        let offset = 2;
        for (let index = 0; index < body.readInt16BE(0); index += 1) {
          const end = body.indexOf(0, offset);
          const name = body.toString('utf8', offset, end);
          offset = end + 1;
          result.fields.push({
            name,
            oid: body.readInt32BE(offset + 6),
            format: body.readInt16BE(offset + 16),
          });
          offset += 18;
        }
      } else if (type === 'D') {
        const values: (Buffer | null)[] = [];
        let offset = 2;
        for (let index = 0; index < body.readInt16BE(0); index += 1) {
          const length = body.readInt32BE(offset);
          offset += 4;
          values.push(length === -1 ? null : Buffer.from(body.subarray(offset, offset + length)));
          if (length > 0) offset += length;
        }
        result.raw.push(values);
      } else if (type === 'C') {
        result.tag = body.toString('utf8', 0, body.length - 1);
      } else if (type === 'Z') break;
    }
    result.rows = result.raw.map((values) =>
      Object.fromEntries(
        values.map((value, index) => {
          const field = result.fields[index]!;
          if (value === null) return [field.name, null];
          const decode = decoders[field.oid] ?? pgTypes.getTypeParser(field.oid, 'binary');
          return [field.name, (decode as (value: Buffer) => unknown)(value)];
        }),
      ),
    );
    socket.write(message('X', Buffer.alloc(0)));
    return result;
  } finally {
    socket.end();
  }
}

/** One frontend message for `exchange`. */
export type FrontendMessage =
  | ['P', { statement: string; sql: string; types?: number[] }]
  | ['B', { portal: string; statement: string }]
  | ['D', { kind: 'S' | 'P'; name: string }]
  | ['E', { portal: string; maxRows: number }]
  | ['S', Record<string, never>];

/** One backend reply: its type, and for some types what it says. */
export interface BackendReply {
  type: string;
  /** CommandComplete's tag, ErrorResponse's message. */
  text?: string;
  /** ParameterDescription's OIDs. */
  parameterTypes?: number[];
}

/** Log in, send `messages` in one write, read replies up to the ReadyForQuery after the last Sync. */
export async function exchange(
  options: { port: number; user: string; password: string },
  messages: FrontendMessage[],
): Promise<BackendReply[]> {
  const socket = connect(options.port, '127.0.0.1');
  const stream = new MessageStream(socket);
  try {
    const startup = Buffer.concat([int32(196608), cstring('user'), cstring(options.user), Buffer.alloc(1)]);
    socket.write(Buffer.concat([int32(startup.length + 4), startup]));
    for (;;) {
      const { type, body } = await stream.next();
      if (type === 'R' && body.readInt32BE(0) === 3) socket.write(message('p', cstring(options.password)));
      else if (type === 'E') throw new Error(`server error: ${body.toString('utf8')}`);
      else if (type === 'Z') break;
    }
    const encoded = messages.map(([type, fields]) => {
      switch (type) {
        case 'P': {
          const types = fields.types ?? [];
          return message(
            'P',
            Buffer.concat([
              cstring(fields.statement),
              cstring(fields.sql),
              int16(types.length),
              ...types.map(int32),
            ]),
          );
        }
        case 'B':
          return message(
            'B',
            Buffer.concat([cstring(fields.portal), cstring(fields.statement), int16(0), int16(0), int16(0)]),
          );
        case 'D':
          return message('D', Buffer.concat([Buffer.from(fields.kind), cstring(fields.name)]));
        case 'E':
          return message('E', Buffer.concat([cstring(fields.portal), int32(fields.maxRows)]));
        case 'S':
          return message('S', Buffer.alloc(0));
      }
    });
    socket.write(Buffer.concat(encoded));
    let syncs = messages.filter(([type]) => type === 'S').length;
    const replies: BackendReply[] = [];
    while (syncs > 0) {
      const { type, body } = await stream.next();
      const reply: BackendReply = { type };
      if (type === 'C') reply.text = body.toString('utf8', 0, body.length - 1);
      if (type === 'E') reply.text = body.toString('utf8');
      if (type === 't')
        reply.parameterTypes = Array.from({ length: body.readInt16BE(0) }, (_, i) =>
          body.readInt32BE(2 + i * 4),
        );
      if (type === 'Z') syncs -= 1;
      replies.push(reply);
    }
    socket.write(message('X', Buffer.alloc(0)));
    return replies;
  } finally {
    socket.end();
  }
}
