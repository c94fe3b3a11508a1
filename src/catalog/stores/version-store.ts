import type { Kysely, Selectable } from 'kysely';
import { NotFoundError, UsageError } from '../../diagnostics/index.ts';
import type { Version } from '../../model/index.ts';
import type { CatalogDatabase, VersionsRow } from '../catalog-database.ts';
import type { CatalogVersions, NewVersion } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { toVersion } from './catalog-rows.ts';

/** Versions: publication (number, record, move the current pointer, in one transaction), reads, retention. */
export class KyselyVersionStore implements CatalogVersions {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(private readonly connection: CatalogConnection) {
    this.db = connection.db;
  }

  async publishVersion(version: NewVersion): Promise<Version> {
    return this.db.transaction().execute(async (trx) => {
      // Lock first, then read: the second of two concurrent publishers sees the first's version.
      let tableQuery = trx
        .selectFrom('tables')
        .select(['name', 'current_version'])
        .where('name', '=', version.table);
      if (this.connection.supportsRowLocks) tableQuery = tableQuery.forUpdate();
      const table = await tableQuery.executeTakeFirst();
      if (!table) {
        throw new NotFoundError(
          `cannot publish a version of ${version.table}: the table is not registered in the catalog; run \`tessera apply\` first`,
        );
      }

      const published = await trx
        .selectFrom('versions')
        .selectAll()
        .where('table_name', '=', version.table)
        .where('run_id', '=', version.runId)
        .executeTakeFirst();
      if (published) return toVersion(published);

      const latest = await trx
        .selectFrom('versions')
        .select(['version', 'published_at'])
        .where('table_name', '=', version.table)
        .orderBy('version', 'desc')
        .limit(1)
        .executeTakeFirst();
      const now = new Date().toISOString();
      // Never earlier than the previous version, even if the clock stepped back: time travel relies on it.
      const publishedAt = latest && latest.published_at > now ? latest.published_at : now;
      const row: Selectable<VersionsRow> = {
        table_name: version.table,
        version: latest ? Number(latest.version) + 1 : 1,
        schema_version: version.schemaVersion,
        row_count: version.rowCount,
        bytes: version.bytes,
        files_json: JSON.stringify(version.files),
        run_id: version.runId,
        task: version.task,
        git_commit: version.gitCommit ?? null,
        upstream_json: JSON.stringify(version.upstream),
        checks_json: JSON.stringify(version.checks),
        published_at: publishedAt,
        stored_masks_json: JSON.stringify(version.storedMasks ?? {}),
      };
      await trx.insertInto('versions').values(row).execute();
      if (version.sourceCursor) {
        const cursor = { cursor_json: JSON.stringify(version.sourceCursor.cursor), updated_at: publishedAt };
        await trx
          .insertInto('source_cursors')
          .values({ task: version.sourceCursor.task, ...cursor })
          .onConflict((conflict) => conflict.column('task').doUpdateSet(cursor))
          .execute();
      }
      await trx
        .updateTable('tables')
        .set({
          current_version: row.version,
          updated_at: publishedAt,
          ...(version.fields ? { fields_json: JSON.stringify(version.fields) } : {}),
        })
        .where('name', '=', version.table)
        .execute();
      return toVersion(row);
    });
  }

  async getVersion(table: string, version: number): Promise<Version | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .selectAll()
      .where('table_name', '=', table)
      .where('version', '=', version)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async getCurrentVersion(table: string): Promise<Version | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .innerJoin('tables', (join) =>
        join
          .onRef('tables.name', '=', 'versions.table_name')
          .onRef('tables.current_version', '=', 'versions.version'),
      )
      .selectAll('versions')
      .where('versions.table_name', '=', table)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async getVersionAt(table: string, timestamp: string): Promise<Version | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .selectAll()
      .where('table_name', '=', table)
      .where('published_at', '<=', toIsoTimestamp(timestamp))
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toVersion(row);
  }

  async listVersions(table: string): Promise<Version[]> {
    const rows = await this.db
      .selectFrom('versions')
      .selectAll()
      .where('table_name', '=', table)
      .orderBy('version', 'desc')
      .execute();
    return rows.map(toVersion);
  }

  async deleteVersions(table: string, versions: number[]): Promise<Version[]> {
    if (versions.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      // Locking the table row keeps a concurrent publish from moving the pointer while we check it.
      let tableQuery = trx.selectFrom('tables').select('current_version').where('name', '=', table);
      if (this.connection.supportsRowLocks) tableQuery = tableQuery.forUpdate();
      const current = (await tableQuery.executeTakeFirst())?.current_version;
      if (current !== undefined && current !== null && versions.includes(Number(current))) {
        throw new UsageError(
          `cannot delete version ${current} of ${table}: it is the current version; only older versions can be deleted`,
        );
      }
      const rows = await trx
        .selectFrom('versions')
        .selectAll()
        .where('table_name', '=', table)
        .where('version', 'in', versions)
        .orderBy('version', 'desc')
        .execute();
      if (rows.length > 0) {
        await trx
          .deleteFrom('versions')
          .where('table_name', '=', table)
          .where('version', 'in', versions)
          .execute();
      }
      return rows.map(toVersion);
    });
  }
}
