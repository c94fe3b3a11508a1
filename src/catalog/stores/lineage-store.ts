import type { Kysely } from 'kysely';
import type { LineageEdge } from '../../model/index.ts';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogLineage } from '../catalog-store.ts';
import type { CatalogConnection, CatalogTransaction } from './catalog-connection.ts';
import { compareText, withoutUndefined } from './catalog-rows.ts';
import { batches } from './statement-batches.ts';

/** Lineage edges, table- and column-level, per task. */
export class KyselyLineageStore implements CatalogLineage {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async listLineage(): Promise<LineageEdge[]> {
    const rows = await this.db.selectFrom('lineage_edges').selectAll().execute();
    const sortKey = (row: (typeof rows)[number]): string =>
      [row.task, row.to_table, row.to_column ?? '', row.from_table, row.from_column ?? ''].join('\u0000');
    rows.sort((a, b) => compareText(sortKey(a), sortKey(b)));
    return rows.map((row) =>
      withoutUndefined({
        fromTable: row.from_table,
        fromColumn: row.from_column ?? undefined,
        toTable: row.to_table,
        toColumn: row.to_column ?? undefined,
        task: row.task,
      }),
    );
  }

  async replaceTaskLineage(task: string, edges: LineageEdge[]): Promise<void> {
    const foreign = edges.find((edge) => edge.task !== task);
    if (foreign) {
      throw new Error(`replaceTaskLineage(${task}) was given an edge of task ${foreign.task}`);
    }
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('lineage_edges').where('task', '=', task).execute();
      await insertLineage(trx, edges);
    });
  }
}

/** Insert lineage edges inside the caller's transaction, in statements under the bind limits. */
export async function insertLineage(trx: CatalogTransaction, edges: LineageEdge[]): Promise<void> {
  const rows = edges.map((edge) => ({
    from_table: edge.fromTable,
    from_column: edge.fromColumn ?? null,
    to_table: edge.toTable,
    to_column: edge.toColumn ?? null,
    task: edge.task,
  }));
  for (const batch of batches(rows, 5)) await trx.insertInto('lineage_edges').values(batch).execute();
}
