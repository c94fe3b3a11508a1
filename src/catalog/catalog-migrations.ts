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

  // The run queue lives in `runs` (a queued run is a row with status `queued`, so it survives restarts),
  // plus per-task orchestration state (paused, last source fingerprint seen).
  '0002_run_queue': {
    async up(db: Kysely<unknown>): Promise<void> {
      // SQLite adds one column per ALTER TABLE.
      const queueColumns = ['dedupe_key', 'not_before', 'owner', 'heartbeat_at', 'wave'];
      for (const column of queueColumns) {
        await db.schema.alterTable('runs').addColumn(column, 'text').execute();
      }
      await db.schema
        .alterTable('runs')
        .addColumn('cancel_requested', 'integer', (column) => column.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('runs')
        .addColumn('downstream', 'integer', (column) => column.notNull().defaultTo(1))
        .execute();
      await db.schema.createIndex('runs_status_idx').ifNotExists().on('runs').column('status').execute();

      await db.schema
        .createTable('task_states')
        .ifNotExists()
        .addColumn('task', 'text', (column) => column.primaryKey())
        .addColumn('paused_at', 'text')
        .addColumn('source_fingerprint', 'text')
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();
    },
  },

  // Governance: API/pgwire tokens (only their SHA-256) and the query audit log.
  '0003_governance': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('access_tokens')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('principal', 'text', (column) => column.notNull())
        .addColumn('token_hash', 'text', (column) => column.notNull().unique())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();

      await db.schema
        .createTable('query_audit')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('at', 'text', (column) => column.notNull())
        .addColumn('principal', 'text', (column) => column.notNull())
        .addColumn('token_id', 'text')
        .addColumn('sql_text', 'text', (column) => column.notNull())
        .addColumn('outcome', 'text', (column) => column.notNull())
        .addColumn('reason', 'text')
        .addColumn('tables_json', 'text', (column) => column.notNull())
        .addColumn('columns_json', 'text', (column) => column.notNull())
        .addColumn('masks_json', 'text', (column) => column.notNull())
        .addColumn('row_filters_json', 'text', (column) => column.notNull())
        .addColumn('rows_returned', 'bigint')
        .addColumn('duration_ms', 'bigint', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('query_audit_at_idx')
        .ifNotExists()
        .on('query_audit')
        .column('at')
        .execute();
      await db.schema
        .createIndex('query_audit_principal_at_idx')
        .ifNotExists()
        .on('query_audit')
        .columns(['principal', 'at'])
        .execute();
    },
  },

  // Read leases: the files a running query or task reads, which retention leaves in place, and the
  // files it had to leave for a later pass.
  '0004_read_leases': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('read_leases')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('holder', 'text', (column) => column.notNull())
        .addColumn('files_json', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createTable('deferred_deletions')
        .ifNotExists()
        .addColumn('file', 'text', (column) => column.primaryKey())
        .addColumn('table_name', 'text', (column) => column.notNull())
        .addColumn('deferred_at', 'text', (column) => column.notNull())
        .execute();
    },
  },

  // How each version stores its fields (`Version.storedMasks`): which were written masked, and with
  // which mask. NULL for versions published before: readers treat those as written raw.
  '0005_version_storage': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('versions').addColumn('stored_masks_json', 'text').execute();
    },
  },

  // Secret keys the catalog generates for itself (the hash key when `governance.hash_key` is not
  // set), so every process and worker of one catalog uses the same key and no two catalogs share one.
  '0006_catalog_keys': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('catalog_keys')
        .ifNotExists()
        .addColumn('name', 'text', (column) => column.primaryKey())
        .addColumn('key_hex', 'text', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .execute();
    },
  },

  // Task leases: one run of a task at a time, whichever process runs it (`tessera run` without a
  // server, or a server's dispatcher). A row per task that runs now; its holder renews the expiry.
  '0007_task_leases': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('task_leases')
        .ifNotExists()
        .addColumn('task', 'text', (column) => column.primaryKey())
        .addColumn('owner', 'text', (column) => column.notNull())
        .addColumn('run_id', 'text', (column) => column.notNull())
        .addColumn('acquired_at', 'text', (column) => column.notNull())
        .addColumn('expires_at', 'text', (column) => column.notNull())
        .execute();
    },
  },

  // Monitoring (SPEC §4): events written with the run outcome they report, the incidents they open,
  // one delivery per recipient and channel, and subscriptions made with `tessera subscribe`.
  '0008_monitoring': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('events')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('severity', 'text', (column) => column.notNull())
        .addColumn('table_name', 'text')
        .addColumn('task', 'text')
        .addColumn('run_id', 'text')
        .addColumn('attempt', 'integer')
        .addColumn('cause', 'text', (column) => column.notNull())
        .addColumn('incident_key', 'text', (column) => column.notNull())
        .addColumn('at', 'text', (column) => column.notNull())
        .addColumn('processed_at', 'text')
        .addColumn('incident_id', 'text')
        .execute();
      await db.schema
        .createIndex('events_pending')
        .ifNotExists()
        .on('events')
        .columns(['processed_at', 'at'])
        .execute();
      await db.schema
        .createIndex('events_incident')
        .ifNotExists()
        .on('events')
        .columns(['incident_id'])
        .execute();

      await db.schema
        .createTable('incidents')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('key', 'text', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('severity', 'text', (column) => column.notNull())
        .addColumn('table_name', 'text')
        .addColumn('task', 'text')
        .addColumn('cause', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('opened_at', 'text', (column) => column.notNull())
        .addColumn('notified_at', 'text', (column) => column.notNull())
        .addColumn('resolved_at', 'text')
        .addColumn('event_count', 'integer', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('incidents_key')
        .ifNotExists()
        .on('incidents')
        .columns(['key', 'status'])
        .execute();
      await db.schema
        .createIndex('incidents_opened')
        .ifNotExists()
        .on('incidents')
        .columns(['opened_at'])
        .execute();

      await db.schema
        .createTable('deliveries')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('incident_id', 'text', (column) => column.notNull())
        .addColumn('event_id', 'text', (column) => column.notNull())
        .addColumn('phase', 'text', (column) => column.notNull())
        .addColumn('kind', 'text', (column) => column.notNull())
        .addColumn('owner', 'text', (column) => column.notNull())
        .addColumn('table_name', 'text')
        .addColumn('cause', 'text', (column) => column.notNull())
        .addColumn('channel_index', 'integer', (column) => column.notNull())
        .addColumn('channel_type', 'text', (column) => column.notNull())
        .addColumn('status', 'text', (column) => column.notNull())
        .addColumn('attempts', 'integer', (column) => column.notNull())
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addColumn('next_attempt_at', 'text')
        .addColumn('delivered_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_until', 'text')
        .execute();
      await db.schema
        .createIndex('deliveries_due')
        .ifNotExists()
        .on('deliveries')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('deliveries_incident')
        .ifNotExists()
        .on('deliveries')
        .columns(['incident_id'])
        .execute();

      await db.schema
        .createTable('subscriptions')
        .ifNotExists()
        .addColumn('table_name', 'text', (column) => column.notNull())
        .addColumn('owner', 'text', (column) => column.notNull())
        .addColumn('events_json', 'text')
        .addColumn('created_at', 'text', (column) => column.notNull())
        .addPrimaryKeyConstraint('subscriptions_pk', ['table_name', 'owner'])
        .execute();
    },
  },

  // Git sync (SPEC §6): the commit each definition came from, the commit the catalog runs on and the
  // newest one seen, refused commits, and recipients an event names itself (a commit's author).
  '0009_git_sync': {
    async up(db: Kysely<unknown>): Promise<void> {
      for (const table of ['tables', 'tasks', 'owners', 'roles', 'principals']) {
        await db.schema.alterTable(table).addColumn('git_commit', 'text').execute();
      }
      await db.schema.alterTable('events').addColumn('recipients_json', 'text').execute();
      await db.schema
        .createTable('sync_state')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('source', 'text')
        .addColumn('active_commit', 'text')
        .addColumn('activated_at', 'text')
        .addColumn('seen_commit', 'text')
        .addColumn('seen_at', 'text')
        .execute();
      await db.schema
        .createTable('sync_refusals')
        .ifNotExists()
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('commit_sha', 'text', (column) => column.notNull())
        .addColumn('author_name', 'text', (column) => column.notNull())
        .addColumn('author_email', 'text', (column) => column.notNull())
        .addColumn('reason', 'text', (column) => column.notNull())
        .addColumn('refused_at', 'text', (column) => column.notNull())
        .execute();
      await db.schema
        .createIndex('sync_refusals_refused_at')
        .ifNotExists()
        .on('sync_refusals')
        .columns(['refused_at'])
        .execute();
    },
  },

  // Incremental sources (S3 objects, database cursors, stream positions): each task's cursor, moved
  // in the transaction that publishes the version it read up to, so a failed run reads it all again.
  '0011_source_cursors': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('source_cursors')
        .ifNotExists()
        .addColumn('task', 'text', (column) => column.primaryKey())
        .addColumn('cursor_json', 'text', (column) => column.notNull())
        .addColumn('updated_at', 'text', (column) => column.notNull())
        .execute();
    },
  },

  // A run's check results with their samples of unexpected values: a run that failed validation
  // publishes no version, yet `tessera logs`, `show` and `--json` show which values failed.
  '0012_run_checks': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('runs').addColumn('checks_json', 'text').execute();
    },
  },
};

/** Serves `catalogMigrations` to Kysely's `Migrator` from code (no migration folder to ship). */
export class CatalogMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return catalogMigrations;
  }
}
