import { randomBytes } from 'node:crypto';
import type { QueryAuditEntry, QueryAuditFilter } from '../model/index.ts';

export type { QueryAuditEntry, QueryAuditFilter, QueryOutcome } from '../model/index.ts';

/**
 * The query audit log (SPEC §5: "Every query is audited: who, when, what SQL, which tables and
 * columns, which masks and filters applied"). One entry per query through the governed surface,
 * allowed or not. Entries hold the user's SQL as written, never the rewritten SQL: that one names
 * storage paths (and would name the hash key if it were ever given as a literal).
 */

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
