import type { Kysely, Migration, MigrationProvider } from 'kysely';

/**
 * The catalog schema, as Kysely migrations shared by SQLite and PostgreSQL. Only portable column
 * types (`text`, `integer`, `bigint`) so one migration runs on both. Append new migrations; never
 * edit one that has shipped. Names sort in application order.
 */
export const catalogMigrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tables')
        .ifNotExists()
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('owner', 'text', (column) => column.notNull())
        .addColumn('description', 'text')
        .addColumn('schema_version', 'integer', (column) => column.notNull())
        .addColumn('fields_json', 'text', (column) => column.notNull())
        .addColumn('definition_json', 'text', (column) => column.notNull())
        .addColumn('current_version', 'integer')
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();

      await db.schema
        .createTable('schema_versions')
        .ifNotExists()
        .addColumn('table_name', 'text', (column) => column.notNull())
        .addColumn('schema_version', 'integer', (column) => column.notNull())
        .addColumn('fields_json', 'text', (column) => column.notNull())
        .addColumn('applied_at', 'text', (column) => column.notNull())
        .addColumn('git_commit', 'text')
        .addPrimaryKeyConstraint('schema_versions_pk', ['table_name', 'schema_version'])
        .execute();

      for (const name of ['tasks', 'owners', 'roles', 'principals']) {
        await db.schema
          .createTable(name)
          .ifNotExists()
          .addColumn('name', 'text', (column) => column.primaryKey())
          .addColumn('definition_json', 'text', (column) => column.notNull())
          .addColumn('updated_at', 'text', (column) => column.notNull())
          .execute();
      }

      await db.schema
        .createTable('versions')
        .ifNotExists()
        .addColumn('table_name', 'text', (column) => column.notNull())
        .addColumn('version', 'integer', (column) => column.notNull())
        .addColumn('schema_version', 'integer', (column) => column.notNull())
        .addColumn('row_count', 'bigint', (column) => column.notNull())
        .addColumn('bytes', 'bigint', (column) => column.notNull())
        .addColumn('files_json', 'text', (column) => column.notNull())
        .addColumn('run_id', 'text', (column) => column.notNull())
        .addColumn('task', 'text', (column) => column.notNull())
        .addColumn('git_commit', 'text')
        .addColumn('upstream_json', 'text', (column) => column.notNull())
        .addColumn('checks_json', 'text', (column) => column.notNull())
        .addColumn('published_at', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('versions_pk', ['table_name', 'version'])
        // Exactly-once publication: a retried run cannot publish a second version.
        .addUniqueConstraint('versions_run_unique', ['table_name', 'run_id'])
        .execute();
      await db.schema
        .createIndex('versions_published_at_idx')
        .ifNotExists()
        .on('versions')
        .columns(['table_name', 'published_at'])
        .execute();

      await db.schema
        .createTable('runs')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('task', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('attempt', 'integer', (column) => column.notNull())
        .addColumn('trigger', 'text', (column) => column.notNull())
        .addColumn('queued_at', 'text', (column) => column.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addColumn('error', 'text')
        .addColumn('published_json', 'text')
        .addColumn('rows_written', 'bigint')
        .addColumn('bad_rows', 'bigint')
        .execute();
      await db.schema
        .createIndex('runs_task_queued_at_idx')
        .ifNotExists()
        .on('runs')
        .columns(['task', 'queued_at'])
        .execute();
      await db.schema
        .createIndex('runs_queued_at_idx')
        .ifNotExists()
        .on('runs')
        .column('queued_at')
        .execute();

      await db.schema
        .createTable('run_logs')
        .ifNotExists()
        .addColumn('run_id', 'text', (column) => column.notNull())
        .addColumn('seq', 'integer', (column) => column.notNull())
        .addColumn('at', 'text', (column) => column.notNull())
        .addColumn('level', 'text', (column) => column.notNull())
        .addColumn('message', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('run_logs_pk', ['run_id', 'seq'])
        .execute();

      await db.schema
        .createTable('lineage_edges')
        .ifNotExists()
        .addColumn('from_table', 'text', (column) => column.notNull())
        .addColumn('from_column', 'text')
        .addColumn('to_table', 'text', (column) => column.notNull())
        .addColumn('to_column', 'text')
        .addColumn('task', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('lineage_edges_task_idx')
        .ifNotExists()
        .on('lineage_edges')
        .column('task')
        .execute();
    },
  },
};

/** Serves `catalogMigrations` to Kysely's `Migrator` from code (no migration folder to ship). */
export class CatalogMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return catalogMigrations;
  }
}
