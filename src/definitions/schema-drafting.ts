import { stringify } from 'yaml';
import type { FieldType, MaskKind, ScalarSqlType } from '../model/index.ts';
import { countsOrFlags, safeHarborIdentifierOf } from './safe-harbor-identifiers.ts';

/**
 * Drafting a starting schema from what a sample of a source says about its columns: the
 * annotated `.proto`, the table YAML and the ingestion task YAML, with likely PHI flagged and a
 * mask suggested. Pure: no I/O; callers (`tessera schema infer`, a dbt import) gather the facts.
 */

/** What a sample says about one column. Only `name` is required. */
export interface ColumnFacts {
  /** The column's name in the source, as written there. */
  name: string;
  /** A human description (e.g. from dbt), used for PHI hints and as the field's comment. */
  description?: string;
  /** The engine's type for it (DuckDB spelling: `VARCHAR`, `BIGINT`, `DECIMAL(18,2)`, `TIMESTAMP`…). */
  type?: string;
  /** A few sampled values (any type; compared as text). */
  samples?: readonly unknown[];
  /** NULLs among the sampled rows. */
  nullCount?: number;
  /** Distinct non-NULL values among the sampled rows. */
  distinctCount?: number;
  /** The strptime format the values were written in, when a date or timestamp is not ISO 8601. */
  dateFormat?: string;
}

/** Why a column looks like one of HIPAA Safe Harbor's identifiers, and the mask to start from. */
export interface PhiSuggestion {
  /** The Safe Harbor category, e.g. `social security numbers`. */
  category: string;
  mask: MaskKind;
  /** `name`, `values` or `description`: what gave it away (the first that did). */
  by: 'name' | 'values' | 'description';
  /** One sentence for the `.proto` comment. */
  reason: string;
}

/** A field of the drafted message. */
export interface DraftField {
  name: string;
  /** The source column it reads, when the field's name had to differ. */
  sourceName: string;
  protoType: string;
  required: boolean;
  primaryKey: boolean;
  phi?: PhiSuggestion;
  decimal?: string;
  /** Remarks written above the field (type decisions, guesses). */
  notes: string[];
}

export interface DraftInput {
  /** `namespace.name` of the table. */
  table: string;
  owner: string;
  columns: readonly ColumnFacts[];
  /** Rows the facts were computed on. */
  rowsSampled: number;
  /** The ingestion task's `source` block (type, uri or url, table/query, …) as it will be written. */
  source: Record<string, unknown>;
  /** Where the sample came from, for the header comments (never holding a password). */
  sourceLabel: string;
  taskName?: string;
  /** The task's `mode`; default `replace` (`append` suits a stream). */
  mode?: 'replace' | 'append' | 'merge';
  /** Write no task file (the source is an existing task's). */
  withoutTask?: boolean;
}

export interface DraftFile {
  /** Relative to the catalog repo. */
  path: string;
  text: string;
}

export interface SchemaDraft {
  table: string;
  message: string;
  fields: DraftField[];
  /** The field guessed as primary key, if any. */
  primaryKey?: string;
  /** `schemas/…proto`, `tables/…yaml`, `tasks/…yaml`. */
  files: DraftFile[];
}

const VALUE_SHAPES: readonly { category: string; mask: MaskKind; what: string; pattern: RegExp }[] = [
  {
    category: 'social security numbers',
    mask: 'HASH',
    what: 'an SSN (123-45-6789)',
    pattern: /^\d{3}-\d{2}-\d{4}$/,
  },
  {
    category: 'email addresses',
    mask: 'HASH',
    what: 'an email address',
    pattern: /^[^\s@]+@[^\s@]+\.[a-z]{2,}$/i,
  },
  {
    category: 'telephone numbers',
    mask: 'REDACT',
    what: 'a phone number',
    pattern: /^(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}$|^\+\d{8,15}$/,
  },
  {
    category: 'IP addresses',
    mask: 'HASH',
    what: 'an IPv4 address',
    pattern: /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/,
  },
  { category: 'URLs', mask: 'REDACT', what: 'a URL', pattern: /^https?:\/\/\S+$/i },
  { category: 'postal codes', mask: 'ZIP3', what: 'a ZIP+4 code (12345-6789)', pattern: /^\d{5}-\d{4}$/ },
];

/** Share of non-empty sampled values that must have a shape for the column to be flagged by it. */
const VALUE_SHAPE_SHARE = 0.9;

const DESCRIPTION_PHRASES: readonly { phrase: RegExp; category: string; mask: MaskKind }[] = [
  { phrase: /social security/i, category: 'social security numbers', mask: 'HASH' },
  { phrase: /medical record number/i, category: 'medical record numbers', mask: 'HASH' },
  {
    phrase: /date of (birth|death)|birth ?date|birthday/i,
    category: 'dates related to an individual (birth, death, admission, discharge)',
    mask: 'DATE_YEAR',
  },
  { phrase: /e-?mail address/i, category: 'email addresses', mask: 'HASH' },
  { phrase: /(phone|fax) number/i, category: 'telephone numbers', mask: 'REDACT' },
  {
    phrase: /\b(first|last|full|given|family|middle|patient'?s?) name\b/i,
    category: 'names',
    mask: 'REDACT',
  },
  {
    phrase: /street address|home address|mailing address/i,
    category: 'geographic subdivisions smaller than a state',
    mask: 'REDACT',
  },
  { phrase: /\b(zip|postal) code\b/i, category: 'postal codes', mask: 'ZIP3' },
];

/**
 * The Safe Harbor identifier a column looks like, by its name (`ssn`, `first_name`, `dob`…), the
 * shape of its sampled values (SSNs, emails, phones, IPs, URLs, ZIP+4) or its description, with
 * the mask to start from: HASH for identifiers, REDACT for names, DATE_YEAR for dates, ZIP3 for
 * zips, AGE_90_PLUS for ages. A name that counts or flags one (`zip_code_count`, `has_email`) is
 * not flagged by its name.
 */
export function suggestPhi(column: {
  name: string;
  description?: string;
  samples?: readonly unknown[];
  type?: string;
}): PhiSuggestion | undefined {
  const fieldType = fieldTypeOf(column.type);
  const lookAlike = countsOrFlags(nameTokens(column.name));
  if (!lookAlike) {
    const byName = safeHarborIdentifierOf(column.name, fieldType);
    if (byName)
      return {
        category: byName.category,
        mask: byName.suggestedMask,
        by: 'name',
        reason: `its name suggests ${byName.category}`,
      };
  }
  const texts = (column.samples ?? [])
    .filter((value) => value !== null && value !== undefined)
    .map((value) => String(value).trim())
    .filter((value) => value !== '');
  const numeric = fieldType.kind === 'scalar' && fieldType.sql !== 'VARCHAR';
  if (texts.length > 0 && !numeric && !lookAlike) {
    for (const shape of VALUE_SHAPES) {
      const matching = texts.filter((value) => shape.pattern.test(value)).length;
      if (matching / texts.length >= VALUE_SHAPE_SHARE) {
        const share = Math.floor((100 * matching) / texts.length);
        return {
          category: shape.category,
          mask: shape.mask,
          by: 'values',
          reason: `${share}% of ${texts.length} sampled values look like ${shape.what}`,
        };
      }
    }
  }
  if (column.description && !lookAlike) {
    const hint = DESCRIPTION_PHRASES.find((candidate) => candidate.phrase.test(column.description ?? ''));
    if (hint)
      return {
        category: hint.category,
        mask: hint.mask,
        by: 'description',
        reason: `its description speaks of ${hint.category}`,
      };
  }
  return undefined;
}

/** Lowercase word tokens of a column name: `dateOfBirth` → `date, of, birth`. */
function nameTokens(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

interface MappedType {
  protoType: string;
  fieldType: FieldType;
  decimal?: string;
  note?: string;
}

const SCALAR_PROTO: Readonly<Record<ScalarSqlType, string>> = {
  VARCHAR: 'string',
  INTEGER: 'int32',
  BIGINT: 'int64',
  UINTEGER: 'uint32',
  UBIGINT: 'uint64',
  FLOAT: 'float',
  DOUBLE: 'double',
  BOOLEAN: 'bool',
  BLOB: 'bytes',
  TIMESTAMPTZ: 'google.protobuf.Timestamp',
  DATE: 'google.type.Date',
};

/** A DuckDB type name → the field type it is drafted as. */
function mapEngineType(engineType: string | undefined): MappedType {
  const type = (engineType ?? 'VARCHAR').trim().toUpperCase();
  const scalar = (sql: ScalarSqlType, note?: string): MappedType => ({
    protoType: SCALAR_PROTO[sql],
    fieldType: { kind: 'scalar', sql },
    ...(note ? { note } : {}),
  });
  const decimal = /^(?:DECIMAL|NUMERIC)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type);
  if (decimal)
    return {
      protoType: 'string',
      fieldType: { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) },
      decimal: `${decimal[1]},${decimal[2]}`,
    };
  switch (type) {
    case 'VARCHAR':
    case 'TEXT':
    case 'STRING':
    case 'UUID':
      return scalar('VARCHAR');
    case 'TINYINT':
    case 'SMALLINT':
    case 'INTEGER':
    case 'UTINYINT':
    case 'USMALLINT':
      return scalar('INTEGER');
    case 'BIGINT':
      return scalar('BIGINT');
    case 'UINTEGER':
      return scalar('UINTEGER');
    case 'UBIGINT':
      return scalar('UBIGINT');
    case 'FLOAT':
    case 'REAL':
      return scalar('FLOAT');
    case 'DOUBLE':
      return scalar('DOUBLE');
    case 'BOOLEAN':
      return scalar('BOOLEAN');
    case 'BLOB':
      return scalar('BLOB');
    case 'DATE':
      return scalar('DATE');
    case 'TIMESTAMP':
    case 'TIMESTAMP_S':
    case 'TIMESTAMP_MS':
    case 'TIMESTAMP_NS':
    case 'TIMESTAMPTZ':
    case 'TIMESTAMP WITH TIME ZONE':
      return scalar('TIMESTAMPTZ');
    case 'DECIMAL':
    case 'NUMERIC':
      return scalar('DOUBLE');
    default:
      return scalar('VARCHAR', `sampled as ${type}, which has no field type yet: drafted as text`);
  }
}

function fieldTypeOf(engineType: string | undefined): FieldType {
  return mapEngineType(engineType).fieldType;
}

/** Masks that only fit some types; another suggestion when the column's type does not take it. */
function fitMask(mask: MaskKind, type: FieldType): MaskKind {
  const sql = type.kind === 'scalar' ? type.sql : undefined;
  if (mask === 'DATE_YEAR' && sql !== 'DATE' && sql !== 'TIMESTAMPTZ') return 'REDACT';
  if (mask === 'AGE_90_PLUS' && !['INTEGER', 'BIGINT', 'UINTEGER', 'UBIGINT'].includes(sql ?? ''))
    return 'REDACT';
  if ((mask === 'ZIP3' || mask === 'EMAIL_DOMAIN') && sql !== 'VARCHAR') return 'REDACT';
  return mask;
}

const ISO_FORMATS = new Set(['%Y-%m-%d', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%d %H:%M:%S.%f']);

/** A field name protobuf accepts: `First Name` → `first_name`. */
export function fieldNameOf(columnName: string): string {
  const name = columnName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/_+/g, '_');
  if (name === '') return 'column';
  return /^[a-z]/.test(name) ? name : `f_${name}`;
}

function messageNameOf(table: string): string {
  const name = table.split('.').at(-1) ?? table;
  const pascal = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
  const singular = pascal.endsWith('ies')
    ? `${pascal.slice(0, -3)}y`
    : /[^s]s$/.test(pascal)
      ? pascal.slice(0, -1)
      : pascal;
  return /^[A-Z]/.test(singular) ? singular : `Row${singular}`;
}

const ID_NAME = /(^|_)(id|uuid|guid|key)$/;

/**
 * The `.proto`, table YAML and ingestion task YAML for a table, from what a sample says about its
 * columns. A field is `optional` unless the sample held no NULL in it; a primary key is guessed
 * only for a column unique and never NULL in the sample and named like an id (and said to be a
 * guess); likely PHI gets `sensitivity: PHI` and a mask that fits its type, with a comment saying
 * why; dates and timestamps written in a non-ISO format put `date_formats` / `timestamp_formats`
 * in the task's source options.
 */
export function draftSchemaFiles(input: DraftInput): SchemaDraft {
  const dot = input.table.indexOf('.');
  const namespace = input.table.slice(0, dot);
  const tableName = input.table.slice(dot + 1);
  const message = messageNameOf(input.table);
  const used = new Set<string>();
  const timestampFormats: string[] = [];
  const dateFormats: string[] = [];
  const rows = input.rowsSampled;
  const fields: DraftField[] = input.columns.map((column) => {
    let name = fieldNameOf(column.name);
    for (let n = 2; used.has(name); n++) name = `${fieldNameOf(column.name)}_${n}`;
    used.add(name);
    let mapped = mapEngineType(column.type);
    const notes: string[] = [];
    if (mapped.note) notes.push(mapped.note);
    const phiFound = suggestPhi({ ...column, type: column.type });
    let phi = phiFound;
    if (phi?.mask === 'ZIP3' && mapped.fieldType.kind === 'scalar' && mapped.fieldType.sql !== 'VARCHAR') {
      mapped = mapEngineType('VARCHAR');
      notes.push(
        `sampled as ${column.type ?? 'a number'}; drafted as text so leading zeros of ZIP codes are kept`,
      );
    }
    if (phi) {
      const mask = fitMask(phi.mask, mapped.fieldType);
      phi = { ...phi, mask };
    }
    if (column.dateFormat && !ISO_FORMATS.has(column.dateFormat) && mapped.fieldType.kind === 'scalar') {
      const list =
        mapped.fieldType.sql === 'DATE'
          ? dateFormats
          : mapped.fieldType.sql === 'TIMESTAMPTZ'
            ? timestampFormats
            : undefined;
      if (list && !list.includes(column.dateFormat)) list.push(column.dateFormat);
      if (list) notes.push(`written as ${column.dateFormat} in the source (see the task's source options)`);
    }
    return {
      name,
      sourceName: column.name,
      protoType: mapped.protoType,
      required: column.nullCount === 0 && rows > 0,
      primaryKey: false,
      ...(phi ? { phi } : {}),
      ...(mapped.decimal ? { decimal: mapped.decimal } : {}),
      notes,
    };
  });
  const keyCandidates = fields.filter((field, index) => {
    const column = input.columns[index]!;
    return (
      rows > 0 &&
      field.required &&
      column.distinctCount === rows &&
      ID_NAME.test(field.name) &&
      ['string', 'int32', 'int64', 'uint32', 'uint64'].includes(field.protoType)
    );
  });
  const primary = keyCandidates.find((field) => field.name === 'id') ?? keyCandidates[0];
  if (primary) {
    primary.primaryKey = true;
    primary.notes.push(
      `primary key: a guess — unique and never NULL in the ${rows} sampled rows, and named like an id`,
    );
  }

  const schemaPath = `schemas/${namespace}/${tableName}.proto`;
  const files: DraftFile[] = [
    { path: schemaPath, text: protoText(namespace, message, fields, input) },
    {
      path: `tables/${input.table}.yaml`,
      text: tableYaml(input, `${schemaPath}#${namespace}.${message}`, primary),
    },
  ];
  if (!input.withoutTask)
    files.push({
      path: `tasks/${input.taskName ?? `ingest_${namespace}_${tableName}`}.yaml`,
      text: taskYaml(input, fields, timestampFormats, dateFormats),
    });
  return {
    table: input.table,
    message: `${namespace}.${message}`,
    fields,
    ...(primary ? { primaryKey: primary.name } : {}),
    files,
  };
}

function protoText(namespace: string, message: string, fields: DraftField[], input: DraftInput): string {
  const imports = ['tessera/options.proto'];
  if (fields.some((field) => field.protoType === 'google.protobuf.Timestamp'))
    imports.push('google/protobuf/timestamp.proto');
  if (fields.some((field) => field.protoType === 'google.type.Date')) imports.push('google/type/date.proto');
  const phiCount = fields.filter((field) => field.phi).length;
  const lines = [
    'syntax = "proto3";',
    `package ${namespace};`,
    '',
    ...imports.map((file) => `import "${file}";`),
    '',
    `// Drafted by \`tessera schema infer\` from ${oneLine(input.sourceLabel)} (${input.rowsSampled} rows sampled).`,
    `// Review it: ${phiCount} field(s) flagged as likely PHI with a suggested mask; types, \`optional\``,
    '// and the primary key are what the sample showed, not what the source promises.',
    `message ${message} {`,
  ];
  fields.forEach((field, index) => {
    const columnInput = input.columns[index];
    if (columnInput?.description) lines.push(`  // ${oneLine(columnInput.description)}`);
    for (const note of field.notes) lines.push(`  // ${oneLine(note)}`);
    if (field.phi) {
      lines.push(
        `  // Likely PHI (${field.phi.category}): ${oneLine(field.phi.reason)}. Suggested mask: ${field.phi.mask}.`,
      );
    }
    const options: string[] = [];
    if (field.primaryKey) options.push('primary_key: true');
    if (field.phi) options.push('sensitivity: PHI', `mask: ${field.phi.mask}`);
    if (field.decimal) options.push(`decimal: "${field.decimal}"`);
    const annotation = options.length > 0 ? ` [(tessera.field) = { ${options.join(', ')} }]` : '';
    const presence = field.required ? '' : 'optional ';
    lines.push(`  ${presence}${field.protoType} ${field.name} = ${index + 1}${annotation};`);
  });
  lines.push('}', '');
  return lines.join('\n');
}

function tableYaml(input: DraftInput, schemaRef: string, primary: DraftField | undefined): string {
  const document: Record<string, unknown> = {
    kind: 'table',
    name: input.table,
    owner: input.owner,
    schema: schemaRef,
  };
  if (primary) document.validations = [{ expect_column_values_to_be_unique: { column: primary.name } }];
  return `# Drafted by \`tessera schema infer\`; review before applying.\n${stringify(document, { flowCollectionPadding: true })}`;
}

function taskYaml(
  input: DraftInput,
  fields: DraftField[],
  timestampFormats: string[],
  dateFormats: string[],
): string {
  const source: Record<string, unknown> = { ...input.source };
  const options: Record<string, unknown> = {
    ...((source.options as Record<string, unknown> | undefined) ?? {}),
  };
  if (timestampFormats.length > 0) options.timestamp_formats = timestampFormats;
  if (dateFormats.length > 0) options.date_formats = dateFormats;
  if (Object.keys(options).length > 0) source.options = options;
  const renamed = fields.filter((field) => field.sourceName.toLowerCase() !== field.name);
  if (renamed.length > 0)
    source.columns = Object.fromEntries(renamed.map((field) => [field.sourceName, field.name]));
  const document = {
    kind: 'task',
    name: input.taskName ?? `ingest_${input.table.replace('.', '_')}`,
    type: 'ingestion',
    target: input.table,
    source,
    mode: input.mode ?? 'replace',
  };
  return `# Drafted by \`tessera schema infer\`; add a schedule when it reads what you expect.\n${stringify(document)}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
