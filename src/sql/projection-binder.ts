import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbDialect } from '../engines/dialect.ts';
import type { FieldDef } from '../model/index.ts';

/** A column of a table the binder knows: its name and DuckDB type (`VARCHAR`, `DECIMAL(10,2)`, `INTEGER[]`). */
export interface BoundColumn {
  name: string;
  type: string;
}

/** Where DuckDB's binder stopped, as a position in the SQL text that was bound. */
export interface BindFailure {
  /** DuckDB's message without its `LINE n:` excerpt, e.g. `Binder Error: Referenced column "x" not found…`. */
  message: string;
  /** 1-based line and column in the SQL text, when DuckDB named a position. */
  line?: number;
  column?: number;
}

/** The outcome of binding one query: the columns it returns, or why it does not bind. */
export type BindOutcome = { columns: BoundColumn[] } | { failure: BindFailure };

/**
 * Binds queries against empty tables of given schemas in a private in-memory DuckDB, without
 * running them: unknown columns, functions and type errors come back with their position in the
 * query's text. The database never holds a row and reaches no file or network (external access
 * and extension loading are off), so binding a catalog repo's projections stays pure.
 */
export class ProjectionBinder {
  private readonly created = new Map<string, string>();

  private constructor(
    private readonly instance: DuckDBInstance,
    /** The first defines tables; binding uses all of them at once (each prepares on its own thread). */
    private readonly connections: DuckDBConnection[],
  ) {}

  private get connection(): DuckDBConnection {
    return this.connections[0]!;
  }

  static async open(): Promise<ProjectionBinder> {
    const instance = await DuckDBInstance.create(':memory:', {
      threads: '1',
      enable_external_access: 'false',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const connections = await Promise.all(
      Array.from({ length: BINDING_CONNECTIONS }, async () => {
        const connection = await instance.connect();
        // Preparing plans and optimizes too; binding is all this needs, and the optimizer was most of the cost.
        await connection.run('PRAGMA disable_optimizer');
        return connection;
      }),
    );
    return new ProjectionBinder(instance, connections);
  }

  /**
   * Make these tables (`namespace.name` → columns) exist, empty, in one call; a table whose
   * columns changed is created again. Returns the names DuckDB refused to create (a namespace it
   * reserves, such as `information_schema` or `temp`): what reads them cannot be bound.
   */
  async defineTables(tables: Iterable<[string, BoundColumn[]]>): Promise<Set<string>> {
    const statements: { name: string; definition: string; sql: string }[] = [];
    for (const [name, columns] of tables) {
      const definition = columns.map((column) => `${quote(column.name)} ${column.type}`).join(', ');
      if (this.created.get(name) === definition) continue;
      const [namespace, table] = splitName(name);
      const qualified = namespace === undefined ? quote(table) : `${quote(namespace)}.${quote(table)}`;
      // A table without columns cannot exist; one placeholder column keeps `SELECT count(*)` bindable.
      const create = this.created.has(name) ? 'CREATE OR REPLACE TABLE' : 'CREATE TABLE';
      const schema = namespace === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS ${quote(namespace)};\n`;
      statements.push({
        name,
        definition,
        sql: `${schema}${create} ${qualified} (${definition || '"?" INTEGER'});\n`,
      });
    }
    const refused = new Set<string>();
    if (statements.length === 0) return refused;
    try {
      await this.connection.run(`BEGIN;\n${statements.map((statement) => statement.sql).join('')}COMMIT;`);
    } catch {
      // One table refused: the others one at a time, outside that transaction.
      await this.connection.run('ROLLBACK').catch(() => {});
      for (const statement of statements) {
        try {
          await this.connection.run(statement.sql);
        } catch {
          refused.add(statement.name);
        }
      }
    }
    for (const statement of statements) {
      if (!refused.has(statement.name)) this.created.set(statement.name, statement.definition);
    }
    return refused;
  }

  /** Bind `sql` (one SELECT) against the tables defined so far; never runs it. */
  bind(sql: string): Promise<BindOutcome> {
    return bindOn(this.connection, sql);
  }

  /** `bind` each of `sqls`, spread over the binder's connections; outcomes in the same order. */
  async bindAll(sqls: readonly string[]): Promise<BindOutcome[]> {
    const outcomes: BindOutcome[] = new Array<BindOutcome>(sqls.length);
    await Promise.all(
      this.connections.map(async (connection, first) => {
        for (let index = first; index < sqls.length; index += this.connections.length) {
          outcomes[index] = await bindOn(connection, sqls[index]!);
        }
      }),
    );
    return outcomes;
  }

  close(): void {
    for (const connection of this.connections) connection.closeSync();
    this.instance.closeSync();
  }
}

/** Connections binding at once: the machines Tessera targets have two cores or more. */
const BINDING_CONNECTIONS = 2;

async function bindOn(connection: DuckDBConnection, sql: string): Promise<BindOutcome> {
  try {
    const prepared = await connection.prepare(sql);
    const columns: BoundColumn[] = [];
    for (let index = 0; index < prepared.columnCount; index++) {
      columns.push({ name: prepared.columnName(index), type: prepared.columnType(index).toString() });
    }
    prepared.destroySync();
    return { columns };
  } catch (error) {
    return { failure: bindFailure(sql, error instanceof Error ? error.message : String(error)) };
  }
}

/**
 * DuckDB's message split into what happened and where: its `LINE n: excerpt` and caret lines give
 * the line (of the text bound) and, found in that line's text, the column. A long line's excerpt
 * is cut with `...` at either end; the column is found by locating the excerpt in the line.
 */
export function bindFailure(sql: string, message: string): BindFailure {
  const context = /\n*LINE (\d+): (.*)\n( *)\^\s*$/.exec(message);
  if (!context) return { message: message.trim() };
  const text = message.slice(0, context.index).trim();
  const line = Number(context[1]);
  const prefix = `LINE ${context[1]}: `.length;
  const caret = context[3]!.length - prefix;
  const excerpt = context[2]!;
  const lineText = sql.split(/\r?\n/)[line - 1];
  if (lineText === undefined || caret < 0) return { message: text, line };
  const cutBefore = excerpt.startsWith('...') ? 3 : 0;
  const shown = excerpt.slice(cutBefore).replace(/\.\.\.$/, '');
  const start = cutBefore === 0 ? 0 : lineText.indexOf(shown);
  if (start < 0) return { message: text, line };
  return { message: text, line, column: start + (caret - cutBefore) + 1 };
}

function splitName(name: string): [string | undefined, string] {
  const dot = name.indexOf('.');
  return dot < 0 ? [undefined, name] : [name.slice(0, dot), name.slice(dot + 1)];
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/** The binder's columns for a table's fields, typed as a projection reads them from its files. */
export function boundColumnsOf(fields: readonly FieldDef[]): BoundColumn[] {
  return fields.map((field) => ({ name: field.name, type: duckdbDialect.columnType(field.type) }));
}
