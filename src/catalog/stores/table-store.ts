import type { Kysely } from 'kysely';
import type { FieldDef, SchemaVersionRecord, TableRecord } from '../../model/index.ts';
import type { CatalogDatabase } from '../catalog-database.ts';
import type { CatalogTables } from '../catalog-store.ts';
import type { CatalogConnection } from './catalog-connection.ts';
import { byName, toTableRecord, withoutUndefined } from './catalog-rows.ts';

/** Registered tables and their recorded schema versions, as last applied. */
export class KyselyTableStore implements CatalogTables {
  private readonly db: Kysely<CatalogDatabase>;

  constructor(connection: CatalogConnection) {
    this.db = connection.db;
  }

  async listTables(): Promise<TableRecord[]> {
    const rows = await this.db.selectFrom('tables').selectAll().execute();
    return rows.sort(byName).map(toTableRecord);
  }

  async getTable(name: string): Promise<TableRecord | undefined> {
    const row = await this.db.selectFrom('tables').selectAll().where('name', '=', name).executeTakeFirst();
    return row && toTableRecord(row);
  }

  async listSchemaVersions(table: string): Promise<SchemaVersionRecord[]> {
    const rows = await this.db
      .selectFrom('schema_versions')
      .selectAll()
      .where('table_name', '=', table)
      .orderBy('schema_version')
      .execute();
    return rows.map((row) =>
      withoutUndefined({
        table: row.table_name,
        schemaVersion: Number(row.schema_version),
        fields: JSON.parse(row.fields_json) as FieldDef[],
        appliedAt: row.applied_at,
        gitCommit: row.git_commit ?? undefined,
      }),
    );
  }
}
