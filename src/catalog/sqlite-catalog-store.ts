import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { Kysely } from 'kysely';
import type { CatalogDatabase } from './catalog-database.ts';
import { KyselyCatalogStore } from './kysely-catalog-store.ts';
import { SqliteCatalogDialect } from './sqlite-catalog-dialect.ts';

/** Where and how to open a SQLite catalog. */
export interface SqliteCatalogStoreOptions {
  /** A file path (its folder must exist) or `:memory:` (private to this store, gone on close). */
  path: string;
  /** How long a writer waits for another process's write lock before failing. Default: 10 000 ms. */
  busyTimeoutMs?: number;
}

/** The catalog holds tokens' hashes, the audit log and the generated hash key: its owner's alone. */
const PRIVATE_FILE_MODE = 0o600;

/**
 * The embedded catalog: one SQLite file in WAL mode, so readers never block the writer and other
 * processes (`tessera run` beside `tessera serve`) can share it. The file opens on first use.
 * The database file and its `-wal` / `-shm` companions are mode 0600 whatever the umask: the file
 * is created 0600 before SQLite opens it (SQLite gives its companions the database file's mode),
 * and all three are made 0600 once open, which also tightens a catalog an older version created.
 */
export class SqliteCatalogStore extends KyselyCatalogStore {
  constructor(options: SqliteCatalogStoreOptions) {
    const dialect = new SqliteCatalogDialect({
      database: async () => {
        const onDisk = options.path !== ':memory:';
        if (onDisk) closeSync(openSync(options.path, 'a', PRIVATE_FILE_MODE));
        const database = new Database(options.path, { timeout: options.busyTimeoutMs ?? 10_000 });
        // In-memory databases answer `memory` here and stay in their own journal mode.
        database.pragma('journal_mode = WAL');
        if (onDisk) {
          for (const file of [options.path, `${options.path}-wal`, `${options.path}-shm`]) {
            if (existsSync(file)) chmodSync(file, PRIVATE_FILE_MODE);
          }
        }
        return withStatementCache(database);
      },
    });
    super(new Kysely<CatalogDatabase>({ dialect }));
  }
}

/** How many prepared statements a catalog connection keeps: Kysely's queries are a few dozen texts. */
const STATEMENT_CACHE_LIMIT = 500;

/**
 * better-sqlite3 compiles a statement on every `prepare`, and Kysely prepares every query it runs:
 * keep the compiled statements by SQL text (least recently used dropped first) and rebind them.
 * SQLite recompiles a kept statement itself when the schema changes. Kysely holds the one
 * connection while it reads a statement's rows, so a kept statement is never run twice at once.
 */
function withStatementCache(database: Database.Database): Database.Database {
  const statements = new Map<string, Database.Statement>();
  const prepare = database.prepare.bind(database);
  database.prepare = ((source: string) => {
    let statement = statements.get(source);
    if (statement) {
      statements.delete(source);
    } else {
      statement = prepare(source);
      if (statements.size >= STATEMENT_CACHE_LIMIT) statements.delete(statements.keys().next().value!);
    }
    statements.set(source, statement);
    return statement;
  }) as Database.Database['prepare'];
  return database;
}
