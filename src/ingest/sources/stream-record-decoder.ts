/**
 * Decoding a stream message into a record: `format: json` (an object per message, the default) or
 * `format: protobuf` (the table's own message, as declared in its `.proto` file).
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { RunFailedError } from '../../diagnostics/errors.ts';
import type { SchemaDef, TaskDef } from '../../model/index.ts';

export interface RecordDecoder {
  /** The message as a record, or why it is not one, e.g. `is not JSON (Unexpected token …)`. */
  decode(payload: Uint8Array): Record<string, unknown> | string;
}

/** The decoder of a task's `format`. */
export async function recordDecoderFor(
  task: TaskDef,
  schema: SchemaDef | undefined,
  repoRoot: string,
): Promise<RecordDecoder> {
  if (task.source?.eventStream?.format !== 'protobuf') return JSON_DECODER;
  if (!schema) {
    throw new RunFailedError(
      `task ${task.name}: \`format: protobuf\` decodes messages with the schema of ${task.target}, which has none`,
      { task: task.name, table: task.target },
    );
  }
  return protobufDecoder(await loadMessageType(task, schema, repoRoot));
}

const JSON_DECODER: RecordDecoder = {
  decode(payload) {
    const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return `is not JSON (${error instanceof Error ? error.message : String(error)})`;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return `is not a JSON object (${Array.isArray(value) ? 'an array' : JSON.stringify(value)})`;
    }
    return value as Record<string, unknown>;
  },
};

/** The folder of the .proto files Tessera ships (`tessera/options.proto`, `google/type/date.proto`). */
const SHIPPED_PROTO_FOLDER = fileURLToPath(new URL('../../../proto', import.meta.url));
const SHIPPED_IMPORTS = new Set(['tessera/options.proto', 'google/type/date.proto']);

/** The table's message type, loaded with protobufjs from the repo (imports as `validate` resolves them). */
async function loadMessageType(task: TaskDef, schema: SchemaDef, repoRoot: string): Promise<protobuf.Type> {
  const common = protobuf.common as unknown as Record<string, unknown>;
  if (!common['google/protobuf/descriptor.proto']) {
    const require = createRequire(import.meta.url);
    protobuf.common(
      'google/protobuf/descriptor.proto',
      require('protobufjs/google/protobuf/descriptor.json'),
    );
  }
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (SHIPPED_IMPORTS.has(target)) return join(SHIPPED_PROTO_FOLDER, target);
    if (target in common) return target;
    const candidates = origin ? [resolve(dirname(origin), target), resolve(repoRoot, target)] : [];
    return candidates.find((candidate) => existsSync(candidate)) ?? resolve(repoRoot, target);
  };
  try {
    await root.load(resolve(repoRoot, schema.file), { keepCase: true, alternateCommentMode: true });
    return root.lookupType(schema.message);
  } catch (error) {
    throw new RunFailedError(
      `task ${task.name}: cannot load message ${schema.message} from ${schema.file} to decode messages: ${error instanceof Error ? error.message : String(error)}; run \`tessera validate\``,
      { task: task.name, table: task.target },
      { cause: error },
    );
  }
}

function protobufDecoder(type: protobuf.Type): RecordDecoder {
  return {
    decode(payload) {
      let message: protobuf.Message;
      try {
        message = type.decode(payload);
      } catch (error) {
        return `is not a ${type.fullName.replace(/^\./, '')} message (${error instanceof Error ? error.message : String(error)})`;
      }
      // Proto3 scalars without presence read as their zero value, as protobuf defines them.
      const object = type.toObject(message, { longs: String, enums: String, bytes: String, defaults: true });
      return plainRecord(type, object, message);
    },
  };
}

/** Well-known messages as the values the conform pipeline reads (ISO timestamps and dates). */
function plainRecord(
  type: protobuf.Type,
  object: Record<string, unknown>,
  message: object | undefined,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = object[field.name];
    if (value === undefined) continue;
    // A proto3 `optional` field that is not set has no value (NULL), not its zero value; a decoded
    // message holds only the fields it carried as its own properties.
    const unset = message !== undefined && !Object.prototype.hasOwnProperty.call(message, field.name);
    if (field.options?.proto3_optional && unset) continue;
    const nested = (message as Record<string, unknown> | undefined)?.[field.name];
    record[field.name] = plainValue(field, value, nested);
  }
  return record;
}

function plainValue(field: protobuf.Field, value: unknown, decoded: unknown): unknown {
  const type = field.resolvedType;
  if (!(type instanceof protobuf.Type) || value === null) return value;
  const convert = (item: unknown, message: unknown): unknown => {
    const fields = item as Record<string, unknown>;
    switch (type.fullName) {
      case '.google.protobuf.Timestamp': {
        const milliseconds = Number(fields.seconds ?? 0) * 1000 + Math.floor(Number(fields.nanos ?? 0) / 1e6);
        return new Date(milliseconds).toISOString();
      }
      case '.google.type.Date': {
        const pad = (number: unknown, width: number) => String(number ?? 0).padStart(width, '0');
        return `${pad(fields.year, 4)}-${pad(fields.month, 2)}-${pad(fields.day, 2)}`;
      }
      default:
        return plainRecord(type, fields, message as object | undefined);
    }
  };
  return Array.isArray(value)
    ? value.map((item, index) => convert(item, (decoded as unknown[] | undefined)?.[index]))
    : convert(value, decoded);
}
