import protobuf from 'protobufjs';
import type { Diagnostic } from '../diagnostics/index.ts';
import {
  MASK_KINDS,
  type FieldDef,
  type FieldType,
  type MaskKind,
  type ScalarSqlType,
  type Sensitivity,
  type SourceLocation,
} from '../model/index.ts';
import { SENSITIVITIES } from './document-schemas.ts';
import type { ProtoSourceLocator } from './proto-source-locator.ts';

export const SCALAR_TYPES: Readonly<Record<string, ScalarSqlType>> = {
  string: 'VARCHAR',
  int32: 'INTEGER',
  int64: 'BIGINT',
  uint32: 'UINTEGER',
  uint64: 'UBIGINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  bool: 'BOOLEAN',
  bytes: 'BLOB',
  // Other wire encodings of the same integer ranges.
  sint32: 'INTEGER',
  sfixed32: 'INTEGER',
  sint64: 'BIGINT',
  sfixed64: 'BIGINT',
  fixed32: 'UINTEGER',
  fixed64: 'UBIGINT',
};

export const WELL_KNOWN_TYPES: Readonly<Record<string, ScalarSqlType>> = {
  'google.protobuf.Timestamp': 'TIMESTAMPTZ',
  'google.type.Date': 'DATE',
};

/** What a schema field may be declared as, for `unmapped-type` messages. */
export const SUPPORTED_PROTO_TYPES =
  'string, int32, int64, uint32, uint64 (and the sint/fixed/sfixed forms), float, double, bool, bytes, enums, nested messages, repeated fields, google.protobuf.Timestamp, google.type.Date, and `(tessera.field) = { decimal: "18,2" }` on a string or number';

const DECIMAL_BASE_TYPES = new Set([
  'string',
  'double',
  'float',
  'int32',
  'int64',
  'sint32',
  'sint64',
  'sfixed32',
  'sfixed64',
]);
const ANNOTATION_KEYS = ['primary_key', 'sensitivity', 'mask', 'allowed', 'decimal'];
const INTEGER_TYPES = new Set<ScalarSqlType>(['INTEGER', 'BIGINT', 'UINTEGER', 'UBIGINT']);

/** Which column types each type-specific mask can apply to; masks not listed apply to any scalar. */
const MASK_TYPES: Partial<Record<MaskKind, (type: FieldType) => boolean>> = {
  DATE_YEAR: (type) => type.kind === 'scalar' && (type.sql === 'DATE' || type.sql === 'TIMESTAMPTZ'),
  ZIP3: (type) => type.kind === 'scalar' && type.sql === 'VARCHAR',
  EMAIL_DOMAIN: (type) => type.kind === 'scalar' && type.sql === 'VARCHAR',
  SHOW_LAST_4: (type) => type.kind === 'scalar' && (type.sql === 'VARCHAR' || INTEGER_TYPES.has(type.sql)),
  AGE_90_PLUS: (type) => type.kind === 'scalar' && INTEGER_TYPES.has(type.sql),
};

interface FieldAnnotation {
  primaryKey?: boolean;
  sensitivity?: Sensitivity;
  mask?: MaskKind;
  allowed?: string[];
  decimal?: { precision: number; scale: number };
}

/**
 * Maps a resolved protobuf message to columns: types per SPEC §1, nullability from `optional`,
 * descriptions from comments and `(tessera.field)` annotations; problems become diagnostics.
 */
export class ProtoFieldMapper {
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly locatorOf: (object: protobuf.ReflectionObject) => ProtoSourceLocator) {}

  /** The columns of `type`, in declaration order. Fields that cannot be mapped are left out (and reported). */
  mapMessage(type: protobuf.Type, enclosing: readonly string[] = []): FieldDef[] {
    const messageName = fullName(type);
    const fields: FieldDef[] = [];
    for (const field of type.fieldsArray) {
      const mapped = this.mapField(type, field, [...enclosing, messageName]);
      if (mapped) fields.push(mapped);
    }
    return fields;
  }

  private mapField(
    type: protobuf.Type,
    field: protobuf.Field,
    enclosing: readonly string[],
  ): FieldDef | undefined {
    const messageName = fullName(type);
    const at = this.locatorOf(field).field(messageName, field.name, field.id);
    const label = `message ${messageName}: field \`${field.name}\``;
    const annotation = this.readAnnotation(field, label, at);
    const element = this.mapType(field, annotation, label, at, enclosing);
    if (!element) return undefined;
    const fieldType: FieldType = field.repeated ? { kind: 'list', element } : element;
    // Only explicit presence makes a column nullable: `optional`, a oneof member, or proto2 `optional`.
    const nullable = !field.repeated && !field.required && Boolean(field.hasPresence);
    const allowed = annotation.allowed ?? (element.kind === 'enum' ? [...element.values] : undefined);
    const definition: FieldDef = {
      name: field.name,
      number: field.id,
      type: fieldType,
      nullable,
      ...(field.comment ? { description: field.comment.trim() } : {}),
      ...(annotation.primaryKey ? { primaryKey: true } : {}),
      ...(annotation.sensitivity ? { sensitivity: annotation.sensitivity } : {}),
      ...(annotation.mask ? { mask: annotation.mask } : {}),
      ...(allowed ? { allowed } : {}),
      at,
    };
    this.checkAnnotation(definition, label);
    return definition;
  }

  private mapType(
    field: protobuf.Field,
    annotation: FieldAnnotation,
    label: string,
    at: SourceLocation,
    enclosing: readonly string[],
  ): FieldType | undefined {
    if (field.map) {
      const mapField = field as unknown as protobuf.MapField;
      return this.unmapped(
        label,
        `map<${mapField.keyType}, ${mapField.type}>`,
        at,
        'use a repeated nested message with key and value fields instead',
      );
    }
    if (annotation.decimal) {
      if (field.resolvedType || !DECIMAL_BASE_TYPES.has(field.type)) {
        this.report(
          'invalid-option',
          `${label}: \`decimal\` applies to string or number fields, not \`${field.type}\``,
          at,
        );
        return undefined;
      }
      return { kind: 'decimal', ...annotation.decimal };
    }
    const scalar = SCALAR_TYPES[field.type];
    if (scalar && !field.resolvedType) return { kind: 'scalar', sql: scalar };
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) {
      const values = Object.entries(resolved.values)
        .filter(([name, number]) => !(number === 0 && /(^|_)UNSPECIFIED$/.test(name)))
        .map(([name]) => name);
      return { kind: 'enum', name: fullName(resolved), values };
    }
    if (resolved instanceof protobuf.Type) {
      const name = fullName(resolved);
      const wellKnown = WELL_KNOWN_TYPES[name];
      if (wellKnown) return { kind: 'scalar', sql: wellKnown };
      if (name.startsWith('google.protobuf.')) {
        return this.unmapped(label, name, at);
      }
      if (enclosing.includes(name)) {
        return this.unmapped(
          label,
          name,
          at,
          `\`${name}\` contains itself, and a column cannot nest without end`,
        );
      }
      return { kind: 'struct', name, fields: this.mapMessage(resolved, enclosing) };
    }
    return this.unmapped(label, field.type, at);
  }

  private unmapped(label: string, typeName: string, at: SourceLocation, hint?: string): undefined {
    this.report(
      'unmapped-type',
      `${label} has type \`${typeName}\`, which has no column type${hint ? ` (${hint})` : ''}; supported: ${SUPPORTED_PROTO_TYPES}`,
      at,
    );
    return undefined;
  }

  private readAnnotation(field: protobuf.Field, label: string, at: SourceLocation): FieldAnnotation {
    const raw: Record<string, unknown> = {};
    for (const entry of field.parsedOptions ?? []) {
      const value = (entry as Record<string, unknown>)['(tessera.field)'];
      if (value === null || typeof value !== 'object') continue;
      for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
        raw[key] = key === 'allowed' && raw.allowed !== undefined ? [raw.allowed, item].flat() : item;
      }
    }
    const annotation: FieldAnnotation = {};
    for (const [key, value] of Object.entries(raw)) {
      const problem = (expected: string) =>
        this.report('invalid-option', `${label}: \`(tessera.field).${key}\` must be ${expected}`, at);
      switch (key) {
        case 'primary_key':
          if (typeof value === 'boolean') annotation.primaryKey = value;
          else problem('true or false');
          break;
        case 'sensitivity':
          if (SENSITIVITIES.includes(value as Sensitivity)) annotation.sensitivity = value as Sensitivity;
          else if (value !== 'SENSITIVITY_UNSPECIFIED') problem(`one of ${SENSITIVITIES.join(', ')}`);
          break;
        case 'mask':
          if (MASK_KINDS.includes(value as MaskKind)) annotation.mask = value as MaskKind;
          else if (value !== 'MASK_UNSPECIFIED') problem(`one of ${MASK_KINDS.join(', ')}`);
          break;
        case 'allowed': {
          const values = [value].flat();
          if (values.every((item) => ['string', 'number', 'boolean'].includes(typeof item))) {
            annotation.allowed = values.map(String);
          } else problem('a list of strings, e.g. `allowed: ["F", "M"]`');
          break;
        }
        case 'decimal': {
          const match = typeof value === 'string' ? /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(value) : null;
          const precision = Number(match?.[1]);
          const scale = Number(match?.[2]);
          if (match && precision >= 1 && precision <= 38 && scale <= precision)
            annotation.decimal = { precision, scale };
          else problem('"precision,scale" with 1 ≤ precision ≤ 38 and scale ≤ precision, e.g. "18,2"');
          break;
        }
        default:
          this.report(
            'invalid-option',
            `${label}: unknown option \`(tessera.field).${key}\`; allowed: ${ANNOTATION_KEYS.join(', ')}`,
            at,
          );
      }
    }
    return annotation;
  }

  private checkAnnotation(field: FieldDef, label: string): void {
    const at = field.at!;
    if (field.mask && !field.sensitivity) {
      this.report(
        'mask-without-sensitivity',
        `${label} has \`mask: ${field.mask}\` but no sensitivity; add \`sensitivity: PHI\` (or PII, CONFIDENTIAL) to its \`(tessera.field)\` options`,
        at,
      );
    }
    const fits = field.mask ? MASK_TYPES[field.mask] : undefined;
    if (field.mask && fits && !fits(field.type)) {
      this.report(
        'mask-type-mismatch',
        `${label}: mask ${field.mask} does not apply to ${describeType(field.type)} columns; use HASH, REDACT or NULLIFY, or change the field's type`,
        at,
      );
    }
    if (
      field.primaryKey &&
      (field.nullable ||
        (field.type.kind !== 'scalar' && field.type.kind !== 'decimal' && field.type.kind !== 'enum'))
    ) {
      this.report(
        'invalid-option',
        `${label}: a primary key must be a non-optional, non-repeated scalar field`,
        at,
      );
    }
  }

  private report(code: string, message: string, at: SourceLocation): void {
    this.diagnostics.push({ code, severity: 'error', message, at });
  }
}

function fullName(object: protobuf.ReflectionObject): string {
  return object.fullName.replace(/^\./, '');
}

function describeType(type: FieldType): string {
  switch (type.kind) {
    case 'scalar':
      return type.sql;
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    default:
      return type.kind;
  }
}
