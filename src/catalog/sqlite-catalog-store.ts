import Database from 'better-sqlite3';
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

/**
 * The embedded catalog: one SQLite file in WAL mode, so readers never block the writer and other
 * processes (`tessera run` beside `tessera serve`) can share it. The file opens on first use.
 */
export class SqliteCatalogStore extends KyselyCatalogStore {
  constructor(options: SqliteCatalogStoreOptions) {
    const dialect = new SqliteCatalogDialect({
      database: async () => {
        const database = new Database(options.path, { timeout: options.busyTimeoutMs ?? 10_000 });
        // In-memory databases answer `memory` here and stay in their own journal mode.
        database.pragma('journal_mode = WAL');
        return database;
      },
    });
    super(new Kysely<CatalogDatabase>({ dialect }));
  }
}
