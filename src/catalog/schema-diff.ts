import type { FieldDef, FieldType, ScalarSqlType } from '../model/index.ts';
import { sameDefinition } from './canonical-definition.ts';

export type FieldChangeKind =
  'added' | 'removed' | 'type_changed' | 'number_reused' | 'nullability_changed' | 'annotation_changed';

/** One difference in one field between the applied schema and the declared one. */
export interface SchemaFieldChange {
  field: string;
  kind: FieldChangeKind;
  /** True when data written under the old schema may not fit the new one, or readers may break (SPEC §1). */
  breaking: boolean;
  /** For people: what changed and, when breaking, why. */
  detail: string;
}

export interface DiffFieldsOptions {
  /**
   * Treat field numbers as identity and flag a number reused by another name. Default: true. Off when
   * the old fields were inferred from a projection run, whose numbers are only positions.
   */
  matchNumbers?: boolean;
}

/**
 * Compare two schemas field by field (fields match by name). Breaking: a field removed, a type that does
 * not hold every old value, NULL newly forbidden, allowed values narrowed, a number reused for another name.
 */
export function diffFields(
  before: FieldDef[],
  after: FieldDef[],
  options: DiffFieldsOptions = {},
): SchemaFieldChange[] {
  const matchNumbers = options.matchNumbers ?? true;
  const oldByName = new Map(before.map((field) => [field.name, field]));
  const newNames = new Set(after.map((field) => field.name));
  const oldByNumber = new Map(before.map((field) => [field.number, field]));
  const changes: SchemaFieldChange[] = [];

  for (const field of after) {
    const old = oldByName.get(field.name);
    const holder = matchNumbers ? oldByNumber.get(field.number) : undefined;
    const reused = holder !== undefined && holder.name !== field.name;
    if (reused) {
      const fate = newNames.has(holder.name) ? 'still present under another number' : 'removed';
      changes.push({
        field: field.name,
        kind: 'number_reused',
        breaking: true,
        detail: `number ${field.number} belonged to field \`${holder.name}\` (${fate}); old data under that number means something else. Give \`${field.name}\` an unused number`,
      });
    }
    if (!old) {
      if (!reused)
        changes.push({ field: field.name, kind: 'added', breaking: false, detail: describeField(field) });
      continue;
    }
    changes.push(...diffField(old, field, matchNumbers));
  }

  for (const old of before) {
    if (newNames.has(old.name)) continue;
    changes.push({
      field: old.name,
      kind: 'removed',
      breaking: true,
      detail: `removed (was ${describeField(old)}); readers of \`${old.name}\` break`,
    });
  }
  return changes;
}

function diffField(old: FieldDef, field: FieldDef, matchNumbers: boolean): SchemaFieldChange[] {
  const changes: SchemaFieldChange[] = [];
  const name = field.name;

  if (!sameDefinition(old.type, field.type)) {
    const holds = typeHoldsEveryValue(old.type, field.type);
    const from = describeType(old.type);
    const to = describeType(field.type);
    changes.push({
      field: name,
      kind: 'type_changed',
      breaking: !holds,
      detail: holds
        ? `${from} → ${to} (widening: every old value fits)`
        : `${from} → ${to}: not every ${from} value fits in ${to}`,
    });
  } else {
    const narrowed = narrowedAllowedValues(old, field);
    if (narrowed !== undefined) {
      changes.push({
        field: name,
        kind: 'type_changed',
        breaking: narrowed.breaking,
        detail: narrowed.detail,
      });
    }
  }

  if (old.nullable !== field.nullable) {
    changes.push({
      field: name,
      kind: 'nullability_changed',
      breaking: old.nullable,
      detail: old.nullable
        ? 'now NOT NULL: rows written before may hold NULL'
        : 'now nullable (declared `optional`)',
    });
  }

  const annotations: string[] = [];
  if (matchNumbers && old.number !== field.number) annotations.push(`number ${old.number} → ${field.number}`);
  if ((old.description ?? '') !== (field.description ?? '')) annotations.push('description changed');
  if (Boolean(old.primaryKey) !== Boolean(field.primaryKey)) {
    annotations.push(field.primaryKey ? 'now part of the primary key' : 'no longer part of the primary key');
  }
  if (old.sensitivity !== field.sensitivity) {
    annotations.push(`sensitivity ${old.sensitivity ?? 'none'} → ${field.sensitivity ?? 'none'}`);
  }
  if (old.mask !== field.mask) annotations.push(`mask ${old.mask ?? 'none'} → ${field.mask ?? 'none'}`);
  if (annotations.length > 0) {
    changes.push({
      field: name,
      kind: 'annotation_changed',
      breaking: false,
      detail: annotations.join('; '),
    });
  }
  return changes;
}

/** `allowed: [...]` is part of a field's domain: dropping values (or adding the restriction) narrows it. */
function narrowedAllowedValues(
  old: FieldDef,
  field: FieldDef,
): { breaking: boolean; detail: string } | undefined {
  // For enums `allowed` mirrors the enum's values, which the type comparison already judged.
  if (old.type.kind === 'enum' && field.type.kind === 'enum') return undefined;
  if (sameDefinition(old.allowed ?? null, field.allowed ?? null)) return undefined;
  if (field.allowed === undefined) return { breaking: false, detail: 'allowed values no longer restricted' };
  if (old.allowed === undefined) {
    return {
      breaking: true,
      detail: `now restricted to ${field.allowed.join(', ')}: older values may not be`,
    };
  }
  const dropped = old.allowed.filter((value) => !field.allowed!.includes(value));
  if (dropped.length === 0) {
    const gained = field.allowed.filter((value) => !old.allowed!.includes(value));
    return { breaking: false, detail: `allowed values gained ${gained.join(', ') || '(reordered)'}` };
  }
  return { breaking: true, detail: `allowed values no longer include ${dropped.join(', ')}` };
}

/**
 * Scalar widenings that keep every value exactly. Deliberately short: a change not listed is breaking
 * (DATE → TIMESTAMPTZ or INTEGER → VARCHAR convert, but readers comparing or summing them break).
 */
const SCALAR_WIDENINGS: Partial<Record<ScalarSqlType, ScalarSqlType[]>> = {
  INTEGER: ['BIGINT', 'DOUBLE'],
  UINTEGER: ['UBIGINT', 'BIGINT', 'DOUBLE'],
  FLOAT: ['DOUBLE'],
};

/** Decimal digits left of the point a DECIMAL needs to hold every value of an integer type. */
const INTEGER_DIGITS: Partial<Record<ScalarSqlType, number>> = {
  INTEGER: 10,
  UINTEGER: 10,
  BIGINT: 19,
  UBIGINT: 20,
};

/** True when every value of `from` is a value of `to`, unchanged. */
export function typeHoldsEveryValue(from: FieldType, to: FieldType): boolean {
  if (sameDefinition(from, to)) return true;
  switch (from.kind) {
    case 'scalar':
      if (to.kind === 'scalar') return SCALAR_WIDENINGS[from.sql]?.includes(to.sql) ?? false;
      if (to.kind === 'decimal') {
        const digits = INTEGER_DIGITS[from.sql];
        return digits !== undefined && to.precision - to.scale >= digits;
      }
      return false;
    case 'decimal':
      return (
        to.kind === 'decimal' &&
        to.scale >= from.scale &&
        to.precision - to.scale >= from.precision - from.scale
      );
    case 'enum':
      if (to.kind === 'scalar') return to.sql === 'VARCHAR';
      return to.kind === 'enum' && from.values.every((value) => to.values.includes(value));
    case 'list':
      return to.kind === 'list' && typeHoldsEveryValue(from.element, to.element);
    case 'struct': {
      if (to.kind !== 'struct') return false;
      const target = new Map(to.fields.map((field) => [field.name, field]));
      const fromNames = new Set(from.fields.map((field) => field.name));
      const kept = from.fields.every((field) => {
        const next = target.get(field.name);
        return (
          next !== undefined &&
          typeHoldsEveryValue(field.type, next.type) &&
          !(field.nullable && !next.nullable)
        );
      });
      // A new member must be nullable: old struct values do not have it.
      return kept && to.fields.every((field) => fromNames.has(field.name) || field.nullable);
    }
    default:
      return false;
  }
}

/** A type as the catalog shows it, in DuckDB spelling. */
export function describeType(type: FieldType): string {
  switch (type.kind) {
    case 'scalar':
      return type.sql;
    case 'decimal':
      return `DECIMAL(${type.precision},${type.scale})`;
    case 'enum':
      return `ENUM ${type.name}(${type.values.join(', ')})`;
    case 'list':
      return `${describeType(type.element)}[]`;
    case 'struct':
      return `STRUCT ${type.name}(${type.fields.map((field) => `${field.name} ${describeType(field.type)}`).join(', ')})`;
    default: {
      // Types added to the model later (e.g. engine-only types) still print something useful.
      const other = type as { sql?: unknown };
      return typeof other.sql === 'string' ? other.sql : JSON.stringify(type);
    }
  }
}

function describeField(field: FieldDef): string {
  return `${describeType(field.type)}${field.nullable ? '' : ' NOT NULL'} = ${field.number}`;
}
