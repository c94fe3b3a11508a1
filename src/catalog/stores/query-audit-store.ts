import type { Kysely } from 'kysely';
import type { QueryAuditEntry, QueryAuditFilter } from '../../model/index.ts';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogQueryAudit } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { toQueryAudit } from './catalog-rows.ts';

/** The query audit log: one row per governed query. */
export class KyselyQueryAuditStore implements CatalogQueryAudit {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async recordQueryAudit(entry: QueryAuditEntry): Promise<void> {
    await this.db
      .insertInto('query_audit')
      .values({
        id: entry.id,
        at: toIsoTimestamp(entry.at),
        principal: entry.principal,
        token_id: entry.tokenId ?? null,
        sql_text: entry.sql,
        outcome: entry.outcome,
        reason: entry.reason ?? null,
        tables_json: JSON.stringify(entry.tables),
        columns_json: JSON.stringify(entry.columns),
        masks_json: JSON.stringify(entry.masks),
        row_filters_json: JSON.stringify(entry.rowFilters),
        rows_returned: entry.rowsReturned ?? null,
        duration_ms: Math.round(entry.durationMs),
      })
      .execute();
  }

  async listQueryAudit(filter: QueryAuditFilter = {}): Promise<QueryAuditEntry[]> {
    let query = this.db.selectFrom('query_audit').selectAll();
    if (filter.principal !== undefined) query = query.where('principal', '=', filter.principal);
    query = query.orderBy('at', 'desc').orderBy('id', 'desc');
    if (filter.limit !== undefined) query = query.limit(filter.limit);
    return (await query.execute()).map(toQueryAudit);
  }
}
