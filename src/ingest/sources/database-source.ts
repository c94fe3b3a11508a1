/**
 * What the PostgreSQL and MySQL readers share: the SQL that reads a source table or query in full
 * or past its cursor (pure, no connection), the cursor they store, the task rewritten to read the
 * staged CSV, and the wording of their failures. Each reader runs the SQL its own way.
 */
import { join } from 'node:path';
import { RunFailedError } from '../../diagnostics/index.ts';
import type { DatabaseSourceDef, FieldDef, TaskDef } from '../../model/index.ts';

/** More rows than this at the high-water mark: their keys are not kept, and the next run reads strictly past it. */
export const MAX_KEYS_AT_MARK = 10_000;

/**
 * Where an incremental database source read up to, stored with the version it was published in.
 * Rows are read when `cursor > mark`, or `cursor = mark` with a key not in `keysAtMark`: a row
 * written later with the same cursor value (a timestamp of coarse precision, a clock that repeats)
 * is still read, and the rows already read at the mark are not read again.
 */
export interface DatabaseCursor {
  /** The cursor column the mark belongs to; another column starts over with a full read. */
  column: string;
  /** The greatest cursor value read, as the database spells it as text. */
  mark: string;
  /** Whether the mark is a number (MySQL compares a number to a quoted text as a double). */
  numeric?: boolean;
  /** The primary keys (as text, in key order) of the rows read at the mark; absent: read strictly past it. */
  keysAtMark?: string[][];
}

/** How a database spells what the shared SQL needs. */
export interface SqlDialect {
  /** `postgres` or `mysql`, for messages. */
  name: string;
  quoteIdentifier(name: string): string;
  quoteText(value: string): string;
  /** A key column's value as text, comparable with the texts `keysAtMark` holds. */
  keyText(expression: string): string;
}

export const POSTGRES_DIALECT: SqlDialect = {
  name: 'postgres',
  quoteIdentifier: (name) => `"${name.replaceAll('"', '""')}"`,
  // Sessions run with standard_conforming_strings on (the default), so a backslash is literal.
  quoteText: (value) => `'${value.replaceAll("'", "''")}'`,
  keyText: (expression) => `(${expression})::text`,
};

export const MYSQL_DIALECT: SqlDialect = {
  name: 'mysql',
  quoteIdentifier: (name) => `\`${name.replaceAll('`', '``')}\``,
  // Sessions run with NO_BACKSLASH_ESCAPES off (the default): backslashes are escaped too.
  quoteText: (value) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`,
  // Binary, so keys differing only in case (under a case-insensitive collation) stay apart.
  keyText: (expression) => `CAST(${expression} AS BINARY)`,
};

/** The SQL of one read, built from the source, its previous cursor and the target's primary key. */
export class DatabaseReadPlan {
  readonly source: DatabaseSourceDef;
  /** The previous cursor when it applies to this source's cursor column. */
  readonly previous: DatabaseCursor | undefined;
  /** Source column names of the target's primary key (`source.columns` mappings applied). */
  readonly keyColumns: string[];

  constructor(
    readonly dialect: SqlDialect,
    task: TaskDef,
    fields: FieldDef[],
    previousCursor: unknown,
  ) {
    this.source = databaseSourceOf(task);
    const previous = asDatabaseCursor(previousCursor);
    this.previous = previous && previous.column === this.source.cursor ? previous : undefined;
    const sourceColumnOf = new Map(
      Object.entries(task.source?.columns ?? {}).map(([column, field]) => [field.toLowerCase(), column]),
    );
    this.keyColumns = fields
      .filter((field) => field.primaryKey)
      .map((field) => sourceColumnOf.get(field.name.toLowerCase()) ?? field.name);
  }

  /** What is read, for messages: `table public.orders` or `query`. */
  get description(): string {
    return this.source.table !== undefined ? `table ${this.source.table}` : 'query';
  }

  /** The source's rows as a relation named `tessera_source`. */
  relation(): string {
    if (this.source.table !== undefined) {
      const name = this.source.table.split('.').map(this.dialect.quoteIdentifier).join('.');
      return `${name} AS tessera_source`;
    }
    const query = (this.source.query ?? '').trim().replace(/;+\s*$/, '');
    return `(${query}) AS tessera_source`;
  }

  private cursorColumn(): string {
    return this.dialect.quoteIdentifier(this.source.cursor!);
  }

  private literal(value: string, numeric: boolean | undefined): string {
    // A numeric mark came from the database as a number; it is checked before it goes in unquoted.
    if (numeric && /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(value)) return value;
    return this.dialect.quoteText(value);
  }

  /** The rows not read yet: past the previous mark, or at it with a key not read then. */
  private newRowsCondition(): string | undefined {
    const previous = this.previous;
    if (!previous) return undefined;
    const column = this.cursorColumn();
    const mark = this.literal(previous.mark, previous.numeric);
    const keys = previous.keysAtMark;
    if (!keys || this.keyColumns.length === 0) return `${column} > ${mark}`;
    if (keys.length === 0) return `${column} >= ${mark}`;
    const key =
      this.keyColumns.length === 1
        ? this.dialect.keyText(this.dialect.quoteIdentifier(this.keyColumns[0]!))
        : `(${this.keyColumns.map((name) => this.dialect.keyText(this.dialect.quoteIdentifier(name))).join(', ')})`;
    const tuples = keys.map((tuple) =>
      tuple.length === 1
        ? this.dialect.quoteText(tuple[0]!)
        : `(${tuple.map((part) => this.dialect.quoteText(part)).join(', ')})`,
    );
    return `(${column} > ${mark} OR (${column} = ${mark} AND ${key} NOT IN (${tuples.join(', ')})))`;
  }

  /** The greatest cursor value among the new rows (one row, column `mark`; NULL when none). */
  markSql(markAsText: (expression: string) => string): string {
    const condition = this.newRowsCondition();
    return (
      `SELECT ${markAsText(`max(${this.cursorColumn()})`)} AS mark FROM ${this.relation()}` +
      (condition ? ` WHERE ${condition}` : '')
    );
  }

  /** The primary keys (as text) of the rows at the new mark, one more than kept to tell "too many". */
  keysAtMarkSql(mark: string, numeric: boolean | undefined): string | undefined {
    if (this.keyColumns.length === 0) return undefined;
    const keys = this.keyColumns.map(
      (name, index) => `${this.dialect.keyText(this.dialect.quoteIdentifier(name))} AS k${index}`,
    );
    return (
      `SELECT ${keys.join(', ')} FROM ${this.relation()} ` +
      `WHERE ${this.cursorColumn()} = ${this.literal(mark, numeric)} LIMIT ${MAX_KEYS_AT_MARK + 1}`
    );
  }

  /** The rows to stage: all of them, or the new ones up to the new mark. */
  rowsSql(newMark?: { mark: string; numeric?: boolean }): string {
    const conditions = [this.newRowsCondition()];
    if (newMark && this.source.cursor !== undefined) {
      conditions.push(`${this.cursorColumn()} <= ${this.literal(newMark.mark, newMark.numeric)}`);
    }
    const where = conditions.filter((condition) => condition !== undefined);
    return `SELECT * FROM ${this.relation()}` + (where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '');
  }

  /** The cursor to store after reading up to `mark`. */
  nextCursor(mark: string, numeric: boolean | undefined, keys: string[][] | undefined): DatabaseCursor {
    return {
      column: this.source.cursor!,
      mark,
      ...(numeric ? { numeric: true } : {}),
      ...(keys && keys.length <= MAX_KEYS_AT_MARK ? { keysAtMark: keys } : {}),
    };
  }
}

export function databaseSourceOf(task: TaskDef): DatabaseSourceDef {
  const database = task.source?.database;
  if (!database) {
    throw new RunFailedError(
      `task ${task.name}: a ${task.source?.type ?? 'database'} source needs a \`url\` and a \`table\` or \`query\`; run \`tessera validate\``,
      { task: task.name, table: task.target },
    );
  }
  return database;
}

function asDatabaseCursor(value: unknown): DatabaseCursor | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const cursor = value as Partial<DatabaseCursor>;
  if (typeof cursor.column !== 'string' || typeof cursor.mark !== 'string') return undefined;
  return cursor as DatabaseCursor;
}

/** Say so when the stored cursor belongs to another column: the read starts over in full. */
export function reportCursorChange(
  plan: DatabaseReadPlan,
  cursor: unknown,
  log: (message: string) => void,
): void {
  const stored = cursor as { column?: unknown } | undefined;
  if (plan.previous || typeof stored?.column !== 'string') return;
  log(
    plan.source.cursor === undefined
      ? `source.cursor was removed (it was ${stored.column}): reading every row`
      : `source.cursor changed from ${stored.column} to ${plan.source.cursor}: reading every row`,
  );
}

/** `1 row`, `50,000 rows`. */
export function rowsText(count: number): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'row' : 'rows'}`;
}

/** Conform options a database source passes on to the staged CSV; the CSV dialect itself is fixed. */
const PASSED_OPTIONS = ['null_values', 'timestamp_formats', 'date_formats'];

/** The staged CSV file of a run. */
export function stagedCsvFile(stagingFolder: string): { folder: string; file: string } {
  const folder = join(stagingFolder, 'source');
  return { folder, file: join(folder, 'rows.csv') };
}

/** The task as the file pipeline reads it: the staged CSV, with the source's column mappings. */
export function stagedCsvTask(task: TaskDef, file: string): TaskDef {
  const options = task.source?.options ?? {};
  return {
    ...task,
    source: {
      type: 'csv',
      uri: file,
      options: {
        header: true,
        delimiter: ',',
        quote: '"',
        escape: '"',
        ...Object.fromEntries(
          PASSED_OPTIONS.filter((name) => name in options).map((name) => [name, options[name]]),
        ),
      },
      columns: task.source?.columns ?? {},
    },
  };
}

/** The URL without its password, to name the server in messages. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    parsed.search = '';
    return parsed.toString();
  } catch {
    return '(source.url, not a valid URL)';
  }
}

/** An error's text with the URL's password (raw and decoded) taken out. */
export function errorTextWithout(error: unknown, url: string): string {
  let text = describeError(error);
  try {
    const password = new URL(url).password;
    for (const secret of [password, decodeURIComponentSafe(password)]) {
      if (secret.length >= 4) text = text.split(secret).join('***');
    }
  } catch {
    // Not a URL: nothing to take out.
  }
  return text;
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '' && error.errors.length > 0) {
    return describeError(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return error.message !== '' ? error.message : (code ?? error.name);
  }
  return String(error);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The database's reason a read failed, translated into what the task should change. */
export function readFailure(
  task: TaskDef,
  plan: DatabaseReadPlan,
  kind: 'connect' | 'no-table' | 'no-column' | 'other',
  error: unknown,
): RunFailedError {
  const source = plan.source;
  const where = `source.url in ${task.at.file}`;
  const reason = errorTextWithout(error, source.url);
  const type = plan.dialect.name;
  const context = { task: task.name, table: task.target };
  switch (kind) {
    case 'connect':
      return new RunFailedError(
        `task ${task.name}: cannot connect to the ${type} source at ${displayUrl(source.url)}: ${reason}; check ${where} (host, port, database, user, password) and that the database server is running`,
        context,
        { cause: error },
      );
    case 'no-table':
      return new RunFailedError(
        source.table !== undefined
          ? `task ${task.name}: the ${type} source has no table ${source.table} (${reason}); check source.table in ${task.at.file}, or create the table`
          : `task ${task.name}: the ${type} source's query reads a table that does not exist (${reason}); check source.query in ${task.at.file}`,
        context,
        { cause: error },
      );
    case 'no-column':
      return new RunFailedError(
        `task ${task.name}: the ${type} source's ${plan.description} has no such column (${reason}); check source.cursor${plan.keyColumns.length > 0 ? ` and the primary key's source columns (${plan.keyColumns.join(', ')}; map them in source.columns)` : ''} in ${task.at.file}`,
        context,
        { cause: error },
      );
    default:
      return new RunFailedError(
        `task ${task.name}: reading the ${type} source's ${plan.description} failed: ${reason}; check source.${source.table !== undefined ? 'table' : 'query'} in ${task.at.file}`,
        context,
        { cause: error },
      );
  }
}
