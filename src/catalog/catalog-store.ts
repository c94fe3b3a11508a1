import type {
  AccessTokenRecord,
  SyncRefusal,
  SyncStatus,
  Delivery,
  DeliveryStatus,
  EventKind,
  Incident,
  IncidentStatus,
  MonitoringEvent,
  Subscription,
  FieldDef,
  LineageEdge,
  OwnerDef,
  PrincipalDef,
  QueryAuditEntry,
  QueryAuditFilter,
  RoleDef,
  Run,
  RunLogLine,
  RunStatus,
  SchemaVersionRecord,
  TableDef,
  TableRecord,
  TaskDef,
  Version,
} from '../model/index.ts';

/** Defined in model/ so governance/ (the token service) speaks of the same record. */
export type { AccessTokenRecord };

/** The definitions as last applied, read back from the catalog. */
export interface AppliedDefinitions {
  tables: TableRecord[];
  tasks: TaskDef[];
  owners: OwnerDef[];
  roles: RoleDef[];
  principals: PrincipalDef[];
}

/** One `apply`, written in a single transaction. */
export interface DefinitionChanges {
  /**
   * Tables to insert or update. `newSchemaVersion` is set when the schema changed and a schema version is
   * recorded (with `fields`). Without it, a new table starts at `def.schemaVersion` with `fields`, and an
   * existing table keeps its schema version and fields (an inferred projection keeps what its runs wrote).
   */
  upsertTables: { def: TableDef; fields: FieldDef[]; newSchemaVersion?: number }[];
  /** Forgets the tables and their schema versions. Their versions stay (files to retire, numbers never reused). */
  removeTables: string[];
  upsertTasks: TaskDef[];
  /** Forgets the tasks and their lineage edges; their runs stay as history. */
  removeTasks: string[];
  /** Owners, roles and principals are replaced wholesale: the repo is the source of truth. */
  owners: OwnerDef[];
  roles: RoleDef[];
  principals: PrincipalDef[];
  /**
   * Lineage edges: replaces every edge of each task named here, in `upsertTasks` or in `removeTasks`.
   * Edges of other tasks are kept (e.g. column lineage a run refined through `replaceTaskLineage`).
   */
  lineage: LineageEdge[];
  /** The Git commit of the definitions, recorded on new schema versions and on every definition written. */
  gitCommit?: string;
}

/** What a reader asks to lease: versions it resolved, and until when. */
export interface ReadLeaseRequest {
  versions: { table: string; version: number }[];
  /** Who reads, for diagnostics (`host:pid`). */
  holder: string;
  expiresAt: string;
}

/** Files held for a reader until `expiresAt`. */
export interface ReadLease {
  id: string;
  files: string[];
  expiresAt: string;
}

/**
 * What a run hands to `publishVersion`; the store numbers the version and stamps `publishedAt`.
 * `storedMasks` defaults to `{}` (every field stored raw, so readers mask it): a publisher that
 * wrote masked values says which.
 */
export interface NewVersion extends Omit<Version, 'version' | 'publishedAt'> {
  /** Columns actually written; when given they become the table's fields (the runner sends them for inferred projections). */
  fields?: FieldDef[];
  /**
   * An incremental source's new cursor (objects read, a high-water mark, stream positions), stored in
   * the same transaction as the version: it moves only when what was read up to it is published.
   */
  sourceCursor?: { task: string; cursor: unknown };
}

/**
 * A task's lease: the one run of the task that may execute now, anywhere. Taken before a run starts
 * (by `tessera run` without a server, and by a server's claim), renewed by its holder's heartbeat,
 * released when the run ends; once `expiresAt` has passed (its holder died) anyone may take it.
 */
export interface TaskLease {
  task: string;
  /** The process running it (`host:pid:nonce`). */
  owner: string;
  runId: string;
  acquiredAt: string;
  expiresAt: string;
}

/** What `acquireTaskLease` asks for. */
export interface TaskLeaseRequest {
  task: string;
  owner: string;
  runId: string;
  expiresAt: string;
  /** The time expiry is judged against (ISO-8601). Default: now. */
  now?: string;
  /** Take the lease even unexpired when this owner holds it (its process is known to be dead). */
  replacing?: string;
}

/** What `acquireTaskLease` did: the lease is ours, or `holder` has it. */
export type TaskLeaseOutcome = { acquired: true; lease: TaskLease } | { acquired: false; holder: TaskLease };

/** Which runs `listRuns` returns; every criterion is optional. */
export interface RunFilter {
  task?: string;
  status?: RunStatus;
  /** At most this many, newest first. Default: all. */
  limit?: number;
}

/**
 * The run-queue bookkeeping of a run the orchestrator schedules. A queued run is a `runs` row with
 * status `queued`; these fields say when it may start, who executes it and whether it still does.
 */
export interface RunQueueState {
  /** Runs sharing a key merge while queued: enqueueing another returns the queued one. */
  dedupeKey?: string;
  /** Not to be started before this time (a debounce window, a retry's backoff). Absent: at once. */
  notBefore?: string;
  /** The process executing it (`host:pid:nonce`); set when claimed, kept once it ends, cleared when requeued. */
  owner?: string;
  /** When the owner last confirmed it is still working on the run. */
  heartbeatAt?: string;
  /** `tessera cancel` asked to stop it while it was running; the owner stops it at its next heartbeat. */
  cancelRequested: boolean;
  /** The trigger wave it belongs to: runs caused, directly or not, by one root trigger share it. */
  wave?: string;
  /** Whether its publication triggers the tasks that read its table. Default: true. */
  downstream: boolean;
}

/** A run together with its run-queue state. */
export interface QueuedRun {
  run: Run;
  queue: RunQueueState;
}

/** What `enqueueRun` did: `created` is false when the run merged into a queued run with the same key. */
export interface EnqueueOutcome {
  queued: QueuedRun;
  created: boolean;
}

/** Orchestration state of one task, kept across restarts. */
export interface TaskState {
  task: string;
  /** Set while the task is paused: it is neither triggered nor scheduled. */
  pausedAt?: string;
  /** The fingerprint of the task's source files when a `source_change` schedule last fired. */
  sourceFingerprint?: string;
  updatedAt: string;
}

/** Definitions as applied: what `plan` diffs against and what `apply` writes. */
export interface CatalogDefinitions {
  /** Everything last applied; what `planChanges` diffs the repo against. */
  readDefinitions(): Promise<AppliedDefinitions>;
  /** Write one apply atomically. */
  applyDefinitions(changes: DefinitionChanges): Promise<void>;
}

/** Registered tables and their recorded schema versions. */
export interface CatalogTables {
  /** Registered tables, by name. */
  listTables(): Promise<TableRecord[]>;
  /** A registered table, or `undefined`. */
  getTable(name: string): Promise<TableRecord | undefined>;
  /** The table's recorded schema versions, oldest first. */
  listSchemaVersions(table: string): Promise<SchemaVersionRecord[]>;
}

/** Versions of tables: publication, reads (current, by number, as of a time) and retention. */
export interface CatalogVersions {
  /**
   * Publish: in one transaction, number the version (previous + 1), record it and move the table's
   * current pointer to it. Idempotent on `runId`: publishing the same run twice returns the first version.
   * Throws `NotFoundError` when the table is not registered (apply first).
   */
  publishVersion(version: NewVersion): Promise<Version>;
  /** One version, or `undefined`. */
  getVersion(table: string, version: number): Promise<Version | undefined>;
  /** The version the table's current pointer names; `undefined` before the first publication. */
  getCurrentVersion(table: string): Promise<Version | undefined>;
  /** The version that was current at `timestamp` (ISO-8601): the newest published at or before it. */
  getVersionAt(table: string, timestamp: string): Promise<Version | undefined>;
  /** Newest first. */
  listVersions(table: string): Promise<Version[]>;
  /**
   * Forget versions (retention); never the current one: asking for it throws `UsageError` and removes nothing.
   * Unknown numbers are ignored. Returns the removed versions so their files can be deleted.
   */
  deleteVersions(table: string, versions: number[]): Promise<Version[]>;
}

/** Runs as history, and their logs. */
export interface CatalogRuns {
  /** Record a new run (its id must be new). */
  createRun(run: Run): Promise<void>;
  /**
   * Change some fields of a run. A key present with the value `undefined` clears that field (e.g. `error`
   * on a retry). Throws `NotFoundError` for an unknown run. `events` (what the outcome means to
   * monitoring: a failure, a recovery) are recorded in the same transaction, so none is lost when the
   * process dies right after.
   */
  updateRun(id: string, patch: Partial<Omit<Run, 'id' | 'task'>>, events?: MonitoringEvent[]): Promise<void>;
  /** One run, or `undefined`. */
  getRun(id: string): Promise<Run | undefined>;
  /** Newest first (by `queuedAt`). */
  listRuns(filter?: RunFilter): Promise<Run[]>;
  /** Append lines after the lines already logged for their runs, in the order given. */
  appendRunLog(lines: RunLogLine[]): Promise<void>;
  /** A run's lines in append order. */
  readRunLog(runId: string): Promise<RunLogLine[]>;
}

/** The run queue: queued runs are `runs` rows with status `queued`, so they survive restarts. */
export interface CatalogRunQueue {
  /**
   * Record a `queued` run with its queue state. With a `dedupeKey`, if a run with that key is still
   * `queued` (not claimed), nothing is inserted and that run is returned (`created: false`).
   */
  enqueueRun(run: Run, queue: Partial<RunQueueState>): Promise<EnqueueOutcome>;
  /** Runs that are `queued` or `running`, with their queue state, oldest first (by `queuedAt`, then id). */
  listActiveRuns(): Promise<QueuedRun[]>;
  /** One run with its queue state, or `undefined`. */
  getQueuedRun(id: string): Promise<QueuedRun | undefined>;
  /**
   * Atomically (one claimer at a time, across processes) pick a run and start it: `choose` sees the
   * active runs and the tasks whose lease someone else holds unexpired, and names a `queued` one, or
   * `undefined` for none. With `lease`, the chosen run's task lease is taken for it in the same
   * transaction (until `expiresAt`); when another process took it first, nothing is claimed. The chosen run becomes `running`,
   * owned by `owner`, with `startedAt` and `heartbeatAt` now and no `finishedAt`. Returns it, or `undefined`.
   */
  claimRun(
    owner: string,
    choose: (active: QueuedRun[], leasedTasks: ReadonlySet<string>) => string | undefined,
    lease?: { expiresAt: string },
  ): Promise<QueuedRun | undefined>;
  /**
   * Record that `owner` still works on these `running` runs (others are ignored). Returns the ids among
   * them whose cancellation was requested.
   */
  heartbeatRuns(owner: string, ids: string[]): Promise<string[]>;
  /**
   * Put a run back in the queue: a `failed` attempt to retry, or a `running` run whose owner died or is
   * shutting down. It becomes `queued` with no owner, heartbeat, cancellation request or `finishedAt`;
   * `attempt`, `notBefore` and `error` as given (a key given as `undefined` clears it). Only from `running`
   * or `failed` and, when `expectedOwner` is given, when owned by it. Returns whether it did.
   */
  requeueRun(
    id: string,
    patch: { attempt?: number; notBefore?: string; error?: string },
    expectedOwner?: string,
  ): Promise<boolean>;
  /** End a run that is still `queued` (never started) as `skipped` or `cancelled` with a reason. Returns whether it did. */
  finishQueuedRun(id: string, status: 'skipped' | 'cancelled', error: string): Promise<boolean>;
  /** Ask the owner of a `running` run to cancel it. Returns false when the run is not running. */
  requestRunCancel(id: string): Promise<boolean>;
}

/** Task leases: one run of a task at a time, across processes. */
export interface CatalogTaskLeases {
  /**
   * Take the task's lease for `runId`, atomically across processes: it is taken when no one holds it,
   * when its holder's lease expired (at `now`), when `replacing` holds it, or when the same owner
   * already holds it for the same run (idempotent). Otherwise returns the current holder.
   */
  acquireTaskLease(request: TaskLeaseRequest): Promise<TaskLeaseOutcome>;
  /** Move the expiry of `owner`'s leases of these runs. Returns the run ids whose lease it still held. */
  renewTaskLeases(owner: string, runIds: string[], expiresAt: string): Promise<string[]>;
  /** End `owner`'s lease of this run, if it still holds it. Returns whether it did. */
  releaseTaskLease(runId: string, owner: string): Promise<boolean>;
  /** Every lease, expired ones included, by task name. */
  listTaskLeases(): Promise<TaskLease[]>;
}

/** Orchestration state of tasks, kept across restarts (pauses, `source_change` fingerprints). */
export interface CatalogTaskStates {
  /** A task's orchestration state; `undefined` when none was ever recorded. */
  getTaskState(task: string): Promise<TaskState | undefined>;
  /** Every recorded task state, by task name. */
  listTaskStates(): Promise<TaskState[]>;
  /** Create or change a task's state; a key given as `undefined` clears that field (e.g. `pausedAt` on resume). */
  updateTaskState(
    task: string,
    patch: Partial<Pick<TaskState, 'pausedAt' | 'sourceFingerprint'>>,
  ): Promise<TaskState>;
  /** Where an incremental source's task has read up to (set by `publishVersion`); `undefined`: from the start. */
  getSourceCursor(task: string): Promise<unknown>;
  /** Forget a task's cursor (`run --full-refresh`); true when there was one. */
  clearSourceCursor(task: string): Promise<boolean>;
}

/** Access tokens, stored as their hashes. */
export interface CatalogAccessTokens {
  /** Record a new access token (its id and hash are new). */
  createAccessToken(token: AccessTokenRecord): Promise<void>;
  /** The token with this hash (revoked and expired ones included), or `undefined`. */
  findAccessToken(tokenHash: string): Promise<AccessTokenRecord | undefined>;
  /** Every token, newest first (by `createdAt`, then id). */
  listAccessTokens(): Promise<AccessTokenRecord[]>;
  /** Mark a token revoked; false when no token has this id. Revoking again keeps the first `revokedAt`. */
  revokeAccessToken(id: string, revokedAt: string): Promise<boolean>;
}

/** The query audit log: one entry per governed query. */
export interface CatalogQueryAudit {
  /** Append one query audit entry. */
  recordQueryAudit(entry: QueryAuditEntry): Promise<void>;
  /** Audit entries newest first (by `at`, then id), optionally one principal's, at most `limit`. */
  listQueryAudit(filter?: QueryAuditFilter): Promise<QueryAuditEntry[]>;
}

/** Read leases: the files of resolved versions, held for a reader so retention leaves them. */
export interface CatalogReadLeases {
  /**
   * Lease the files of `versions` for reading until `expiresAt` (renew for longer reads, release
   * when done): retention leaves leased files in place. In one transaction, the versions are
   * checked to still exist, so a lease and the removal of its versions never cross; `undefined`
   * when one is gone (resolve the versions again).
   */
  acquireReadLease(request: ReadLeaseRequest): Promise<ReadLease | undefined>;
  /** Move a lease's expiry; false when it is gone (released, or expired and swept). */
  renewReadLease(id: string, expiresAt: string): Promise<boolean>;
  /** End a lease; unknown ids are ignored. */
  releaseReadLease(id: string): Promise<void>;
  /** The files held by leases that expire after `now` (ISO-8601). */
  leasedFiles(now: string): Promise<Set<string>>;
}

/** Files of removed versions that were leased, deleted by a later retention pass. */
export interface CatalogDeferredDeletions {
  /** Record files of removed versions that retention must delete later (they were leased). Idempotent. */
  deferFileDeletions(table: string, files: string[], at: string): Promise<void>;
  /** The files deferred for `table`, oldest first. */
  listDeferredDeletions(table: string): Promise<string[]>;
  /** Forget deferred files (deleted now). */
  forgetDeferredDeletions(files: string[]): Promise<void>;
}

/** Secrets the catalog generated for itself. */
export interface CatalogKeys {
  /**
   * The catalog's secret key named `name` (e.g. `hash`): 32 random bytes as 64 hex digits, generated
   * on the first call and the same on every later call, from any process on this catalog (the first
   * insert wins and every caller reads back the stored key). Never log it.
   */
  catalogKey(name: string): Promise<string>;
}

/** Lineage edges between tables and columns, per task. */
export interface CatalogLineage {
  /** Every lineage edge (table-level edges have no columns). */
  listLineage(): Promise<LineageEdge[]>;
  /** Replace the lineage edges produced by one task (e.g. once a projection's columns are known). */
  replaceTaskLineage(task: string, edges: LineageEdge[]): Promise<void>;
}

/** What settling one event does to incidents, in the transaction that marks it processed. */
export type IncidentChange =
  | { action: 'open'; incident: Incident }
  | { action: 'join'; incidentId: string }
  | { action: 'resolve'; incidentIds: string[]; resolvedAt: string }
  | { action: 'none' };

export interface EventSettlement {
  eventId: string;
  processedAt: string;
  change: IncidentChange;
  /** Messages to send: for `open`, one per recipient and channel; for `resolve`, the resolutions. */
  deliveries: Delivery[];
}

/** What settling did, once the transaction committed. */
export type SettlementOutcome =
  /** Another process settled the event first: nothing was written. */
  | 'already-settled'
  /** As asked. */
  | 'settled'
  /** `open` found an incident with the same key opened meanwhile: the event joined it, no deliveries. */
  | 'joined-open-incident';

export interface DeliveryFilter {
  incidentId?: string;
  status?: DeliveryStatus;
  limit?: number;
}

export interface IncidentFilter {
  status?: IncidentStatus;
  task?: string;
  table?: string;
  limit?: number;
}

/** How one delivery attempt ended. */
export type DeliveryAttempt =
  | { ok: true; at: string }
  /** `retryAt` absent: give up (the delivery is `failed`). */
  | { ok: false; at: string; error: string; retryAt?: string };

/** Events, incidents, deliveries and subscriptions (SPEC §4). */
export interface CatalogMonitoring {
  /** Record events that report no run outcome (freshness, sync); run events go with `updateRun`. */
  recordEvents(events: MonitoringEvent[]): Promise<void>;
  /** Events no notifier has settled yet, oldest first. */
  listPendingEvents(limit?: number): Promise<MonitoringEvent[]>;
  getEvent(id: string): Promise<MonitoringEvent | undefined>;
  /** Events newest first; of one incident when `incidentId` is given. */
  listEvents(filter?: { incidentId?: string; limit?: number }): Promise<MonitoringEvent[]>;
  /**
   * In one transaction: mark the event processed, apply its incident change and add its deliveries.
   * Safe when two processes settle the same event (one wins) or open the same key (one incident).
   */
  settleEvent(settlement: EventSettlement): Promise<SettlementOutcome>;
  findOpenIncident(key: string): Promise<Incident | undefined>;
  getIncident(id: string): Promise<Incident | undefined>;
  /** Incidents, newest first. */
  listIncidents(filter?: IncidentFilter): Promise<Incident[]>;
  /**
   * Queue a reminder of an open incident: add its deliveries and move `notifiedAt` to `at`, only if
   * `notifiedAt` is still `previousNotifiedAt` (so two processes never both remind). False otherwise.
   */
  remindIncident(
    id: string,
    previousNotifiedAt: string,
    at: string,
    deliveries: Delivery[],
  ): Promise<boolean>;
  /** Deliveries newest first. */
  listDeliveries(filter?: DeliveryFilter): Promise<Delivery[]>;
  /**
   * Claim up to `limit` pending deliveries due at `now` (next attempt reached, no live claim) for
   * `claimant` until `claimUntil`, oldest first. A claim that lapses (its sender died) is taken over.
   */
  claimDueDeliveries(now: string, claimant: string, claimUntil: string, limit: number): Promise<Delivery[]>;
  /** Record an attempt of a claimed delivery and release the claim. */
  recordDeliveryAttempt(id: string, attempt: DeliveryAttempt): Promise<void>;
  /** Add or replace a subscription (`events` absent: every kind). */
  subscribe(subscription: Subscription): Promise<void>;
  /** False when there was no such subscription. */
  unsubscribe(table: string, owner: string): Promise<boolean>;
  listSubscriptions(table?: string): Promise<Subscription[]>;
}

/** Git sync's state (SPEC §6): what `tessera sync status` shows. */
export interface CatalogGitSync {
  /** Record the newest head fetched from `source` (`REMOTE#BRANCH`). */
  recordSyncSeen(source: string, commit: string, at: string): Promise<void>;
  /** Record the commit whose definitions are now applied. */
  recordSyncActivated(commit: string, at: string): Promise<void>;
  /** Record a refused commit and, in the same transaction, the events that tell of it. */
  recordSyncRefusal(refusal: SyncRefusal, events: MonitoringEvent[]): Promise<void>;
  /** The active commit, the newest commit seen and the last refusal; empty before any sync. */
  readSyncStatus(): Promise<SyncStatus>;
}

/** Event kinds a subscription or channel keeps; absent = all. */
export type EventKindFilter = EventKind[] | undefined;

/**
 * The catalog: definitions as applied, versions, runs, lineage. One interface, two databases
 * (SQLite and PostgreSQL), one conformance suite (`test/catalog/catalog-store-suite.ts`).
 * Timestamps are stored and returned as ISO-8601 UTC with milliseconds (`2026-11-01T00:00:00.000Z`),
 * whatever ISO spelling was passed in; lists of definitions come back sorted by name.
 * Made of one interface per concern, so a caller can depend on just the part it uses.
 */
export interface CatalogStore
  extends
    CatalogDefinitions,
    CatalogTables,
    CatalogVersions,
    CatalogRuns,
    CatalogRunQueue,
    CatalogTaskLeases,
    CatalogTaskStates,
    CatalogAccessTokens,
    CatalogQueryAudit,
    CatalogReadLeases,
    CatalogDeferredDeletions,
    CatalogKeys,
    CatalogLineage,
    CatalogMonitoring,
    CatalogGitSync {
  /** Create or upgrade the schema. Idempotent, and safe when several processes start at once. */
  migrate(): Promise<void>;
  /** Release the connection(s). The store is unusable afterwards. */
  close(): Promise<void>;
}
