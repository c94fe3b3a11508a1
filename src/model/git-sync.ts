/** A pushed commit Git sync refused: nothing changed, and its author and the owners it touches were told. */
export interface SyncRefusal {
  /** The full commit sha. */
  commit: string;
  authorName: string;
  authorEmail: string;
  /** Why, naming the file and line where the repo is at fault: "schemas/x.proto:3:1: error …". */
  reason: string;
  /** When it was refused (ISO-8601 UTC). */
  refusedAt: string;
}

/** What `tessera sync status` shows: the commit the catalog runs on, the newest one seen, the last refusal. */
export interface SyncStatus {
  /** The commit whose definitions are applied, and when it was applied. */
  activeCommit?: string;
  activatedAt?: string;
  /** The newest head fetched from the remote, and when. */
  seenCommit?: string;
  seenAt?: string;
  /** `REMOTE#BRANCH` watched when the head was seen. */
  source?: string;
  lastRefusal?: SyncRefusal;
}
