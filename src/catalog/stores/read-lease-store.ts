import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogReadLeases, ReadLease, ReadLeaseRequest } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection } from './catalog-connection.ts';

/** Read leases: files of resolved versions held for a reader, so retention leaves them in place. */
export class KyselyReadLeaseStore implements CatalogReadLeases {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(private readonly connection: CatalogConnection) {
    this.db = connection.db;
  }

  async acquireReadLease(request: ReadLeaseRequest): Promise<ReadLease | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const files = new Set<string>();
      for (const { table, version } of request.versions) {
        // A shared row lock (PostgreSQL): retention's DELETE of this version waits for our commit,
        // and then finds the lease; if it deleted first, we find no row. SQLite serializes writers.
        let query = trx
          .selectFrom('versions')
          .select('files_json')
          .where('table_name', '=', table)
          .where('version', '=', version);
        if (this.connection.supportsRowLocks) query = query.forShare();
        const row = await query.executeTakeFirst();
        if (!row) return undefined;
        for (const file of JSON.parse(row.files_json) as string[]) files.add(file);
      }
      const lease: ReadLease = {
        id: randomUUID(),
        files: [...files].sort(),
        expiresAt: toIsoTimestamp(request.expiresAt),
      };
      await trx
        .insertInto('read_leases')
        .values({
          id: lease.id,
          holder: request.holder,
          files_json: JSON.stringify(lease.files),
          expires_at: lease.expiresAt,
        })
        .execute();
      return lease;
    });
  }

  async renewReadLease(id: string, expiresAt: string): Promise<boolean> {
    const result = await this.db
      .updateTable('read_leases')
      .set({ expires_at: toIsoTimestamp(expiresAt) })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async releaseReadLease(id: string): Promise<void> {
    await this.db.deleteFrom('read_leases').where('id', '=', id).execute();
  }

  async leasedFiles(now: string): Promise<Set<string>> {
    const at = toIsoTimestamp(now);
    // Leases of readers that died without releasing expire; sweep them while we are here.
    await this.db.deleteFrom('read_leases').where('expires_at', '<=', at).execute();
    const rows = await this.db
      .selectFrom('read_leases')
      .select('files_json')
      .where('expires_at', '>', at)
      .execute();
    return new Set(rows.flatMap((row) => JSON.parse(row.files_json) as string[]));
  }
}
