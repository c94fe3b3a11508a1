import type { Selectable } from 'kysely';
import type {
  AccessTokenRecord,
  FieldDef,
  QueryAuditEntry,
  Run,
  TableRecord,
  Version,
} from '../../model/index.ts';
import type {
  AccessTokensRow,
  QueryAuditRow,
  RunsRow,
  TablesRow,
  TaskLeasesRow,
  TaskStatesRow,
  VersionsRow,
} from '../catalog-database.ts';
import type { QueuedRun, TaskLease, TaskState } from '../catalog-store.ts';
import { toIsoTimestamp } from '../iso-timestamp.ts';

// Rows of the catalog database ↔ the records the `CatalogStore` interface speaks of. Numbers come back
// as `Number(...)` (PostgreSQL returns bigint columns as strings), NULL becomes an absent key.

// Sorting names here, not in SQL, gives one order whatever the database's collation (and NULL placement).
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byName(a: { name: string }, b: { name: string }): number {
  return compareText(a.name, b.name);
}

export function toTableRecord(row: Selectable<TablesRow>): TableRecord {
  return withoutUndefined({
    name: row.name,
    owner: row.owner,
    description: row.description ?? undefined,
    schemaVersion: Number(row.schema_version),
    fields: JSON.parse(row.fields_json) as FieldDef[],
    currentVersion: row.current_version === null ? undefined : Number(row.current_version),
    definition: JSON.parse(row.definition_json) as unknown,
    updatedAt: row.updated_at,
    gitCommit: row.git_commit ?? undefined,
  });
}

export function toVersion(row: Selectable<VersionsRow>): Version {
  return withoutUndefined({
    table: row.table_name,
    version: Number(row.version),
    schemaVersion: Number(row.schema_version),
    rowCount: Number(row.row_count),
    bytes: Number(row.bytes),
    files: JSON.parse(row.files_json) as Version['files'],
    runId: row.run_id,
    task: row.task,
    gitCommit: row.git_commit ?? undefined,
    upstream: JSON.parse(row.upstream_json) as Version['upstream'],
    checks: JSON.parse(row.checks_json) as Version['checks'],
    publishedAt: row.published_at,
    storedMasks:
      row.stored_masks_json === null
        ? undefined
        : (JSON.parse(row.stored_masks_json) as Version['storedMasks']),
  });
}

export function toRun(row: Selectable<RunsRow>): Run {
  return withoutUndefined({
    id: row.id,
    task: row.task,
    status: row.status as Run['status'],
    attempt: Number(row.attempt),
    trigger: row.trigger,
    queuedAt: row.queued_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    error: row.error ?? undefined,
    published: row.published_json ? (JSON.parse(row.published_json) as Run['published']) : undefined,
    rowsWritten: row.rows_written === null ? undefined : Number(row.rows_written),
    badRows: row.bad_rows === null ? undefined : Number(row.bad_rows),
    checks: row.checks_json ? (JSON.parse(row.checks_json) as Run['checks']) : undefined,
  });
}

/** A run's own columns; the queue columns take their defaults. */
export function runValues(run: Run) {
  return {
    id: run.id,
    task: run.task,
    status: run.status,
    attempt: run.attempt,
    trigger: run.trigger,
    queued_at: toIsoTimestamp(run.queuedAt),
    started_at: optionalTimestamp(run.startedAt),
    finished_at: optionalTimestamp(run.finishedAt),
    error: run.error ?? null,
    published_json: run.published ? JSON.stringify(run.published) : null,
    rows_written: run.rowsWritten ?? null,
    bad_rows: run.badRows ?? null,
    checks_json: run.checks ? JSON.stringify(run.checks) : null,
  };
}

export function toQueuedRun(row: Selectable<RunsRow>): QueuedRun {
  return {
    run: toRun(row),
    queue: withoutUndefined({
      dedupeKey: row.dedupe_key ?? undefined,
      notBefore: row.not_before ?? undefined,
      owner: row.owner ?? undefined,
      heartbeatAt: row.heartbeat_at ?? undefined,
      cancelRequested: Number(row.cancel_requested) === 1,
      wave: row.wave ?? undefined,
      downstream: Number(row.downstream) !== 0,
    }),
  };
}

export function toAccessToken(row: Selectable<AccessTokensRow>): AccessTokenRecord {
  return withoutUndefined({
    id: row.id,
    principal: row.principal,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at ?? undefined,
    revokedAt: row.revoked_at ?? undefined,
  });
}

export function toQueryAudit(row: Selectable<QueryAuditRow>): QueryAuditEntry {
  return withoutUndefined({
    id: row.id,
    at: row.at,
    principal: row.principal,
    tokenId: row.token_id ?? undefined,
    sql: row.sql_text,
    outcome: row.outcome as QueryAuditEntry['outcome'],
    reason: row.reason ?? undefined,
    tables: JSON.parse(row.tables_json) as QueryAuditEntry['tables'],
    columns: JSON.parse(row.columns_json) as QueryAuditEntry['columns'],
    masks: JSON.parse(row.masks_json) as QueryAuditEntry['masks'],
    rowFilters: JSON.parse(row.row_filters_json) as QueryAuditEntry['rowFilters'],
    rowsReturned: row.rows_returned === null ? undefined : Number(row.rows_returned),
    durationMs: Number(row.duration_ms),
  });
}

export function toTaskState(row: Selectable<TaskStatesRow>): TaskState {
  return withoutUndefined({
    task: row.task,
    pausedAt: row.paused_at ?? undefined,
    sourceFingerprint: row.source_fingerprint ?? undefined,
    updatedAt: row.updated_at,
  });
}

export function optionalTimestamp(value: string | undefined): string | null {
  return value === undefined ? null : toIsoTimestamp(value);
}

/** Absent rather than `undefined`: records read back compare equal to what was written. */
export function withoutUndefined<T extends object>(record: T): T {
  for (const key of Object.keys(record) as (keyof T)[]) {
    if (record[key] === undefined) delete record[key];
  }
  return record;
}

export function toTaskLease(row: Selectable<TaskLeasesRow>): TaskLease {
  return {
    task: row.task,
    owner: row.owner,
    runId: row.run_id,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at,
  };
}
