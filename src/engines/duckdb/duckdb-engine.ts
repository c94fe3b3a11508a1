import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type {
  ColumnInfo,
  Engine,
  EngineSession,
  QueryResult,
  ReadOptions,
  SessionOptions,
} from '../engine.ts';
import { quoteLiteral } from '../engine.ts';
import { duckdbDialect } from './duckdb-dialect.ts';

/** Idle connections kept per kind of session (`SessionOptions.reuse`): enough for queries in parallel. */
const MAX_IDLE_CONNECTIONS = 8;

/** The embedded default engine: one in-process DuckDB database, a connection per session. */
export class DuckdbEngine implements Engine {
  readonly name = 'duckdb';
  readonly dialect = duckdbDialect;

  private readonly sandboxes = new Map<string, Promise<DuckDBInstance>>();
  /** Connections of closed reusable sessions, by kind (the sandbox's key, or '' for the platform's). */
  private readonly idle = new Map<string, DuckDBConnection[]>();
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly config: Record<string, string>,
  ) {}

  /** Opens an in-memory DuckDB; `threads` defaults to DuckDB's own choice (all cores). */
  static async create(options: { threads?: number; memoryLimit?: string } = {}): Promise<DuckdbEngine> {
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    return new DuckdbEngine(await DuckDBInstance.create(':memory:', config), config);
  }

  async openSession(options: SessionOptions = {}): Promise<EngineSession> {
    const kind = options.sandbox ? sandboxKey(options.sandbox.allowedDirectories) : '';
    if (!options.reuse) return new DuckdbSession(await this.connect(options));
    const idle = this.idle.get(kind)?.pop();
    return new DuckdbSession(idle ?? (await this.connect(options)), (connection) => {
      const connections = this.idle.get(kind) ?? [];
      if (this.closed || connections.length >= MAX_IDLE_CONNECTIONS) return false;
      connections.push(connection);
      this.idle.set(kind, connections);
      return true;
    });
  }

  private async connect(options: SessionOptions): Promise<DuckDBConnection> {
    const instance = options.sandbox
      ? await this.sandboxInstance(options.sandbox.allowedDirectories)
      : this.instance;
    return instance.connect();
  }

  /**
   * DuckDB's access settings belong to a database instance, not a connection: setting them on one
   * connection would lock down the platform's own work too. User SQL therefore runs in separate
   * instances, one per set of readable directories, locked once when created.
   */
  private sandboxInstance(allowedDirectories: string[]): Promise<DuckDBInstance> {
    const key = sandboxKey(allowedDirectories);
    let instance = this.sandboxes.get(key);
    if (!instance) {
      instance = (async () => {
        const sandbox = await DuckDBInstance.create(':memory:', this.config);
        const connection = await sandbox.connect();
        // Order matters: directories first, then cut external access, then freeze the settings.
        const directories = allowedDirectories.map(quoteLiteral).join(', ');
        await connection.run(`SET allowed_directories = [${directories}]`);
        await connection.run('SET enable_external_access = false');
        await connection.run('SET lock_configuration = true');
        connection.closeSync();
        return sandbox;
      })();
      this.sandboxes.set(key, instance);
    }
    return instance;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const connections of this.idle.values())
      for (const connection of connections) connection.closeSync();
    this.idle.clear();
    for (const sandbox of this.sandboxes.values()) (await sandbox).closeSync();
    this.instance.closeSync();
  }

  async openScratchSession(): Promise<EngineSession> {
    // An instance per session: settings and objects belong to a database, and nothing may be shared.
    const scratch = await DuckDBInstance.create(':memory:', {
      threads: '1',
      enable_external_access: 'false',
    });
    const connection = await scratch.connect();
    await connection.run('SET lock_configuration = true');
    return new DuckdbSession(connection, (closing) => {
      closing.closeSync();
      scratch.closeSync();
      return true;
    });
  }
}

function sandboxKey(allowedDirectories: string[]): string {
  return JSON.stringify([...allowedDirectories].sort());
}

class DuckdbSession implements EngineSession {
  private interrupted = false;
  private closed = false;

  constructor(
    private readonly connection: DuckDBConnection,
    /** Takes the connection of a reusable session when it closes; false: close it. */
    private readonly keepIdle?: (connection: DuckDBConnection) => boolean,
  ) {}

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  async query(sql: string, options: ReadOptions = {}): Promise<QueryResult> {
    const { maxRows } = options;
    // With a row limit the result is streamed and reading stops one row past it (whole chunks are
    // read, so slice); without one, materializing at once is faster for the small answers most are.
    const reader =
      maxRows === undefined
        ? await this.connection.runAndReadAll(sql)
        : await this.connection.streamAndReadUntil(sql, maxRows + 1);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    const columns = names.map((name, index) => ({ name, type: types[index]!.toString() }));
    let rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    const truncated = maxRows !== undefined && rows.length > maxRows;
    if (truncated) rows = rows.slice(0, maxRows);
    for (const column of columns) {
      const convert = valueConverter(column.type);
      if (!convert) continue;
      for (const row of rows) {
        const value = row[column.name];
        if (typeof value === 'string') row[column.name] = convert(value);
      }
    }
    return truncated ? { columns, rows, truncated } : { columns, rows };
  }

  async describe(sql: string): Promise<ColumnInfo[]> {
    const prepared = await this.connection.prepare(sql);
    try {
      return Array.from({ length: prepared.columnCount }, (_, index) => ({
        name: prepared.columnName(index),
        type: prepared.columnType(index).toString(),
      }));
    } finally {
      prepared.destroySync();
    }
  }

  interrupt(): void {
    this.interrupted = true;
    this.connection.interrupt();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // An interrupted connection is not handed to the next caller: the interruption could reach it.
    if (!this.interrupted && this.keepIdle?.(this.connection)) return;
    this.connection.closeSync();
  }
}

/**
 * DuckDB's JSON conversion gives every 64-bit integer and decimal as a string and timestamps in
 * SQL spelling. Hand callers numbers where they are exact, and ISO-8601 timestamps.
 */
function valueConverter(type: string): ((value: string) => unknown) | undefined {
  if (/^(BIGINT|UBIGINT|HUGEINT|UHUGEINT)$/.test(type)) {
    return (value) => (Number.isSafeInteger(Number(value)) ? Number(value) : value);
  }
  if (type.startsWith('DECIMAL')) {
    return (value) =>
      String(Number(value)) === (value.includes('.') ? value.replace(/\.?0+$/, '') : value)
        ? Number(value)
        : value;
  }
  if (type === 'TIMESTAMP WITH TIME ZONE') {
    return (value) => value.replace(' ', 'T').replace(/\+00$/, 'Z');
  }
  if (type === 'TIMESTAMP') return (value) => value.replace(' ', 'T');
  return undefined;
}
