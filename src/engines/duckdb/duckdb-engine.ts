import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Engine, EngineSession, QueryResult, SessionOptions } from '../engine.ts';
import { quoteLiteral } from '../engine.ts';

/** The embedded default engine: one in-process DuckDB database, a connection per session. */
export class DuckdbEngine implements Engine {
  readonly name = 'duckdb';

  private readonly sandboxes = new Map<string, Promise<DuckDBInstance>>();

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
    const instance = options.sandbox
      ? await this.sandboxInstance(options.sandbox.allowedDirectories)
      : this.instance;
    return new DuckdbSession(await instance.connect());
  }

  /**
   * DuckDB's access settings belong to a database instance, not a connection: setting them on one
   * connection would lock down the platform's own work too. User SQL therefore runs in separate
   * instances, one per set of readable directories, locked once when created.
   */
  private sandboxInstance(allowedDirectories: string[]): Promise<DuckDBInstance> {
    const key = JSON.stringify([...allowedDirectories].sort());
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
    for (const sandbox of this.sandboxes.values()) (await sandbox).closeSync();
    this.instance.closeSync();
  }
}

class DuckdbSession implements EngineSession {
  constructor(private readonly connection: DuckDBConnection) {}

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  async query(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    const names = reader.columnNames();
    const types = reader.columnTypes();
    const columns = names.map((name, index) => ({ name, type: types[index]!.toString() }));
    const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
    for (const column of columns) {
      const convert = valueConverter(column.type);
      if (!convert) continue;
      for (const row of rows) {
        const value = row[column.name];
        if (typeof value === 'string') row[column.name] = convert(value);
      }
    }
    return { columns, rows };
  }

  interrupt(): void {
    this.connection.interrupt();
  }

  close(): void {
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
