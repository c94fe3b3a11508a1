import type { Generated } from 'kysely';

/**
 * The catalog's tables as Kysely sees them: one row type per table. Timestamps are ISO-8601 UTC
 * text with millisecond precision and JSON is text, so SQLite and PostgreSQL store the same values
 * and compare them the same way. `bigint` columns come back as strings from `pg`: read them with
 * `Number(...)`.
 */
export interface CatalogDatabase {
  tables: TablesRow;
  schema_versions: SchemaVersionsRow;
  tasks: DefinitionRow;
  owners: DefinitionRow;
  roles: DefinitionRow;
  principals: DefinitionRow;
  versions: VersionsRow;
  runs: RunsRow;
  run_logs: RunLogsRow;
  lineage_edges: LineageEdgesRow;
  task_states: TaskStatesRow;
  source_cursors: SourceCursorsRow;
  access_tokens: AccessTokensRow;
  query_audit: QueryAuditRow;
  read_leases: ReadLeasesRow;
  deferred_deletions: DeferredDeletionsRow;
  catalog_keys: CatalogKeysRow;
  task_leases: TaskLeasesRow;
  events: EventsRow;
  incidents: IncidentsRow;
  deliveries: DeliveriesRow;
  subscriptions: SubscriptionsRow;
  sync_state: SyncStateRow;
  sync_refusals: SyncRefusalsRow;
}

export interface TablesRow {
  name: string;
  owner: string;
  description: string | null;
  schema_version: number;
  fields_json: string;
  definition_json: string;
  current_version: number | null;
  updated_at: string;
  /** The commit of the apply that last changed the definition (migration 0009_git_sync). */
  git_commit: string | null;
}

export interface SchemaVersionsRow {
  table_name: string;
  schema_version: number;
  fields_json: string;
  applied_at: string;
  git_commit: string | null;
}

/** Tasks, owners, roles and principals: the definition as applied, keyed by name. */
export interface DefinitionRow {
  name: string;
  definition_json: string;
  updated_at: string;
  /** The commit of the apply that last changed the definition (migration 0009_git_sync). */
  git_commit: string | null;
}

export interface VersionsRow {
  table_name: string;
  version: number;
  schema_version: number;
  row_count: number | string;
  bytes: number | string;
  files_json: string;
  run_id: string;
  task: string;
  git_commit: string | null;
  upstream_json: string;
  checks_json: string;
  published_at: string;
  /** `Version.storedMasks` as JSON (migration 0005_version_storage); NULL for versions published before it. */
  stored_masks_json: string | null;
}

export interface RunsRow {
  id: string;
  task: string;
  status: string;
  attempt: number;
  trigger: string;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  published_json: string | null;
  rows_written: number | string | null;
  bad_rows: number | string | null;
  // Run-queue bookkeeping (migration 0002); see `RunQueueState`.
  dedupe_key: string | null;
  not_before: string | null;
  owner: string | null;
  heartbeat_at: string | null;
  wave: string | null;
  /** 0 or 1; defaults to 0. */
  cancel_requested: Generated<number>;
  /** 0 or 1; defaults to 1. */
  downstream: Generated<number>;
  /** `Run.checks` as JSON (migration 0012_run_checks); NULL when no check ran. */
  checks_json: string | null;
}

/** Orchestration state per task (migration 0002); see `TaskState`. */
export interface TaskStatesRow {
  task: string;
  paused_at: string | null;
  source_fingerprint: string | null;
  updated_at: string;
}

/** Where an incremental source's task has read up to (migration 0011_source_cursors); JSON. */
export interface SourceCursorsRow {
  task: string;
  cursor_json: string;
  updated_at: string;
}

/** API/pgwire tokens (migration 0003_governance): only the token's SHA-256 is stored. */
export interface AccessTokensRow {
  id: string;
  principal: string;
  token_hash: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** One audited query (migration 0003_governance); see `QueryAuditRecord`. */
export interface QueryAuditRow {
  id: string;
  at: string;
  principal: string;
  token_id: string | null;
  sql_text: string;
  outcome: string;
  reason: string | null;
  tables_json: string;
  columns_json: string;
  masks_json: string;
  row_filters_json: string;
  rows_returned: number | string | null;
  duration_ms: number | string;
}

/** Files a running query or task reads (migration 0004_read_leases); see `ReadLease`. */
export interface ReadLeasesRow {
  id: string;
  /** Who reads, for people looking at the table: `host:pid`. */
  holder: string;
  files_json: string;
  expires_at: string;
}

/** The run of a task that runs now, and who runs it (migration 0007_task_leases); see `TaskLease`. */
export interface TaskLeasesRow {
  task: string;
  owner: string;
  run_id: string;
  acquired_at: string;
  expires_at: string;
}

/** A file retention could not delete yet because a lease held it. */
export interface DeferredDeletionsRow {
  file: string;
  table_name: string;
  deferred_at: string;
}

/** A secret key the catalog generated for itself (migration 0006_catalog_keys); see `CatalogStore.catalogKey`. */
export interface CatalogKeysRow {
  name: string;
  /** 32 random bytes as 64 lowercase hex digits. Never logged. */
  key_hex: string;
  created_at: string;
}

export interface RunLogsRow {
  run_id: string;
  /** 1, 2, 3… per run, in append order. */
  seq: number;
  at: string;
  level: string;
  message: string;
}

export interface LineageEdgesRow {
  from_table: string;
  from_column: string | null;
  to_table: string;
  to_column: string | null;
  task: string;
}

/** A monitoring event (migration 0008_monitoring); see `MonitoringEvent`. */
export interface EventsRow {
  id: string;
  kind: string;
  severity: string;
  table_name: string | null;
  task: string | null;
  run_id: string | null;
  attempt: number | null;
  cause: string;
  incident_key: string;
  at: string;
  /** NULL until the notifier has settled it into an incident and deliveries. */
  processed_at: string | null;
  incident_id: string | null;
  /** `MonitoringEvent.recipients` as JSON (migration 0009_git_sync); NULL when it names none. */
  recipients_json: string | null;
}

/** Events with one cause, open until it recovers; see `Incident`. */
export interface IncidentsRow {
  id: string;
  key: string;
  kind: string;
  severity: string;
  table_name: string | null;
  task: string | null;
  cause: string;
  status: string;
  opened_at: string;
  notified_at: string;
  resolved_at: string | null;
  event_count: number;
}

/** One message to one owner through one channel; see `Delivery`. */
export interface DeliveriesRow {
  id: string;
  incident_id: string;
  event_id: string;
  phase: string;
  kind: string;
  owner: string;
  table_name: string | null;
  cause: string;
  channel_index: number;
  channel_type: string;
  status: string;
  attempts: number;
  created_at: string;
  next_attempt_at: string | null;
  delivered_at: string | null;
  last_error: string | null;
  /** Which process is sending it now, and until when that claim holds (a dead sender's claim lapses). */
  claimed_by: string | null;
  claimed_until: string | null;
}

/** `tessera subscribe TABLE --owner O [--events …]`; see `Subscription`. */
export interface SubscriptionsRow {
  table_name: string;
  owner: string;
  /** A JSON array of event kinds; NULL = every kind. */
  events_json: string | null;
  created_at: string;
}

/** Git sync's state: one row (`id` = 'git'), written by the watcher of `tessera serve --watch-git`. */
export interface SyncStateRow {
  id: string;
  source: string | null;
  active_commit: string | null;
  activated_at: string | null;
  seen_commit: string | null;
  seen_at: string | null;
}

/** One refused commit. */
export interface SyncRefusalsRow {
  id: string;
  commit_sha: string;
  author_name: string;
  author_email: string;
  reason: string;
  refused_at: string;
}
