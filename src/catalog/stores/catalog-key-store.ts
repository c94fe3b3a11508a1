import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogKeys } from '../catalog-store.ts';
import type { CatalogConnection } from './catalog-connection.ts';

/** Secrets the catalog generated for itself (e.g. the hash key). */
export class KyselyCatalogKeyStore implements CatalogKeys {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async catalogKey(name: string): Promise<string> {
    const stored = await this.readCatalogKey(name);
    if (stored !== undefined) return stored;
    // Insert if absent, then read back: of two processes opening a fresh catalog at once, the
    // first insert wins and both return its key.
    await this.db
      .insertInto('catalog_keys')
      .values({ name, key_hex: randomBytes(32).toString('hex'), created_at: new Date().toISOString() })
      .onConflict((conflict) => conflict.column('name').doNothing())
      .execute();
    const key = await this.readCatalogKey(name);
    if (key === undefined) throw new Error(`catalog key ${name} is missing right after it was inserted`);
    return key;
  }

  private async readCatalogKey(name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('catalog_keys')
      .select('key_hex')
      .where('name', '=', name)
      .executeTakeFirst();
    return row?.key_hex;
  }
}
