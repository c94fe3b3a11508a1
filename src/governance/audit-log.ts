import { randomBytes } from 'node:crypto';
import type { MaskKind } from '../model/index.ts';

/**
 * The query audit log (SPEC §5: "Every query is audited: who, when, what SQL, which tables and
 * columns, which masks and filters applied"). One entry per query through the governed surface,
 * allowed or not. Entries hold the user's SQL as written, never the rewritten SQL: that one names
 * storage paths (and would name the hash key if it were ever given as a literal).
 */

/**
 * `allowed`: the query ran and returned rows. `refused`: governance said no (unknown principal or
 * token, a table not granted, a construct the guard refuses). `failed`: the guard accepted it but
 * the engine raised (a column that does not exist, e.g. a denied one; a division by zero).
 */
export type QueryOutcome = 'allowed' | 'refused' | 'failed';

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

/** Where audit entries are kept: the catalog store provides these methods. */
export interface QueryAuditStore {
  /** Append one entry. */
  recordQueryAudit(entry: QueryAuditEntry): Promise<void>;
  /** Entries newest first (by `at`, then `id`). */
  listQueryAudit(filter?: QueryAuditFilter): Promise<QueryAuditEntry[]>;
}

/** A new audit entry id: the arrival time, then randomness, so ids sort by time. */
export function newAuditId(at: Date): string {
  return `${at.toISOString().replace(/[-:.]/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * A message fit for the audit log: every occurrence of the given directories (the warehouse) is
 * replaced by `<storage>`. Engine messages are already stripped of the SQL they quote
 * (`sanitizeEngineErrorMessage`), but a message about a file names its path.
 */
export function redactStoragePaths(message: string, directories: readonly string[]): string {
  let redacted = message;
  // Longest first, so a nested directory is not left half replaced by its parent.
  for (const directory of [...directories].sort((a, b) => b.length - a.length)) {
    if (directory) redacted = redacted.split(directory).join('<storage>');
  }
  return redacted;
}
