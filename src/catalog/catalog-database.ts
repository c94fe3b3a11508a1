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
