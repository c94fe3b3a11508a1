/** What happened: versions, runs, check results, lineage. Plain serializable data. */
import type { FieldDef, MaskKind, Severity } from './definitions.ts';

export interface VersionRef {
  table: string;
  version: number;
}

export interface CheckResult {
  /** Expectation name, `sql`, or a built-in gate such as `bad_rows`. */
  expectation: string;
  args: Record<string, unknown>;
  severity: Severity;
  success: boolean;
  observedValue?: unknown;
  elementCount?: number;
  /** Rows left out because their value is missing (GE's `missing_count`). */
  missingCount?: number;
  /** `missingCount` as a percentage of `elementCount`. */
  missingPercent?: number;
  unexpectedCount?: number;
  unexpectedPercent?: number;
  /** A few offending values or rows. */
  sample?: unknown[];
  /** Set when the check could not be evaluated (bad column, SQL error). */
  error?: string;
}

export interface Version {
  table: string;
  version: number;
  schemaVersion: number;
  rowCount: number;
  bytes: number;
  /** Data files, as storage URIs relative to the storage root. */
  files: string[];
  runId: string;
  task: string;
  gitCommit?: string;
  upstream: VersionRef[];
  checks: CheckResult[];
  publishedAt: string;
  /**
   * How the version's files store its fields, recorded at publication (catalog migration
   * 0005_version_storage): field name → the mask its values were written with, in every file of
   * the version. A field not listed is stored raw (or not the same way in every file), so readers
   * mask it as usual. `{}` for a version written raw. Absent for a version published before the
   * record existed: read as raw too (see src/governance/README.md, "store: deidentified").
   */
  storedMasks?: Record<string, MaskKind>;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface Run {
  id: string;
  task: string;
  status: RunStatus;
  attempt: number;
  /** Why it ran: `manual`, `schedule`, `upstream:<table>@<version>`, `backfill`. */
  trigger: string;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  /** The version this run published, if any. */
  published?: VersionRef;
  rowsWritten?: number;
  badRows?: number;
  /**
   * The run's check results (catalog migration 0012_run_checks), recorded whether the version was
   * published or not, with up to 20 unexpected values each (`sample`), masked as a version's are.
   * Absent when no check ran (a run that failed before validating, or one recorded before 0012).
   */
  checks?: CheckResult[];
}

/** A run starting or ending, as the runner tells observers (lineage out); `version` if it published. */
export type RunLifecycleEvent =
  { type: 'started'; run: Run } | { type: 'finished'; run: Run; version?: Version; fields?: FieldDef[] };

export interface RunLogLine {
  runId: string;
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** A column-level lineage edge; `fromColumn`/`toColumn` are absent for table-level edges. */
export interface LineageEdge {
  fromTable: string;
  fromColumn?: string;
  toTable: string;
  toColumn?: string;
  task: string;
}

/** A table as registered in the catalog. */
export interface TableRecord {
  name: string;
  owner: string;
  description?: string;
  schemaVersion: number;
  /** Columns of the current schema version (inferred for projections once they have run). */
  fields: FieldDef[];
  currentVersion?: number;
  /** The full TableDef as applied, JSON. */
  definition: unknown;
  updatedAt: string;
  /** The Git commit the definition as applied came from (the last apply that changed it). */
  gitCommit?: string;
}

export interface SchemaVersionRecord {
  table: string;
  schemaVersion: number;
  fields: FieldDef[];
  appliedAt: string;
  gitCommit?: string;
}

/**
 * `allowed`: the query ran and returned rows. `refused`: governance said no (unknown principal or
 * token, a table not granted, a construct the guard refuses). `failed`: the guard accepted it but
 * the engine raised (a column that does not exist, e.g. a denied one; a division by zero).
 */
export type QueryOutcome = 'allowed' | 'refused' | 'failed';

/**
 * An API/pgwire access token as stored (catalog migration 0003_governance): the SHA-256 of the token,
 * never the token itself, so the catalog holds nothing that authenticates.
 */
export interface AccessTokenRecord {
  /** Short public handle (`revoke`, `list`, audit records); not a secret. */
  id: string;
  /** The declared principal the token acts as. */
  principal: string;
  /** SHA-256 of the token text, lowercase hex; unique. */
  tokenHash: string;
  createdAt: string;
  /** After this instant the token is refused. Absent: it never expires. */
  expiresAt?: string;
  /** Set once revoked; a revoked token is refused. */
  revokedAt?: string;
}

/** One audited query. */
export interface QueryAuditEntry {
  /** Sortable by time: `20261126T081500123Z-3f9a1c0b`. */
  id: string;
  /** When the query arrived (ISO-8601 UTC). */
  at: string;
  /** The principal it ran as (`local-admin` for the dev-mode CLI); `(unknown)` for an invalid token. */
  principal: string;
  /** The id of the token that authenticated it, when one did. */
  tokenId?: string;
  /** The SQL as the user wrote it. */
  sql: string;
  outcome: QueryOutcome;
  /** Why it was refused or failed, as the user was told (storage paths removed). */
  reason?: string;
  /** Catalog tables read, sorted. Empty when refused before the tables were resolved. */
  tables: string[];
  /** Table columns read anywhere in the query (an over-approximation: `*` counts every visible column). */
  columns: { table: string; column: string }[];
  /** Masks applied to the columns read. */
  masks: { table: string; column: string; mask: MaskKind }[];
  /** Row filters applied, as declared in the roles (`principal_attr(...)` not substituted). */
  rowFilters: { table: string; filter: string }[];
  /** Rows handed back; absent unless allowed. */
  rowsReturned?: number;
  /** Wall-clock time from arrival to answer, in milliseconds. */
  durationMs: number;
}

/** Which entries `listQueryAudit` returns. */
export interface QueryAuditFilter {
  /** Only this principal's queries (exact name). */
  principal?: string;
  /** At most this many, newest first. Default: all. */
  limit?: number;
}
