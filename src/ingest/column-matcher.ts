import { RunFailedError } from '../diagnostics/errors.ts';
import type { FieldDef, TaskDef } from '../model/index.ts';

/** A field and the source column that feeds it; no column means the (optional) field is NULL. */
export interface ColumnMatch {
  field: FieldDef;
  sourceColumn?: string;
}

export interface ColumnMatching {
  /** One entry per field, in schema order. */
  matches: ColumnMatch[];
  /** Source columns that feed no field, in source order. */
  unmatchedSourceColumns: string[];
  /** Optional fields with no source column (they will be NULL). */
  missingOptionalFields: string[];
}

const MAX_LISTED_COLUMNS = 20;

/**
 * Pairs fields with source columns: `source.columns` (source name → field name) first, then same
 * name case-insensitively. A required field without a column fails the run, naming the file, the
 * field, the columns found and how to map one.
 */
export function matchColumns(
  task: TaskDef,
  fields: FieldDef[],
  sourceColumns: string[],
  fileLabel: string,
): ColumnMatching {
  const context = { task: task.name, table: task.target };
  const fieldsByName = new Map(fields.map((field) => [field.name, field]));
  const used = new Set<string>();
  const columnOfField = new Map<string, string>();
  const problems: string[] = [];

  for (const [sourceName, fieldName] of Object.entries(task.source?.columns ?? {})) {
    if (!fieldsByName.has(fieldName)) {
      problems.push(
        `${fileLabel}: \`columns\` maps ${sourceName} to \`${fieldName}\`, which is not a field of ${task.target} ` +
          `(fields: ${fields.map((field) => field.name).join(', ')})`,
      );
      continue;
    }
    const column = findColumn(sourceName, sourceColumns, new Set());
    if (column === undefined) continue; // reported below if the field is required
    if (typeof column !== 'string') {
      problems.push(ambiguity(fileLabel, sourceName, column.candidates));
      continue;
    }
    columnOfField.set(fieldName, column);
    used.add(column);
  }

  const missingOptionalFields: string[] = [];
  const matches = fields.map((field): ColumnMatch => {
    const mapped = columnOfField.get(field.name);
    if (mapped !== undefined) return { field, sourceColumn: mapped };
    const column = findColumn(field.name, sourceColumns, used);
    if (typeof column === 'string') {
      used.add(column);
      return { field, sourceColumn: column };
    }
    if (column) {
      problems.push(ambiguity(fileLabel, field.name, column.candidates));
    } else if (!field.nullable) {
      problems.push(missingRequired(fileLabel, field.name, sourceColumns, task.source?.columns ?? {}));
    } else {
      missingOptionalFields.push(field.name);
    }
    return { field };
  });

  if (problems.length > 0) throw new RunFailedError(problems.join('\n'), context);
  return {
    matches,
    unmatchedSourceColumns: sourceColumns.filter((column) => !used.has(column)),
    missingOptionalFields,
  };
}

/** The exact name, else the one column equal ignoring case; several such columns are ambiguous. */
function findColumn(
  name: string,
  sourceColumns: string[],
  used: Set<string>,
): string | { candidates: string[] } | undefined {
  const available = sourceColumns.filter((column) => !used.has(column));
  if (available.includes(name)) return name;
  const candidates = available.filter((column) => column.toLowerCase() === name.toLowerCase());
  if (candidates.length === 1) return candidates[0];
  return candidates.length > 1 ? { candidates } : undefined;
}

function ambiguity(fileLabel: string, name: string, candidates: string[]): string {
  return (
    `${fileLabel}: \`${name}\` matches several source columns (${candidates.join(', ')}); ` +
    `pick one with \`columns: { ${candidates[0]}: ${name} }\``
  );
}

function missingRequired(
  fileLabel: string,
  fieldName: string,
  sourceColumns: string[],
  mapping: Record<string, string>,
): string {
  const listed = sourceColumns.slice(0, MAX_LISTED_COLUMNS).join(', ');
  const found = sourceColumns.length > MAX_LISTED_COLUMNS ? `${listed}, …` : listed;
  const mappedFrom = Object.entries(mapping).find(([, field]) => field === fieldName)?.[0];
  const why = mappedFrom
    ? `is mapped from \`${mappedFrom}\`, which is not a source column`
    : 'has no source column';
  return (
    `${fileLabel}: required field \`${fieldName}\` ${why} (columns found: ${found}); ` +
    `map one with \`columns: { SOURCE_NAME: ${fieldName} }\``
  );
}
