import { CompiledQuery, Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { UsageError } from '../diagnostics/index.ts';
import type { CatalogDatabase } from './catalog-database.ts';
import { KyselyCatalogStore } from './kysely-catalog-store.ts';

/** Where and how to open a PostgreSQL catalog. */
export interface PostgresCatalogStoreOptions {
  /** `postgres://user@host:5432/db` (no `schema` parameter: pass `schema` below). */
  url: string;
  /**
   * The schema holding the catalog's tables, created by `migrate()` and put first on every connection's
   * `search_path`. Default: the server's default (usually `public`). Lets tests and teams share a database.
   */
  schema?: string;
  /** Pool size. Default: 10. */
  maxConnections?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/**
 * The shared catalog for teams that outgrow one machine: PostgreSQL through a `pg` pool. Publishers of
 * one table serialize on its row (`SELECT … FOR UPDATE`); everything else is the shared Kysely store.
 */
export class PostgresCatalogStore extends KyselyCatalogStore {
  protected override readonly supportsRowLocks = true;
  private readonly schema: string | undefined;

  constructor(options: PostgresCatalogStoreOptions) {
    const schema = options.schema;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new UsageError(
        `invalid catalog schema name ${JSON.stringify(schema)}: use lowercase letters, digits and _ (e.g. tessera)`,
      );
    }
    const dialect = new PostgresDialect({
      pool: new pg.Pool({ connectionString: options.url, max: options.maxConnections ?? 10 }),
      onCreateConnection: async (connection) => {
        if (schema) await connection.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`));
      },
    });
    super(new Kysely<CatalogDatabase>({ dialect }));
    this.schema = schema;
  }

  /**
   * A transaction-scoped advisory lock per catalog schema: concurrent claimers and enqueuers (servers,
   * workers, the CLI) take turns, so a run is claimed once and a dedupe key merges instead of duplicating.
   */
  protected override async lockRunQueue(trx: Transaction<CatalogDatabase>): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext('tessera.run_queue:' || current_schema()))`.execute(trx);
  }

  /** Kysely's migrator creates this schema (race-safely) before running the migrations into it. */
  protected override get migrationTableSchema(): string | undefined {
    return this.schema;
  }
}
