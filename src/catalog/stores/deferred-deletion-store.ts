import type { Kysely } from 'kysely';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogDeferredDeletions } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { batches } from './statement-batches.ts';

/** Files of removed versions that were leased, for a later retention pass to delete. */
export class KyselyDeferredDeletionStore implements CatalogDeferredDeletions {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async deferFileDeletions(table: string, files: string[], at: string): Promise<void> {
    if (files.length === 0) return;
    const rows = files.map((file) => ({ file, table_name: table, deferred_at: toIsoTimestamp(at) }));
    await this.db.transaction().execute(async (trx) => {
      for (const batch of batches(rows, 3)) {
        await trx
          .insertInto('deferred_deletions')
          .values(batch)
          .onConflict((conflict) => conflict.column('file').doNothing())
          .execute();
      }
    });
  }

  async listDeferredDeletions(table: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('deferred_deletions')
      .select('file')
      .where('table_name', '=', table)
      .orderBy('deferred_at')
      .orderBy('file')
      .execute();
    return rows.map((row) => row.file);
  }

  async forgetDeferredDeletions(files: string[]): Promise<void> {
    if (files.length === 0) return;
    await this.db.deleteFrom('deferred_deletions').where('file', 'in', files).execute();
  }
}
