import type { Kysely, Transaction } from 'kysely';
import type { CatalogDatabase } from '../catalog-database.ts';

/** A transaction on the catalog database. */
export type CatalogTransaction = Transaction<CatalogDatabase>;

/**
 * What every per-concern store shares: one Kysely instance over the catalog database and the
 * adapter's capabilities (see `KyselyCatalogStore`, which fills them in).
 */
export interface CatalogConnection {
  /** The one Kysely instance (one pool or one SQLite connection) all stores query through. */
  readonly db: Kysely<CatalogDatabase>;
  /**
   * True where `SELECT … FOR UPDATE` locks a row until commit (PostgreSQL): publishers of one table then
   * queue on its row. False where write transactions already exclude each other (SQLite `BEGIN IMMEDIATE`).
   */
  readonly supportsRowLocks: boolean;
  /**
   * Serialize run-queue writers (enqueue with a dedupe key, claim) until the transaction ends; does
   * nothing where write transactions already exclude each other.
   */
  lockRunQueue(trx: CatalogTransaction): Promise<void>;
}
