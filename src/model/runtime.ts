/** What happened: versions, runs, check results, lineage. Plain serializable data. */
import type { FieldDef, Severity } from './definitions.ts';

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
}

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
}

export interface SchemaVersionRecord {
  table: string;
  schemaVersion: number;
  fields: FieldDef[];
  appliedAt: string;
  gitCommit?: string;
}
