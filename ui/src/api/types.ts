/**
 * The shapes the HTTP API answers (docs/http-api.md), as the UI reads them. Optional where the API
 * leaves a field out (a table never published has no current version).
 */

export type Sensitivity = string;

export interface ColumnView {
  name: string;
  type: string;
  description?: string;
  sensitivity?: Sensitivity;
  /** The mask applied to this principal; absent when it reads the column in clear. */
  mask?: string;
}

export interface TableSummary {
  name: string;
  owner: string;
  description?: string;
  currentVersion?: number;
  columns?: ColumnView[];
}

export interface CheckResult {
  expectation: string;
  args: Record<string, unknown>;
  severity: string;
  success: boolean;
  observedValue?: unknown;
  elementCount?: number;
  unexpectedCount?: number;
  unexpectedPercent?: number;
  sample?: unknown[];
  error?: string;
}

export interface VersionSummary {
  version: number;
  schemaVersion: number;
  rowCount: number;
  bytes: number;
  publishedAt: string;
  runId: string;
  task: string;
  gitCommit?: string;
  upstream: { table: string; version: number }[];
  checks: { total: number; failed: number };
}

export interface HealthView {
  state: string;
  reason: string;
}

export interface OwnerContact {
  name: string;
  description?: string;
  members?: string[];
  channels?: { type: string; to?: string[] }[];
}

export interface TableDetail {
  name: string;
  owner: string;
  /** How to reach the owner, when the API says. */
  ownerDetail?: OwnerContact;
  description?: string;
  rowFiltered?: boolean;
  columns: ColumnView[];
  currentVersion?: VersionSummary;
  health?: HealthView;
  freshness?: { warnAfter?: string; errorAfter?: string };
}

export interface ValidationsView {
  table: string;
  versions: { version: number; publishedAt: string; checks: CheckResult[] }[];
}

export interface LineageEdge {
  fromTable: string;
  fromColumn?: string;
  toTable: string;
  toColumn?: string;
  task?: string;
}

export interface LineageView {
  table: string;
  edges: LineageEdge[];
}

export interface TaskSummary {
  name: string;
  type: string;
  target: string;
  description?: string;
  schedule?: unknown;
  triggers?: unknown;
  sql?: string;
  source?: unknown;
  mode?: string;
  dependsOn?: string[];
  [key: string]: unknown;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled';

export interface Run {
  id: string;
  task: string;
  status: RunStatus;
  attempt: number;
  trigger: string;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: string;
  published?: { table: string; version: number };
  rowsWritten?: number;
  badRows?: number;
}

export interface RunLogLine {
  at: string;
  level: string;
  message: string;
}

export interface TableHealth {
  table: string;
  health: string;
  reason: string;
  owner?: string;
  incidentId?: string;
}

export interface Incident {
  id: string;
  kind: string;
  severity: string;
  table?: string;
  task?: string;
  cause: string;
  status: string;
  openedAt: string;
  eventCount: number;
}

export interface Subscription {
  table: string;
  owner: string;
  events?: string[];
  createdAt?: string;
}

export interface QueryResult {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
  truncated: boolean;
}
