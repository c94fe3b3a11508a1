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

/** Queries this process has audited: orders entries that arrive within the same millisecond. */
let auditSequence = 0;

/**
 * A new audit entry id: the arrival time, this process's sequence number, then randomness (other
 * processes). Ids sort by arrival, also between queries that arrive within one millisecond.
 */
export function newAuditId(at: Date): string {
  auditSequence = (auditSequence + 1) % 0x1_0000_0000;
  const sequence = auditSequence.toString(16).padStart(8, '0');
  return `${at.toISOString().replace(/[-:.]/g, '')}-${sequence}-${randomBytes(4).toString('hex')}`;
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
